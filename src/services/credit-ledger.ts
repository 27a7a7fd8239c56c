import type { CreditCharge, Store } from '../store/types.ts';

/** The charges of one write, and how to tell their verifications that it is done. */
interface Batch {
  charges: CreditCharge[];
  committed: Promise<void>;
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
  #next: Batch | undefined;
  #writing: Promise<void> | undefined;

  constructor(private readonly store: Store) {}

  /**
   * Resolves once the charge is committed; rejects with the store's error when it is not. Every
   * charge of a batch shares its promise.
   */
  record(charge: CreditCharge): Promise<void> {
    if (this.#next === undefined) {
      this.#next = newBatch();
      if (!this.#writing) setImmediate(this.#flush);
    }
    this.#next.charges.push(charge);
    return this.#next.committed;
  }

  /** Resolves when every charge recorded so far is committed (or has failed). */
  async drain(): Promise<void> {
    while (this.#writing || this.#next) {
      if (!this.#writing) this.#flush();
      await this.#writing;
    }
  }

  readonly #flush = (): void => {
    const batch = this.#next;
    if (batch === undefined || this.#writing) return;
    this.#next = undefined;

    this.#writing = this.store
      .applyCreditCharges(mergeCharges(batch.charges))
      .then(batch.settle, batch.fail)
      .finally(() => {
        this.#writing = undefined;
        this.#flush();
      });
  };
}

function newBatch(): Batch {
  let settle: () => void = () => {};
  let fail: (error: unknown) => void = () => {};
  const committed = new Promise<void>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  return { charges: [], committed, settle, fail };
}

/** Sums the charges of one balance at one refill time, keeping the order of first arrival. */
function mergeCharges(charges: readonly CreditCharge[]): CreditCharge[] {
  const merged = new Map<string, CreditCharge>();
  for (const charge of charges) {
    const { balanceId, refill } = charge;
    const key = refill === null ? balanceId : `${balanceId}@${refill.at}`;
    const earlier = merged.get(key);
    if (earlier) earlier.cost += charge.cost;
    else merged.set(key, { ...charge });
  }
  return [...merged.values()];
}
