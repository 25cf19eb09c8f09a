import { randomBytes } from 'node:crypto';
import { createRedisClient } from '../redis.js';
import type { Cache, CacheObserver } from './types.js';

export interface RedisCacheOptions {
  url: string;
  keyPrefix: string;
  ttlSeconds: number;
  timeoutMs: number;
}

const NEWLINE = 0x0a;

/** The value of a stored `<generation>\n<value>`, if it is `generation`'s; a view, not a copy. */
function valueUnder(generation: string, stored: Buffer): Buffer | undefined {
  const fresh =
    stored[generation.length] === NEWLINE &&
    stored.toString('latin1', 0, generation.length) === generation;
  return fresh ? stored.subarray(generation.length + 1) : undefined;
}

/**
 * A namespace's generation is random, never a count: a namespace whose generation key is
 * gone (Redis evicted it under memory pressure, or it is new) gets one no value was ever
 * stored under. A count would start again at 0, and a page stored under 0 before a write
 * would be served again, stale, within its TTL.
 */
const newGeneration = () => randomBytes(9).toString('base64url');

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
  // Hash tags keep a namespace's keys in one slot, so one MGET reads both on Redis Cluster.
  const generationKey = (ns: string) => `${options.keyPrefix}{cache:${ns}}:generation`;
  // Each value is a key of its own with its own expiry: a namespace written to all the time
  // still loses each value at its TTL. (Values kept in one hash per generation all lived
  // as long as the hash's latest write kept extending it.) A value starts with the
  // generation it was computed under, and counts only while that is still the namespace's.
  const valueKey = (ns: string, key: string) => `${options.keyPrefix}{cache:${ns}}:value:${key}`;
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
      await redis.set(generationKey(namespace), newGeneration());
      pendingInvalidations.delete(namespace);
    }
    if (failing) observer.recovered();
    failing = false;
  };
  // Set only if still missing: replicas that find it missing together agree on one.
  const startGeneration = async (namespace: string) => {
    const fresh = newGeneration();
    if ((await redis.set(generationKey(namespace), fresh, 'NX')) === 'OK') return fresh;
    return (await redis.get(generationKey(namespace))) ?? fresh;
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
        // One round trip, no script: the generation and the value, compared here.
        const [current, stored] = await redis.mgetBuffer(
          generationKey(namespace),
          valueKey(namespace, key),
        );
        const generation = current?.toString('latin1') ?? (await startGeneration(namespace));
        if (failing) void recover().catch(fail);
        const value = stored == null ? undefined : valueUnder(generation, stored);
        observer.lookup(value === undefined ? 'miss' : 'hit');
        return { value, generation };
      } catch (error) {
        fail(error);
        observer.lookup('miss');
        return { value: undefined, generation: undefined };
      }
    },
    async set(namespace, generation, key, value) {
      try {
        await redis.set(
          valueKey(namespace, key),
          Buffer.concat([Buffer.from(`${generation}\n`), Buffer.from(value)]),
          'EX',
          options.ttlSeconds,
        );
      } catch (error) {
        fail(error);
      }
    },
    async invalidate(namespace) {
      try {
        await redis.set(generationKey(namespace), newGeneration());
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
