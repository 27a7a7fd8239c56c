import { type CompiledQuery, type Expression, type Kysely, sql } from 'kysely';
import type { Database } from './schema.ts';
import type { CreditCharge } from './types.ts';

/** The values a charge's statement takes, in the places the statement puts them. */
interface ChargeValues {
  balanceId: string;
  cost: number;
  /** The last refill time the charge was made after; `null` for a balance that never refills. */
  refillAt: number | null;
  /** What the balance holds when this charge is the first since that refill. */
  refilledRemaining: number;
}

type ValueName = keyof ChargeValues;

/**
 * Values no real charge has, standing in for a charge's own when its statement is compiled;
 * each is then found among the compiled statement's parameters.
 */
const PLACEHOLDERS: Readonly<Record<ValueName, string | number>> = {
  balanceId: '\u0000balance',
  cost: -1_000_001,
  refillAt: -1_000_002,
  refilledRemaining: -1_000_003,
};

/** A compiled statement, and which value goes into each of its parameters. */
interface ChargeStatement {
  compiled: CompiledQuery;
  values: ValueName[];
}

/**
 * The statements that make credit charges durable, compiled once per database and run again
 * with each charge's values. Building and compiling a query with Kysely takes about as long as
 * SQLite takes to run this one, and it runs for every batch of verifications that spend credits.
 */
export class CreditChargeStatements {
  #plain: ChargeStatement | undefined;
  #refilling: ChargeStatement | undefined;

  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Makes one charge durable on `db` (the database or a transaction of it): refilled first when
   * a refill time has passed since the last refill, then reduced by the cost, stopping at 0.
   */
  async apply(db: Kysely<Database>, charge: CreditCharge): Promise<void> {
    const { balanceId, cost, refill } = charge;
    const values: ChargeValues = {
      balanceId,
      cost,
      refillAt: refill?.at ?? null,
      refilledRemaining: refill ? Math.max(0, refill.amount - cost) : 0,
    };
    const statement = this.#statement(refill !== null);
    const parameters = statement.values.map((name) => values[name]);
    await db.executeQuery({ ...statement.compiled, parameters });
  }

  #statement(refilling: boolean): ChargeStatement {
    if (refilling) {
      this.#refilling ??= compileCharge(this.db, true);
      return this.#refilling;
    }
    this.#plain ??= compileCharge(this.db, false);
    return this.#plain;
  }
}

function compileCharge(db: Kysely<Database>, refilling: boolean): ChargeStatement {
  const { balanceId, cost, refillAt, refilledRemaining } = PLACEHOLDERS;
  const remaining = sql.ref('remaining');
  const update = db.updateTable('credit_balances').where('id', '=', String(balanceId));

  const compiled = refilling
    ? update.set(refilledThenSpent(remaining, cost, refillAt, refilledRemaining)).compile()
    : update.set({ remaining: spend(remaining, cost) }).compile();
  return { compiled, values: compiled.parameters.map(placeholderName) };
}

/** Refilled to `refilledRemaining` when `refillAt` has passed since the last refill, else spent. */
function refilledThenSpent(
  remaining: Expression<unknown>,
  cost: unknown,
  refillAt: unknown,
  refilledRemaining: unknown,
) {
  const due = sql`refilled_at < cast(${refillAt} as bigint)`;
  return {
    remaining: sql<number>`case when ${due} then cast(${refilledRemaining} as bigint)
      else ${spend(remaining, cost)} end`,
    refilled_at: sql<number>`case when ${due} then cast(${refillAt} as bigint)
      else refilled_at end`,
  };
}

/** `value - cost`, stopping at 0, in SQL that both databases read alike. */
function spend(value: Expression<unknown>, cost: unknown) {
  return sql<number>`case when ${value} > cast(${cost} as bigint)
    then ${value} - cast(${cost} as bigint) else 0 end`;
}

function placeholderName(parameter: unknown): ValueName {
  const names = Object.keys(PLACEHOLDERS) as ValueName[];
  const name = names.find((candidate) => PLACEHOLDERS[candidate] === parameter);
  if (name === undefined) {
    throw new Error(`a credit charge statement has a parameter of its own: ${String(parameter)}`);
  }
  return name;
}
