import { Type } from 'typebox';
import type { Keygate } from '../../services/keygate.ts';
import { type CodeCounts, USAGE_CODES, type UsageSeries } from '../../services/usage.ts';
import { VERIFY_CODES } from '../../services/verify.ts';
import type { Router } from '../router.ts';
import { ExternalId, Id, Tag, Timestamp } from '../schemas.ts';
import { fromIso, iso } from '../views.ts';

const Granularity = Type.Union(
  [Type.Literal('minute'), Type.Literal('hour'), Type.Literal('day')],
  { description: 'bucket size; `hour` by default' },
);

const RangeQuery = {
  from: Type.Optional({ ...Timestamp, description: 'rounded down to its bucket; 24 h before to' }),
  to: Type.Optional({ ...Timestamp, description: 'now by default' }),
  granularity: Type.Optional(Granularity),
};

const UsageQuery = Type.Object(
  {
    apiId: Type.Optional(Id),
    keyId: Type.Optional(Id),
    externalId: Type.Optional(ExternalId),
    tag: Type.Optional(Tag),
    ...RangeQuery,
  },
  { additionalProperties: false },
);

const Counts = Type.Object(
  Object.fromEntries(USAGE_CODES.map((code) => [code, Type.Integer()])) as Record<
    string,
    ReturnType<typeof Type.Integer>
  >,
  { description: 'verifications by verify code, zeros included' },
);

const UsageView = Type.Object({
  granularity: Granularity,
  from: Timestamp,
  to: Timestamp,
  series: Type.Array(Type.Object({ time: Timestamp, counts: Counts })),
  totals: Counts,
});

const TopQuery = Type.Object(
  {
    by: Type.Optional(Type.Union([Type.Literal('key'), Type.Literal('identity')])),
    metric: Type.Optional(
      Type.Union(
        [
          Type.Literal('verifications'),
          Type.Literal('denials'),
          ...VERIFY_CODES.map((code) => Type.Literal(code)),
        ],
        { description: 'what to rank by: every verification, the denied ones, or one code' },
      ),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })),
    ...RangeQuery,
  },
  { additionalProperties: false },
);

const TopView = Type.Object({
  by: Type.String(),
  metric: Type.String(),
  granularity: Granularity,
  from: Timestamp,
  to: Timestamp,
  items: Type.Array(Type.Object({ id: Type.String(), count: Type.Integer() })),
});

/** The usage as CSV: `time` and a column per verify code, a row per bucket. */
function usageCsv(usage: UsageSeries): string {
  const row = (time: string, counts: CodeCounts) =>
    [time, ...USAGE_CODES.map((code) => counts[code])].join(',');
  const rows = usage.series.map((point) => row(iso(point.time), point.counts));
  return `${['time', ...USAGE_CODES].join(',')}\n${rows.map((line) => `${line}\n`).join('')}`;
}

function usageView(usage: UsageSeries) {
  return {
    granularity: usage.granularity,
    from: iso(usage.from),
    to: iso(usage.to),
    series: usage.series.map((point) => ({ time: iso(point.time), counts: point.counts })),
    totals: usage.totals,
  };
}

function rangeOf(query: { from?: string; to?: string }) {
  return { from: fromIso('query.from', query.from), to: fromIso('query.to', query.to) };
}

export function registerUsageRoutes(app: Router, keygate: Keygate): void {
  app.get(
    '/usage',
    {
      schema: {
        tags: ['usage'],
        summary: 'Verifications by verify code, bucket by bucket; CSV with `Accept: text/csv`',
        querystring: UsageQuery,
        response: {
          200: {
            content: {
              'application/json': { schema: UsageView },
              'text/csv': { schema: Type.String({ description: 'time, then a column per code' }) },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const { from, to, ...filter } = request.query;
      const usage = await keygate.usage.series(request.actor, {
        ...filter,
        ...rangeOf({ from, to }),
      });
      if (!/\btext\/csv\b/i.test(request.headers.accept ?? '')) return usageView(usage);

      return reply.type('text/csv; charset=utf-8').send(usageCsv(usage));
    },
  );

  app.get(
    '/usage/top',
    {
      schema: {
        tags: ['usage'],
        summary: 'The keys or identities with the most verifications, or denials, in a range',
        querystring: TopQuery,
        response: { 200: TopView },
      },
    },
    async (request) => {
      const { from, to, by, ...rest } = request.query;
      const top = await keygate.usage.top(request.actor, {
        ...rest,
        by: by ?? 'key',
        ...rangeOf({ from, to }),
      });
      return { ...top, from: iso(top.from), to: iso(top.to) };
    },
  );
}
