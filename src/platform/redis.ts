import { Redis } from 'ioredis';

/**
 * A Redis client that fails fast instead of waiting: without a connection a command fails at
 * once (no offline queue, no retries), and one that takes longer than `timeoutMs` fails then,
 * so a caller can fall back (the cache to the database, the rate limit to letting the request
 * through). It reconnects by itself in the background. Not connected yet: call `connect()`.
 */
export function createRedisClient(url: string, timeoutMs: number): Redis {
  return new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: timeoutMs,
    connectTimeout: Math.max(timeoutMs, 1000),
    retryStrategy: (attempt) => Math.min(100 * 2 ** attempt, 5000),
    // Commands issued in the same tick share one write: under load, one system call carries
    // the commands of many requests instead of one each.
    enableAutoPipelining: true,
  });
}
