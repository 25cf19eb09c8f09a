import { LRUCache } from 'lru-cache';
import type { Cache, CacheObserver } from './types.js';

export interface MemoryCacheOptions {
  maxEntries: number;
  /** What the values and their keys may take together; the least recently used go first. */
  maxBytes: number;
  ttlSeconds: number;
}

// A key, a JavaScript string, takes at most two bytes a character (V8 keeps Latin-1 ones
// in one), so counting two is an upper bound.
const BYTES_PER_KEY_CHARACTER = 2;

/** An in-process LRU: correct for one replica, which is what runs without REDIS_URL. */
export function createMemoryCache(options: MemoryCacheOptions, observer: CacheObserver) {
  const entries = new LRUCache<string, Buffer>({
    max: options.maxEntries,
    maxSize: options.maxBytes,
    sizeCalculation: (value, key) => value.byteLength + key.length * BYTES_PER_KEY_CHARACTER,
    ttl: options.ttlSeconds * 1000,
  });
  const generations = new Map<string, number>();
  const generationOf = (namespace: string) => String(generations.get(namespace) ?? 0);

  const cache: Cache & { readonly bytes: number } = {
    kind: 'memory',
    /** What the entries take now, as counted against `maxBytes`. */
    get bytes() {
      return entries.calculatedSize;
    },
    async get(namespace, key) {
      const generation = generationOf(namespace);
      const value = entries.get(`${namespace}:${generation}:${key}`);
      observer.lookup(value === undefined ? 'miss' : 'hit');
      return { value, generation };
    },
    async set(namespace, generation, key, value) {
      // A value larger than the whole cache is not kept (lru-cache refuses it).
      if (generation === generationOf(namespace))
        entries.set(`${namespace}:${generation}:${key}`, Buffer.from(value));
    },
    async invalidate(namespace) {
      generations.set(namespace, (generations.get(namespace) ?? 0) + 1);
    },
    async close() {
      entries.clear();
    },
  };
  return cache;
}
