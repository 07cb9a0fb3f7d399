import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { settleBounded } from '../../src/vpn/fetch.js';

describe('settleBounded', () => {
  it('never runs more than the bound at once, and keeps results in input order', async () => {
    let running = 0;
    let most = 0;
    const results = await settleBounded([50, 10, 30, 5, 20, 15, 25, 1], 3, async (ms) => {
      running += 1;
      most = Math.max(most, running);
      await sleep(ms);
      running -= 1;
      return ms * 2;
    });
    expect(most).toBe(3);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : null))).toEqual([
      100, 20, 60, 10, 40, 30, 50, 2,
    ]);
  });

  it('settles every item even when some reject', async () => {
    const results = await settleBounded(['a', 'b', 'c'], 2, async (x) => {
      if (x === 'b') throw new Error('b failed');
      return x;
    });
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(results[1]?.status === 'rejected' && (results[1].reason as Error).message).toBe(
      'b failed',
    );
  });

  it('handles an empty list', async () => {
    expect(await settleBounded([], 4, async () => 1)).toEqual([]);
  });
});
