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

describe('createTurns().run: only a few answers posted at once', () => {
  it('runs at most inFlight tasks at a time, in order, and passes results and errors through', async () => {
    const turns = createTurns({ inFlight: 2 });
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const task = (i: number) => async () => {
      started.push(i);
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      if (i === 3) throw new Error('post 3 failed');
      return i * 10;
    };
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => turns.run(task(i))),
    );
    expect(most).toBe(2);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : String(r.reason)))).toEqual([
      0,
      10,
      20,
      'Error: post 3 failed',
      40,
      50,
    ]);
  });

  it('starts a task only on a later loop turn', async () => {
    const turns = createTurns();
    const order: string[] = [];
    const posted = turns.run(async () => order.push('answer'));
    order.push('ack');
    await posted;
    expect(order).toEqual(['ack', 'answer']);
  });
});
