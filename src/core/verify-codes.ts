/** Every answer a verification can give, in the order the checks run. */
export const VERIFY_CODES = [
  'MALFORMED',
  'NOT_FOUND',
  'REVOKED',
  'DISABLED',
  'EXPIRED',
  'INSUFFICIENT_PERMISSIONS',
  'RATE_LIMITED',
  'USAGE_EXCEEDED',
  'VALID',
] as const;

export type VerifyCode = (typeof VERIFY_CODES)[number];

/** Verifications by verify code. */
export type CodeCounts = Record<VerifyCode, number>;

/** Counts of zero for every code. */
export function zeroCounts(): CodeCounts {
  return Object.fromEntries(VERIFY_CODES.map((code) => [code, 0])) as CodeCounts;
}
