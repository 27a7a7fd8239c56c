import { newId } from '../core/ids.ts';
import type { Clock } from '../core/time.ts';
import type { CreditBalanceRecord, CreditsConfig, StoreQueries } from '../store/types.ts';
import { KeygateError } from './errors.ts';

/** How a credits request changes a balance; `decrement` stops at 0. */
export type CreditsOperation = 'set' | 'increment' | 'decrement';

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

  /** Sets, adds to or takes from a balance; an owner without one has unlimited credits. */
  async adjust(
    tx: StoreQueries,
    workspaceId: string,
    balanceId: string | null,
    op: CreditsOperation,
    value: number,
  ): Promise<CreditBalanceRecord> {
    if (balanceId === null) throw unlimited(op);

    const adjusted = await tx.adjustCredits(workspaceId, balanceId, op, value, this.clock());
    if (!adjusted) throw unlimited(op);
    return adjusted;
  }
}

function unlimited(op: CreditsOperation): KeygateError {
  return new KeygateError(
    'CONFLICT',
    `credits are unlimited here, so there is nothing to ${op}; set credits on it first`,
  );
}
