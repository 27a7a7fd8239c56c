import { type Kysely, sql } from 'kysely';
import { type CodeCounts, VERIFY_CODES, type VerifyCode } from '../core/verify-codes.ts';
import type { Database, UsageCountsTable } from './schema.ts';
import type {
  KeyUse,
  UsageBucket,
  UsageGranularity,
  UsageIncrement,
  UsageQuery,
  UsageRank,
  UsageScope,
  UsageTopQuery,
} from './types.ts';

/** The column of a verify code: its name in lower case. */
type CodeColumn = Lowercase<VerifyCode>;

function columnOf(code: VerifyCode): CodeColumn {
  return code.toLowerCase() as CodeColumn;
}

const CODE_COLUMNS = VERIFY_CODES.map(columnOf) satisfies (keyof UsageCountsTable)[];

/** The columns that name one bucket of one series: the primary key of `usage_counts`. */
const BUCKET_KEY = [
  'workspace_id',
  'granularity',
  'api_id',
  'key_id',
  'external_id',
  'tag',
  'bucket',
] as const;

/** Rows per statement: well under SQLite's 32,766 and PostgreSQL's 65,535 parameters. */
const ROWS_PER_STATEMENT = 500;

/** Reads and writes of usage counts and of keys' `lastUsedAt`, the same on every database. */
export function usageQueries(db: Kysely<Database>) {
  return {
    async addUsage(increments: readonly UsageIncrement[]): Promise<void> {
      for (const rows of chunks(increments, ROWS_PER_STATEMENT)) {
        await db
          .insertInto('usage_counts')
          .values(rows.map(usageRow))
          .onConflict((conflict) =>
            conflict.columns([...BUCKET_KEY]).doUpdateSet((eb) => {
              const sums = CODE_COLUMNS.map((column) => [
                column,
                eb(`usage_counts.${column}`, '+', eb.ref(`excluded.${column}`)),
              ]);
              return Object.fromEntries(sums);
            }),
          )
          .execute();
      }
    },

    async readUsage(query: UsageQuery): Promise<UsageBucket[]> {
      const rows = await inSeries(db, query, query)
        .select(['bucket', ...CODE_COLUMNS])
        .orderBy('bucket')
        .execute();

      return rows.map((row) => ({ bucket: Number(row.bucket), counts: countsOf(row) }));
    },

    async rankUsage(query: UsageTopQuery): Promise<UsageRank[]> {
      const column = query.by === 'key' ? 'key_id' : 'external_id';
      const everyKey: UsageScope = { apiId: '', keyId: '', externalId: '', tag: '' };
      const counted = sql.join(
        query.codes.map((code) => sql.ref(columnOf(code))),
        sql` + `,
      );
      const rows = await inSeries(db, query, everyKey, column)
        .select((eb) => [
          eb.ref(column).as('id'),
          sql<number | string>`sum(${counted})`.as('total'),
        ])
        .groupBy(column)
        .having(sql`sum(${counted})`, '>', 0)
        .orderBy('total', 'desc')
        .orderBy(column)
        .limit(query.limit)
        .execute();

      return rows.map((row) => ({ id: row.id, count: Number(row.total) }));
    },

    async pruneUsage(granularity: UsageGranularity, before: number): Promise<number> {
      const result = await db
        .deleteFrom('usage_counts')
        .where('granularity', '=', granularity)
        .where('bucket', '<', before)
        .executeTakeFirst();

      return Number(result.numDeletedRows);
    },

    async recordKeyUses(uses: readonly KeyUse[]): Promise<void> {
      for (const batch of chunks(uses, ROWS_PER_STATEMENT)) {
        const values = sql.join(batch.map((use) => sql`(${use.keyId}, cast(${use.at} as bigint))`));
        await sql`
          with used (id, at) as (values ${values})
          update keys set last_used_at = used.at
          from used
          where keys.id = used.id and (keys.last_used_at is null or keys.last_used_at < used.at)
        `.execute(db);
      }
    },
  };
}

/**
 * The rows of one series of a workspace in a range of buckets. With `ranked`, that column is
 * the one ranked over instead: any value but `''`, every other field of the scope `''`.
 */
function inSeries(
  db: Kysely<Database>,
  range: { workspaceId: string; granularity: UsageGranularity; from: number; to: number },
  scope: UsageScope,
  ranked?: 'key_id' | 'external_id',
) {
  const fields = {
    api_id: scope.apiId,
    key_id: scope.keyId,
    external_id: scope.externalId,
    tag: scope.tag,
  };
  let query = db
    .selectFrom('usage_counts')
    .where('workspace_id', '=', range.workspaceId)
    .where('granularity', '=', range.granularity);
  for (const [column, value] of Object.entries(fields) as [keyof typeof fields, string][]) {
    query = query.where(column, column === ranked ? '<>' : '=', value);
  }
  return query.where('bucket', '>=', range.from).where('bucket', '<', range.to);
}

function usageRow(increment: UsageIncrement) {
  const counts = Object.fromEntries(
    VERIFY_CODES.map((code) => [columnOf(code), increment.counts[code] ?? 0]),
  ) as Record<CodeColumn, number>;
  return {
    workspace_id: increment.workspaceId,
    granularity: increment.granularity,
    api_id: increment.apiId,
    key_id: increment.keyId,
    external_id: increment.externalId,
    tag: increment.tag,
    bucket: increment.bucket,
    ...counts,
  };
}

function countsOf(row: Record<CodeColumn, number | string>): CodeCounts {
  return Object.fromEntries(
    VERIFY_CODES.map((code) => [code, Number(row[columnOf(code)])]),
  ) as CodeCounts;
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size);
}
