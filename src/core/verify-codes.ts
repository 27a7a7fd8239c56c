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
  return {
    MALFORMED: 0,
    NOT_FOUND: 0,
    REVOKED: 0,
    DISABLED: 0,
    EXPIRED: 0,
    INSUFFICIENT_PERMISSIONS: 0,
    RATE_LIMITED: 0,
    USAGE_EXCEEDED: 0,
    VALID: 0,
  };
}
