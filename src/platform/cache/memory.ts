import { LRUCache } from 'lru-cache';
import type { Cache, CacheObserver } from './types.js';

/** An in-process LRU: correct for one replica, which is what runs without REDIS_URL. */
export function createMemoryCache(
  options: { maxEntries: number; ttlSeconds: number },
  observer: CacheObserver,
): Cache {
  const entries = new LRUCache<string, string>({
    max: options.maxEntries,
    ttl: options.ttlSeconds * 1000,
  });
  const generations = new Map<string, number>();
  const generationOf = (namespace: string) => String(generations.get(namespace) ?? 0);

  return {
    kind: 'memory',
    async get(namespace, key) {
      const generation = generationOf(namespace);
      const value = entries.get(`${namespace}:${generation}:${key}`);
      observer.lookup(value === undefined ? 'miss' : 'hit');
      return { value, generation };
    },
    async set(namespace, generation, key, value) {
      if (generation === generationOf(namespace))
        entries.set(`${namespace}:${generation}:${key}`, value);
    },
    async invalidate(namespace) {
      generations.set(namespace, (generations.get(namespace) ?? 0) + 1);
    },
    async close() {
      entries.clear();
    },
  };
}
