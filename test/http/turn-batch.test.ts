import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { TurnBatch } from '../../src/http/turn-batch.ts';

const unexpected = (error: unknown) => assert.fail(`no work should throw: ${String(error)}`);

describe('TurnBatch', () => {
  it('runs nothing during the turn, then everything added in it, in order', async () => {
    const batch = new TurnBatch(unexpected);
    const ran: string[] = [];

    batch.add(() => ran.push('first'));
    batch.add(() => ran.push('second'));
    await Promise.resolve();
    assert.deepEqual(ran, [], 'nothing runs before the turn ends, microtasks included');

    await nextTurn();
    assert.deepEqual(ran, ['first', 'second']);
  });

  it('holds work added while a batch runs for the next turn', async () => {
    const batch = new TurnBatch(unexpected);
    const ran: string[] = [];

    batch.add(() => {
      ran.push('outer');
      batch.add(() => ran.push('inner'));
    });
    await nextTurn();
    assert.deepEqual(ran, ['outer']);

    await nextTurn();
    assert.deepEqual(ran, ['outer', 'inner']);
  });

  it('reports work that throws and still runs the rest of its batch', async () => {
    const errors: unknown[] = [];
    const batch = new TurnBatch((error) => errors.push(error));
    const ran: string[] = [];

    batch.add(() => {
      throw new Error('socket gone');
    });
    batch.add(() => ran.push('after'));
    await nextTurn();

    assert.deepEqual(ran, ['after']);
    assert.deepEqual(
      errors.map((error) => (error as Error).message),
      ['socket gone'],
    );
  });
});
