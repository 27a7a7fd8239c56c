import { Type } from 'typebox';
import type { Soon } from '../../core/soon.ts';
import type { Actor } from '../../services/actor.ts';
import type { Keygate } from '../../services/keygate.ts';
import {
  VERIFY_CODES,
  type VerifyCode,
  type VerifyOutcome,
  type VerifyRequest,
} from '../../services/verify.ts';
import type { KeyRecord } from '../../store/types.ts';
import type { KeygateMetrics } from '../metrics.ts';
import type { Router } from '../router.ts';
import { Id, Meta, Nullable, Tag } from '../schemas.ts';
import { iso } from '../views.ts';

/** The body of a verify request; the Fastify route and the fast path both validate by it. */
export const VerifyBody = Type.Object(
  {
    key: Type.String({ minLength: 1, maxLength: 512 }),
    apiId: Type.Optional(Id),
    permissions: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 1000,
        description: 'e.g. `read AND (write OR admin)`',
      }),
    ),
    cost: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 1 })),
    ratelimits: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            cost: Type.Optional(Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })),
          },
          { additionalProperties: false },
        ),
        { maxItems: 50 },
      ),
    ),
    tags: Type.Optional(
      Type.Array(Tag, {
        maxItems: 20,
        description: 'labels to count the verification under in usage',
      }),
    ),
  },
  { additionalProperties: false },
);

const LimitStanding = Type.Object({
  name: Type.String(),
  limit: Type.Integer(),
  duration: Type.Integer(),
  remaining: Type.Integer(),
  resetAt: Type.String({ format: 'date-time' }),
  exceeded: Type.Boolean({ description: 'This limit denies, or would if it is a shadow limit' }),
});

const VerifyResult = Type.Object({
  valid: Type.Boolean(),
  code: Type.Unsafe<VerifyCode>({ type: 'string', enum: [...VERIFY_CODES] }),
  keyId: Type.Optional(Type.String()),
  apiId: Type.Optional(Type.String()),
  name: Type.Optional(Nullable(Type.String())),
  externalId: Type.Optional(Nullable(Type.String())),
  meta: Type.Optional(Nullable(Meta)),
  permissions: Type.Optional(Type.Array(Type.String())),
  enabled: Type.Optional(Type.Boolean()),
  expiresAt: Type.Optional(Nullable(Type.String())),
  credits: Type.Optional(
    Type.Object({ remaining: Nullable(Type.Integer({ description: '`null`: unlimited' })) }),
  ),
  ratelimits: Type.Optional(Type.Array(LimitStanding)),
});

/** The answer to a verification: the code, and the key's details when it was found. */
export function verifyResult(outcome: VerifyOutcome) {
  const { key } = outcome;
  if (!key) return { valid: outcome.valid, code: outcome.code };

  return {
    valid: outcome.valid,
    code: outcome.code,
    ...keyDetails(key),
    credits: { remaining: outcome.creditsRemaining ?? null },
    ratelimits: (outcome.ratelimits ?? []).map((limit) => ({
      name: limit.name,
      limit: limit.limit,
      duration: limit.duration,
      remaining: limit.remaining,
      resetAt: iso(limit.resetAt),
      exceeded: limit.exceeded,
    })),
  };
}

/** What an answer shows of the key it found. */
function keyDetails(key: KeyRecord) {
  return {
    keyId: key.id,
    apiId: key.apiId,
    name: key.name,
    externalId: key.externalId,
    meta: key.meta,
    permissions: key.permissions,
    enabled: key.enabled,
    expiresAt: iso(key.expiresAt),
  };
}

type LimitOutcome = NonNullable<VerifyOutcome['ratelimits']>[number];

/** The details of a key that every answer about it repeats, as JSON members, by key record. */
const keyMembers = new WeakMap<KeyRecord, string>();

/**
 * `JSON.stringify(verifyResult(outcome))`, to the character, at a third of its cost: a key's
 * details are written once per cached record (records are replaced, never changed in place),
 * and the rest by hand. Verification is the hot path, and Node 20's `JSON.stringify` spends
 * about 60 ns on every member.
 */
export function verifyResultJson(outcome: VerifyOutcome): string {
  const { key } = outcome;
  const head = `{"valid":${outcome.valid},"code":"${outcome.code}"`;
  if (!key) return `${head}}`;

  let members = keyMembers.get(key);
  if (members === undefined) {
    members = JSON.stringify(keyDetails(key)).slice(1, -1);
    keyMembers.set(key, members);
  }
  const credits = `"credits":{"remaining":${jsonNumber(outcome.creditsRemaining ?? null)}}`;
  return `${head},${members},${credits},"ratelimits":${limitsJson(outcome.ratelimits ?? [])}}`;
}

function limitsJson(limits: readonly LimitOutcome[]): string {
  if (limits.length === 0) return '[]';

  let text = '';
  for (const limit of limits) {
    const standing = `${jsonNumber(limit.remaining)},"resetAt":"${iso(limit.resetAt)}"`;
    text += `${text === '' ? '' : ','}${limitHead(limit)}${standing},"exceeded":${limit.exceeded}}`;
  }
  return `[${text}]`;
}

/** The start of a limit's JSON, up to its `remaining`, which only its settings decide. */
interface LimitHead {
  limit: number;
  duration: number;
  text: string;
}

/** Heads by limit name; limit names are few, and a full map starts again. */
const limitHeads = new Map<string, LimitHead>();
const LIMIT_HEADS_KEPT = 1_000;

function limitHead({ name, limit, duration }: LimitOutcome): string {
  const known = limitHeads.get(name);
  if (known?.limit === limit && known.duration === duration) return known.text;

  const settings = `"limit":${jsonNumber(limit)},"duration":${jsonNumber(duration)}`;
  const text = `{"name":${JSON.stringify(name)},${settings},"remaining":`;
  if (limitHeads.size >= LIMIT_HEADS_KEPT) limitHeads.clear();
  limitHeads.set(name, { limit, duration, text });
  return text;
}

/** A number as JSON writes it: `null` for one that is not finite. */
function jsonNumber(value: number | null): string {
  return value !== null && Number.isFinite(value) ? String(value) : 'null';
}

/** Verifies, and counts the verification and its time in `metrics`; at once when cached. */
export function verifyMeasured(
  keygate: Keygate,
  metrics: KeygateMetrics,
  actor: Actor,
  request: VerifyRequest,
): Soon<VerifyOutcome> {
  const started = performance.now();
  const verifying = keygate.verifier.verify(actor, request);
  if (verifying instanceof Promise) {
    return verifying.then((outcome) => measured(metrics, outcome, started));
  }
  return measured(metrics, verifying, started);
}

function measured(metrics: KeygateMetrics, outcome: VerifyOutcome, started: number): VerifyOutcome {
  metrics.verified(outcome.code, (performance.now() - started) / 1000);
  return outcome;
}

export function registerVerifyRoutes(app: Router, keygate: Keygate, metrics: KeygateMetrics): void {
  app.post(
    '/keys/verify',
    {
      schema: {
        tags: ['keys'],
        summary: 'Verify a key: 200 with `valid` and `code` for every well-formed request',
        body: VerifyBody,
        response: { 200: VerifyResult },
      },
    },
    async (request) =>
      verifyResult(await verifyMeasured(keygate, metrics, request.actor, request.body)),
  );
}
