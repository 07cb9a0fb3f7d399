/**
 * The one cache of the code base, over `lru-cache`: a value loading is shared by every caller
 * asking for it meanwhile (however long it takes), a loaded value is reused for `ttlMs`
 * counted from when its load started, and a failed load is never reused. Used for endpoint
 * reads and answers, the endpoint catalogue, user-group members and Slack identities.
 */
import { LRUCache } from 'lru-cache';

export interface SharedCacheOptions<V> {
  /** How long a loaded value is reused, from the start of its load; 0 = only share loads in flight. */
  readonly ttlMs: number;
  /** Most entries kept (least recently used dropped first). Default 256. */
  readonly max?: number;
  /** The clock, in milliseconds (tests pass theirs). Default `performance.now`. */
  readonly now?: () => number;
  /** A loaded value this refuses is shared while in flight, then dropped. Default: keep all. */
  readonly keep?: (value: V) => boolean;
}

export interface SharedCache<V> {
  /** The value of `key`: reused, joined while loading, or loaded with `load`. */
  get(key: string, load: () => Promise<V>): Promise<V>;
  /** The value of `key` if it is loaded and fresh; never loads. */
  peek(key: string): V | undefined;
  /** Stores a value, fresh for the cache's TTL. */
  set(key: string, value: V): void;
  /** Drops the entries whose key passes `test` (all when absent); loads in flight still finish. */
  drop(test?: (key: string) => boolean): void;
}

/** What the cache holds: the value, and whether it may be reused once its load is over. */
interface Entry<V> {
  readonly value: V;
  readonly reusable: boolean;
}

/** Builds a cache; nothing is loaded until asked. */
export function createSharedCache<V>(options: SharedCacheOptions<V>): SharedCache<V> {
  const { ttlMs } = options;
  const now = options.now ?? (() => performance.now());
  const keep = options.keep ?? (() => true);
  // lru-cache does not list keys still loading; `drop` must reach those too.
  const loading = new Map<string, number>();
  const cache = new LRUCache<string, Entry<V>, () => Promise<V>>({
    max: options.max ?? 256,
    // lru-cache's 0 means "never expires": a 0 TTL is handled below by not reusing the value.
    ttl: Math.max(ttlMs, 1),
    perf: { now },
    // Read the clock on every check (lru-cache otherwise reuses a reading for 1 ms).
    ttlResolution: 0,
    // A dropped key (invalidated, or evicted) lets its load finish for those already waiting.
    ignoreFetchAbort: true,
    fetchMethod: async (key, _stale, { options: setOptions, context: load }) => {
      const started = now();
      loading.set(key, (loading.get(key) ?? 0) + 1);
      try {
        const value = await load();
        // lru-cache times a value from when it is stored, and keeps it while the age is <= ttl;
        // this cache counts from the start of the load and reuses while the age is < ttlMs.
        const left = ttlMs - (now() - started) - 1;
        if (left > 0) setOptions.ttl = left;
        return { value, reusable: left > 0 && keep(value) };
      } finally {
        const count = (loading.get(key) ?? 1) - 1;
        if (count > 0) loading.set(key, count);
        else loading.delete(key);
      }
    },
  });

  return {
    async get(key, load) {
      const entry = await cache.fetch(key, { context: load });
      // lru-cache resolves undefined only when the fetch method does, and ours never does.
      if (entry === undefined) throw new Error(`cache: no value loaded for ${key}`);
      // Shared while in flight, then gone: the next caller loads afresh.
      if (!entry.reusable && cache.peek(key) === entry) cache.delete(key);
      return entry.value;
    },
    peek(key) {
      const entry = cache.get(key);
      return entry?.reusable ? entry.value : undefined;
    },
    set(key, value) {
      cache.set(key, { value, reusable: ttlMs > 0 });
    },
    drop(test) {
      if (test === undefined) {
        cache.clear();
        return;
      }
      for (const key of new Set([...cache.keys(), ...loading.keys()])) {
        if (test(key)) cache.delete(key);
      }
    },
  };
}
