import { type Static, Type } from 'typebox';

/**
 * Text without control characters (they break logs and some databases) or unpaired UTF-16
 * surrogates (no database can store them as sent). Ajv matches in Unicode mode, where a
 * surrogate range matches only unpaired halves.
 */
const PRINTABLE = '^[^\\u0000-\\u001f\\u007f\\uD800-\\uDFFF]*$';
const PERMISSION = '^[A-Za-z0-9_.:*-]+$';
const ID = '^[A-Za-z0-9_]+$';
const PREFIX = '^[a-z0-9_]+$';

/** What a value failing each pattern should be told, in words rather than a regular expression. */
export const PATTERN_MESSAGES: Record<string, string> = {
  [PRINTABLE]: 'must not contain control characters or unpaired surrogates',
  [PERMISSION]: 'may contain only letters, digits and _ . : * -',
  [ID]: 'may contain only letters, digits and _',
  [PREFIX]: 'may contain only a-z, 0-9 and _',
};

export const Name = Type.String({ minLength: 1, maxLength: 200, pattern: PRINTABLE });
export const ExternalId = Type.String({ minLength: 1, maxLength: 256, pattern: PRINTABLE });
/** A label a verification is counted under in usage. */
export const Tag = Type.String({ minLength: 1, maxLength: 128, pattern: PRINTABLE });
export const Permission = Type.String({
  minLength: 1,
  maxLength: 256,
  pattern: PERMISSION,
  description: 'Dot-separated name; `*` matches one segment, or the rest as the last segment.',
});
export const Permissions = Type.Array(Permission, { maxItems: 1000, uniqueItems: true });
export const Meta = Type.Record(Type.String(), Type.Unknown(), {
  description: 'Any JSON object, at most 16 KiB as JSON.',
});
export const Timestamp = Type.String({ format: 'date-time', description: 'ISO 8601, UTC' });
export const Id = Type.String({ minLength: 1, maxLength: 64, pattern: ID });
export const Prefix = Type.String({ minLength: 1, maxLength: 20, pattern: PREFIX });
const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Positive = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });

export const RateLimit = Type.Object(
  {
    name: Name,
    limit: Positive,
    duration: Type.Integer({ minimum: 1, maximum: 31 * 24 * 3600 * 1000, description: 'ms' }),
    algorithm: Type.Optional(
      Type.Union([Type.Literal('sliding-window'), Type.Literal('token-bucket')]),
    ),
    burst: Type.Optional(Positive),
    autoApply: Type.Optional(Type.Boolean()),
    shadow: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const RateLimits = Type.Array(RateLimit, { maxItems: 50 });

export const Credits = Type.Object(
  {
    remaining: Count,
    refill: Type.Optional(
      Type.Object(
        {
          interval: Type.Union([
            Type.Literal('daily'),
            Type.Literal('monthly'),
            Type.Literal('never'),
          ]),
          amount: Count,
          day: Type.Optional(Type.Integer({ minimum: 1, maximum: 31 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** A change to a credit balance; `decrement` stops at 0. */
export const CreditsChange = Type.Object(
  {
    op: Type.Union([Type.Literal('set'), Type.Literal('increment'), Type.Literal('decrement')]),
    value: Count,
  },
  { additionalProperties: false },
);

/** The query of every list: page size and the cursor of the previous page. */
export const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);

/** A page of records. */
export function PageOf<T extends Parameters<typeof Type.Array>[0]>(item: T) {
  return Type.Object({
    items: Type.Array(item),
    nextCursor: Type.Union([Type.String(), Type.Null()]),
  });
}

export const Nullable = <T extends Parameters<typeof Type.Array>[0]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const Problem = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    requestId: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { description: 'RFC 9457 problem details' },
);

export type RateLimitInput = Static<typeof RateLimit>;
export type CreditsInput = Static<typeof Credits>;
