import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { TurnBatch } from '../../src/http/turn-batch.ts';

describe('TurnBatch', () => {
  it('runs nothing during the turn, then everything added in it, in order', async () => {
    const batch = new TurnBatch();
    const ran: string[] = [];

    batch.add(() => ran.push('first'));
    batch.add(() => ran.push('second'));
    await Promise.resolve();
    assert.deepEqual(ran, [], 'nothing runs before the turn ends, microtasks included');

    await nextTurn();
    assert.deepEqual(ran, ['first', 'second']);
  });

  it('holds work added while a batch runs for the next turn', async () => {
    const batch = new TurnBatch();
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
});
