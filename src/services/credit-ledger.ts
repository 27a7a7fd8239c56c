import { lastRefillBoundary } from '../core/refill.ts';
import type { Clock } from '../core/time.ts';
import type { CreditChargeResult, CreditsConfig, Store } from '../store/types.ts';

/** The balance a verification draws on: its id and its refill rule. */
export interface BalanceRef {
  id: string;
  refill: CreditsConfig['refill'] | null | undefined;
}

interface PendingCharge {
  balanceId: string;
  cost: number;
  refillBoundary: number | null;
  refillAmount: number | null;
  settle(result: CreditChargeResult): void;
  fail(error: unknown): void;
}

/**
 * Charges credits durably before a verification answers, with group commit: the charges that
 * arrive while one batch is being written go to the store together in the next transaction,
 * so one write serves many concurrent verifications and every answer still waits for its own
 * charge to be committed.
 */
export class CreditLedger {
  #pending: PendingCharge[] = [];
  #writing: Promise<void> | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Charges `cost` to a balance; resolves once the charge (or its refusal) is committed. */
  charge(balance: BalanceRef, cost: number): Promise<CreditChargeResult> {
    const refill = balance.refill ?? undefined;
    const refillBoundary = refill ? lastRefillBoundary(refill, this.clock()) : null;

    return new Promise((settle, fail) => {
      this.#pending.push({
        balanceId: balance.id,
        cost,
        refillBoundary,
        refillAmount: refillBoundary === null ? null : (refill?.amount ?? null),
        settle,
        fail,
      });
      if (this.#pending.length === 1 && !this.#writing) setImmediate(() => this.#flush());
    });
  }

  /** Resolves when every charge taken so far is committed. */
  async drain(): Promise<void> {
    while (this.#writing || this.#pending.length > 0) {
      if (!this.#writing) this.#flush();
      await this.#writing;
    }
  }

  #flush(): void {
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];

    this.#writing = this.store
      .chargeCredits(batch)
      .then(
        (results) => batch.forEach((charge, i) => charge.settle(results[i] ?? noBalance)),
        (error: unknown) => batch.forEach((charge) => charge.fail(error)),
      )
      .finally(() => {
        this.#writing = undefined;
        this.#flush();
      });
  }
}

const noBalance: CreditChargeResult = { charged: false, remaining: null };
