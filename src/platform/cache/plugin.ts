import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge } from 'prom-client';
import type { Config } from '../../config.js';
import { createMemoryCache } from './memory.js';
import { createRedisCache } from './redis.js';
import type { Cache, CacheObserver } from './types.js';

declare module 'fastify' {
  interface FastifyInstance {
    cache: Cache;
  }
}

/** Redis when REDIS_URL is set, otherwise an in-process LRU; either way with metrics and logs. */
export const cachePlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    const registers = [app.metrics.registry];
    const lookups = new Counter({
      name: 'cache_lookups_total',
      help: 'Cache look-ups by result',
      labelNames: ['result'] as const,
      registers,
    });
    const errors = new Counter({
      name: 'cache_errors_total',
      help: 'Shared cache outages that sent requests to the database',
      registers,
    });
    const fallback = new Gauge({
      name: 'cache_fallback_active',
      help: '1 while the shared cache is unreachable and requests bypass it',
      registers,
    });
    const observer: CacheObserver = {
      lookup: (result) => lookups.inc({ result }),
      unavailable(error) {
        errors.inc();
        fallback.set(1);
        app.log.warn({ err: error }, 'cache: redis unavailable, serving from the database');
      },
      recovered() {
        fallback.set(0);
        app.log.info('cache: redis available again');
      },
    };
    let cache: Cache;
    if (config.REDIS_URL === undefined) {
      const memory = createMemoryCache(
        {
          maxEntries: config.CACHE_MAX_ENTRIES,
          maxBytes: config.CACHE_MAX_BYTES,
          ttlSeconds: config.CACHE_TTL_SECONDS,
        },
        observer,
      );
      new Gauge({
        name: 'cache_memory_bytes',
        help: 'What the in-process cache holds, counted against CACHE_MAX_BYTES',
        registers,
        collect() {
          this.set(memory.bytes);
        },
      });
      cache = memory;
    } else {
      cache = await createRedisCache(
        {
          url: config.REDIS_URL,
          keyPrefix: config.REDIS_KEY_PREFIX,
          ttlSeconds: config.CACHE_TTL_SECONDS,
          timeoutMs: config.REDIS_TIMEOUT_MS,
        },
        observer,
      );
    }
    app.decorate('cache', cache);
    app.addHook('onClose', () => cache.close());
  },
  { name: 'cache', dependencies: ['metrics'] },
);
