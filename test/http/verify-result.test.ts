import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { verifyResult, verifyResultJson } from '../../src/http/routes/verify.ts';
import { VERIFY_CODES, type VerifyOutcome } from '../../src/services/verify.ts';
import { keyRecord } from '../support/records.ts';

const MAX_DATE_MS = 8.64e15;
/** Text with the characters JSON must escape: quotes, backslashes, controls, lone surrogates. */
const awkwardText = fc.string({ unit: 'binary', maxLength: 30 });
const time = fc.integer({ min: -MAX_DATE_MS, max: MAX_DATE_MS });
const count = fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER));

const keyArbitrary = fc.record({
  name: fc.option(awkwardText),
  externalId: fc.option(awkwardText),
  meta: fc.option(fc.dictionary(awkwardText, fc.jsonValue({ maxDepth: 3 }))),
  permissions: fc.array(awkwardText, { maxLength: 5 }),
  enabled: fc.boolean(),
  expiresAt: fc.option(time),
});

const limitArbitrary = fc.record({
  name: awkwardText,
  limit: count,
  duration: count,
  remaining: count,
  resetAt: time,
  exceeded: fc.boolean(),
});

const outcomeArbitrary: fc.Arbitrary<VerifyOutcome> = fc
  .record({
    valid: fc.boolean(),
    code: fc.constantFrom(...VERIFY_CODES),
    key: fc.option(keyArbitrary, { nil: undefined }),
    creditsRemaining: fc.option(count, { nil: undefined }),
    ratelimits: fc.option(fc.array(limitArbitrary, { maxLength: 4 }), { nil: undefined }),
  })
  .map(({ key, ...rest }) => ({
    ...rest,
    key:
      key && keyRecord({ id: 'key_1', workspaceId: 'ws_1', apiId: 'api_1', createdAt: 0, ...key }),
  }));

describe('verifyResultJson', () => {
  it('writes exactly what JSON.stringify writes of verifyResult', () => {
    fc.assert(
      fc.property(outcomeArbitrary, (outcome) => {
        assert.equal(verifyResultJson(outcome), JSON.stringify(verifyResult(outcome)));
      }),
      { numRuns: 2_000 },
    );
  });

  it('writes the same key record the same way every time it answers with it', () => {
    const key = keyRecord({
      id: 'key_2',
      workspaceId: 'ws_1',
      apiId: 'api_1',
      createdAt: 0,
      meta: { plan: 'pro', note: 'say "hi"\n' },
    });
    const outcome: VerifyOutcome = { valid: true, code: 'VALID', key, creditsRemaining: 3 };

    const first = verifyResultJson(outcome);
    const again = verifyResultJson({ ...outcome, creditsRemaining: 2 });

    assert.equal(first, JSON.stringify(verifyResult(outcome)));
    assert.deepEqual(JSON.parse(again), { ...JSON.parse(first), credits: { remaining: 2 } });
  });
});
