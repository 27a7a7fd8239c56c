import { refillCredits } from '../core/credits.ts';
import { newId } from '../core/ids.ts';
import { lastRefillBoundary } from '../core/refill.ts';
import type { Clock } from '../core/time.ts';
import type {
  CreditBalanceRecord,
  CreditCharge,
  CreditsConfig,
  OwnedCredits,
  StoreQueries,
} from '../store/types.ts';
import { invalidField, KeygateError } from './errors.ts';

/** How a credits request changes a balance; `decrement` stops at 0. */
export type CreditsOperation = 'set' | 'increment' | 'decrement';

/** The cache and channel key of a credit balance. */
export function balanceCacheKey(balanceId: string): string {
  return `balance:${balanceId}`;
}

/** What a verification's charge writes to the store, refill included. */
export function creditCharge(
  balance: CreditBalanceRecord,
  cost: number,
  now: number,
): CreditCharge {
  const at = balance.refill ? lastRefillBoundary(balance.refill, now) : null;
  const refill = balance.refill && at !== null ? { at, amount: balance.refill.amount } : null;
  return { balanceId: balance.id, cost, refill };
}

/** A balance as stored, refilled to `now`, the way keys and identities show it. */
export function creditsAt(credits: OwnedCredits, now: number): CreditsConfig {
  const { refill, refilledAt } = credits;
  const live = { remaining: credits.remaining, version: 0, refilledAt, refill: refill ?? null };
  const { remaining } = refillCredits(live, now);
  return refill ? { remaining, refill } : { remaining };
}

/** Writes credit balances for keys and identities, inside the caller's transaction. */
export class CreditBalances {
  constructor(private readonly clock: Clock) {}

  /** A new balance holding `credits.remaining`, counted as refilled now. */
  async create(tx: StoreQueries, workspaceId: string, credits: CreditsConfig): Promise<string> {
    const now = this.clock();
    const record: CreditBalanceRecord = {
      id: newId('bal', now),
      workspaceId,
      remaining: credits.remaining,
      refill: credits.refill ?? null,
      refilledAt: now,
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    await tx.insertCreditBalance(record);
    return record.id;
  }

  /**
   * Applies new credit settings to an owner's balance and answers the balance id to keep:
   * `null` clears (the owner becomes unlimited), `undefined` keeps what there is.
   */
  async replace(
    tx: StoreQueries,
    workspaceId: string,
    current: string | null,
    credits: CreditsConfig | null | undefined,
  ): Promise<string | null> {
    if (credits === undefined) return current;
    if (credits === null) return null;
    if (current === null) return this.create(tx, workspaceId, credits);

    const now = this.clock();
    const patch = {
      remaining: credits.remaining,
      refill: credits.refill ?? null,
      refilledAt: now,
      updatedAt: now,
    };
    const updated = await tx.updateCreditBalance(workspaceId, current, patch);
    return updated ? current : this.create(tx, workspaceId, credits);
  }

  /**
   * Sets, adds to or takes from a balance, refilled first if a refill time has passed. A balance
   * that does not exist means unlimited credits, which cannot be changed this way.
   */
  async adjust(
    tx: StoreQueries,
    workspaceId: string,
    balanceId: string | null,
    op: CreditsOperation,
    value: number,
  ): Promise<CreditBalanceRecord> {
    const stored = balanceId && (await tx.getCreditBalance(workspaceId, balanceId));
    if (!stored) throw unlimited(op);

    const now = this.clock();
    const balance = refillCredits(stored, now);
    const remaining = adjusted(balance.remaining, op, value);
    const refilledAt = op === 'set' ? now : balance.refilledAt;
    const patch = { remaining, refill: balance.refill, refilledAt, updatedAt: now };
    const updated = await tx.updateCreditBalance(workspaceId, stored.id, patch);
    if (!updated) throw unlimited(op);
    return updated;
  }
}

function adjusted(remaining: number, op: CreditsOperation, value: number): number {
  if (op === 'set') return value;
  if (op === 'decrement') return Math.max(0, remaining - value);

  const sum = remaining + value;
  if (sum > Number.MAX_SAFE_INTEGER) {
    throw invalidField('value', `would take the balance past ${Number.MAX_SAFE_INTEGER}`);
  }
  return sum;
}

function unlimited(op: CreditsOperation): KeygateError {
  return new KeygateError(
    'CONFLICT',
    `credits are unlimited here, so there is nothing to ${op}; set credits on it first`,
  );
}
