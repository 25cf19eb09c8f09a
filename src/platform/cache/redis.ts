import type { Result } from 'ioredis';
import { createRedisClient } from '../redis.js';
import type { Cache, CacheObserver } from './types.js';

export interface RedisCacheOptions {
  url: string;
  keyPrefix: string;
  ttlSeconds: number;
  timeoutMs: number;
}

// One round trip for a hit: read the namespace's generation, then the value stored under it.
const LOOKUP_SCRIPT = `
local generation = redis.call('GET', KEYS[1]) or '0'
return {generation, redis.call('GET', KEYS[2] .. generation .. ':' .. ARGV[1])}
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** LOOKUP_SCRIPT: the namespace's generation and the value under it, if any. */
    cacheLookup(
      generationKey: string,
      valuesPrefix: string,
      key: string,
    ): Result<[string, string | null], Context>;
  }
}

/**
 * The shared cache, returned once its first connection attempt has ended. Fail-open: any
 * Redis error or timeout is a miss (the database answers), reported once per outage; the
 * client reconnects by itself, and invalidations that could not be sent during an outage
 * are sent as soon as Redis answers again.
 */
export async function createRedisCache(
  options: RedisCacheOptions,
  observer: CacheObserver,
): Promise<Cache> {
  const redis = createRedisClient(options.url, options.timeoutMs);
  // Sent once, then called by its SHA (EVALSHA); ioredis reloads it if Redis has lost it.
  redis.defineCommand('cacheLookup', { numberOfKeys: 2, lua: LOOKUP_SCRIPT });
  // Hash tags keep a namespace's keys in one slot, so the script also runs on Redis Cluster.
  const generationKey = (ns: string) => `${options.keyPrefix}{cache:${ns}}:generation`;
  // Each value is a key of its own with its own expiry: a namespace written to all the time
  // still loses each value at its TTL. (Values kept in one hash per generation all lived
  // as long as the hash's latest write kept extending it.)
  const valuesPrefix = (ns: string) => `${options.keyPrefix}{cache:${ns}}:value:`;
  const pendingInvalidations = new Set<string>();
  let failing = false;

  const fail = (error: unknown) => {
    if (!failing) observer.unavailable(error instanceof Error ? error : new Error(String(error)));
    failing = true;
  };
  // Back after an outage (reconnected, or a command succeeded again after timeouts):
  // send the invalidations that were missed, then report the recovery.
  const recover = async () => {
    for (const namespace of pendingInvalidations) {
      await redis.incr(generationKey(namespace));
      pendingInvalidations.delete(namespace);
    }
    if (failing) observer.recovered();
    failing = false;
  };
  redis.on('error', fail);
  redis.on('ready', () => void recover().catch(fail));
  // Wait for the first connection (bounded by connectTimeout) so a healthy start is not
  // reported as an outage; if it fails, the client keeps reconnecting in the background.
  await redis.connect().catch(fail);

  return {
    kind: 'redis',
    async get(namespace, key) {
      // A write this replica could not announce yet: cached pages may predate it.
      if (pendingInvalidations.has(namespace)) {
        void recover().catch(fail);
        observer.lookup('miss');
        return { value: undefined, generation: undefined };
      }
      try {
        const [generation, value] = await redis.cacheLookup(
          generationKey(namespace),
          valuesPrefix(namespace),
          key,
        );
        if (failing) void recover().catch(fail);
        observer.lookup(value == null ? 'miss' : 'hit');
        return { value: value ?? undefined, generation };
      } catch (error) {
        fail(error);
        observer.lookup('miss');
        return { value: undefined, generation: undefined };
      }
    },
    async set(namespace, generation, key, value) {
      try {
        await redis.set(
          `${valuesPrefix(namespace)}${generation}:${key}`,
          value,
          'EX',
          options.ttlSeconds,
        );
      } catch (error) {
        fail(error);
      }
    },
    async invalidate(namespace) {
      try {
        await redis.incr(generationKey(namespace));
      } catch (error) {
        pendingInvalidations.add(namespace);
        fail(error);
      }
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
