import { describe, expect, it } from 'vitest';
import { createTurns } from '../../src/slack/turns.js';

describe('createTurns: answer work waits its turn behind acks', () => {
  it('lets other callbacks already queued run between two waiters', async () => {
    const turns = createTurns();
    const order: string[] = [];
    const answers = [
      turns.next().then(() => order.push('answer 1')),
      turns.next().then(() => order.push('answer 2')),
      turns.next().then(() => order.push('answer 3')),
    ];
    // What a request read meanwhile would schedule: it must not wait for every answer.
    setImmediate(() => order.push('ack'));
    await Promise.all(answers);
    expect(order).toEqual(['answer 1', 'ack', 'answer 2', 'answer 3']);
  });

  it('lets pending I/O in before the first waiter', async () => {
    const turns = createTurns();
    const order: string[] = [];
    const answer = turns.next().then(() => order.push('answer'));
    order.push('ack');
    await answer;
    expect(order).toEqual(['ack', 'answer']);
  });

  it('releases every waiter in order, also those added while others are released', async () => {
    const turns = createTurns();
    const order: number[] = [];
    const late: Promise<unknown>[] = [];
    const early = Array.from({ length: 50 }, (_, i) =>
      turns.next().then(() => {
        order.push(i);
        if (i % 10 === 0) late.push(turns.next().then(() => order.push(100 + i)));
      }),
    );
    await Promise.all(early);
    await Promise.all(late);
    expect(order.slice(0, 50)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(order.slice(50)).toEqual([100, 110, 120, 130, 140]);
    // Empty again: a later waiter is still released.
    await turns.next();
  });
});
