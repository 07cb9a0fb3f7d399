import { describe, expect, it } from 'vitest';
import { createSharedCache } from '../src/cache.js';

/** A load that resolves when told to, counting how often it ran. */
function deferredLoads<V>() {
  const pending: { resolve: (value: V) => void; reject: (error: Error) => void }[] = [];
  let calls = 0;
  return {
    load: () =>
      new Promise<V>((resolve, reject) => {
        calls++;
        pending.push({ resolve, reject });
      }),
    resolve: (value: V) => pending.shift()?.resolve(value),
    reject: (error: Error) => pending.shift()?.reject(error),
    calls: () => calls,
  };
}

describe('createSharedCache', () => {
  it('shares one load among callers while it is in flight, however long it takes', async () => {
    let clock = 0;
    const cache = createSharedCache<object>({ ttlMs: 1000, now: () => clock });
    const loads = deferredLoads<object>();
    const a = cache.get('k', loads.load);
    clock += 5000;
    const b = cache.get('k', loads.load);
    const value = {};
    loads.resolve(value);
    expect(await a).toBe(value);
    expect(await b).toBe(value);
    expect(loads.calls()).toBe(1);
  });

  it('reuses a value until ttlMs after its load started, then loads again', async () => {
    let clock = 0;
    const cache = createSharedCache<string>({ ttlMs: 1000, now: () => clock });
    let n = 0;
    const load = async () => {
      clock += 300;
      return `v${++n}`;
    };
    expect(await cache.get('k', load)).toBe('v1');
    clock += 600;
    expect(await cache.get('k', load)).toBe('v1');
    clock += 100;
    expect(await cache.get('k', load)).toBe('v2');
  });

  it('never reuses a failed load', async () => {
    const cache = createSharedCache<string>({ ttlMs: 60_000 });
    const loads = deferredLoads<string>();
    const a = cache.get('k', loads.load);
    const b = cache.get('k', loads.load);
    loads.reject(new Error('boom'));
    await expect(a).rejects.toThrow('boom');
    await expect(b).rejects.toThrow('boom');
    const c = cache.get('k', loads.load);
    loads.resolve('ok');
    expect(await c).toBe('ok');
    expect(loads.calls()).toBe(2);
  });

  it('with ttlMs 0, or a value `keep` refuses, shares the load in flight and then forgets it', async () => {
    for (const options of [{ ttlMs: 0 }, { ttlMs: 60_000, keep: (v: string) => v !== 'partial' }]) {
      const cache = createSharedCache<string>(options);
      const loads = deferredLoads<string>();
      const a = cache.get('k', loads.load);
      const b = cache.get('k', loads.load);
      loads.resolve('partial');
      expect([await a, await b]).toEqual(['partial', 'partial']);
      const c = cache.get('k', loads.load);
      loads.resolve('again');
      expect(await c).toBe('again');
      expect(loads.calls()).toBe(2);
    }
  });

  it('drops matching keys, loaded or in flight, and lets the dropped load finish for its waiters', async () => {
    const cache = createSharedCache<string>({ ttlMs: 60_000 });
    await cache.get('a:1', async () => 'one');
    await cache.get('b:1', async () => 'kept');
    const loads = deferredLoads<string>();
    const inFlight = cache.get('a:2', loads.load);
    cache.drop((key) => key.startsWith('a:'));
    expect(cache.peek('a:1')).toBeUndefined();
    expect(cache.peek('b:1')).toBe('kept');
    const fresh = cache.get('a:2', loads.load);
    loads.resolve('old');
    loads.resolve('new');
    expect(await inFlight).toBe('old');
    expect(await fresh).toBe('new');
    expect(cache.peek('a:2')).toBe('new');
  });
});
