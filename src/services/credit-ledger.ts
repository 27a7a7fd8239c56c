import type { CreditCharge, Store } from '../store/types.ts';

interface PendingCharge {
  charge: CreditCharge;
  settle(): void;
  fail(error: unknown): void;
}

/**
 * Makes the credit charges of verifications durable before they are answered, with group
 * commit: the charges that arrive while one batch is being written go to the store together in
 * the next transaction, so one write serves many concurrent verifications and every answer still
 * waits for its own charge. Charges of one balance in a batch are summed into one update.
 */
export class CreditLedger {
  #pending: PendingCharge[] = [];
  #writing: Promise<void> | undefined;

  constructor(private readonly store: Store) {}

  /** Resolves once the charge is committed; rejects with the store's error when it is not. */
  record(charge: CreditCharge): Promise<void> {
    return new Promise((settle, fail) => {
      this.#pending.push({ charge, settle, fail });
      if (this.#pending.length === 1 && !this.#writing) setImmediate(() => this.#flush());
    });
  }

  /** Resolves when every charge recorded so far is committed (or has failed). */
  async drain(): Promise<void> {
    while (this.#writing || this.#pending.length > 0) {
      if (!this.#writing) this.#flush();
      await this.#writing;
    }
  }

  #flush(): void {
    const batch = this.#pending;
    if (batch.length === 0 || this.#writing) return;
    this.#pending = [];

    this.#writing = this.store
      .applyCreditCharges(mergeCharges(batch.map((pending) => pending.charge)))
      .then(
        () => {
          for (const pending of batch) pending.settle();
        },
        (error: unknown) => {
          for (const pending of batch) pending.fail(error);
        },
      )
      .finally(() => {
        this.#writing = undefined;
        this.#flush();
      });
  }
}

/** Sums the charges of one balance at one refill time, keeping the order of first arrival. */
function mergeCharges(charges: readonly CreditCharge[]): CreditCharge[] {
  const merged = new Map<string, CreditCharge>();
  for (const charge of charges) {
    const key = `${charge.balanceId}@${charge.refill?.at ?? ''}`;
    const earlier = merged.get(key);
    if (earlier) earlier.cost += charge.cost;
    else merged.set(key, { ...charge });
  }
  return [...merged.values()];
}
