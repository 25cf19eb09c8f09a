import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';

/**
 * Real PostgreSQL and Redis for integration tests. CI exports TEST_POSTGRES_URL and
 * TEST_REDIS_URL; locally the defaults point at the usual local servers. A test file gets
 * its own database and key prefix, so files never share state and never need an empty server.
 */
const postgresAdminUrl =
  process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function reachable(check: () => Promise<unknown>): Promise<boolean> {
  try {
    await check();
    return true;
  } catch {
    return false;
  }
}

async function probe(): Promise<{ postgres: boolean; redis: boolean }> {
  const postgres = await reachable(async () => {
    const client = new pg.Client({
      connectionString: postgresAdminUrl,
      connectionTimeoutMillis: 2000,
    });
    await client.connect();
    await client.end();
  });
  const redis = await reachable(async () => {
    const client = new Redis(redisUrl, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    await client.connect();
    await client.quit();
  });
  return { postgres, redis };
}

const available = await probe();

/** True when real PostgreSQL and Redis answer. On CI their absence fails the run instead. */
export const realServersAvailable = available.postgres && available.redis;

if (!realServersAvailable) {
  const missing = [
    !available.postgres && `PostgreSQL (${postgresAdminUrl})`,
    !available.redis && `Redis (${redisUrl})`,
  ]
    .filter(Boolean)
    .join(' and ');
  if (process.env.CI) throw new Error(`CI needs ${missing} for the integration tests`);
  console.warn(
    `\n*** SKIPPING tests that need ${missing}: not reachable. Start them to run everything. ***\n`,
  );
}

const uniqueName = (prefix: string) =>
  `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;

/** A fresh database on the test server; `drop()` removes it, ending open connections. */
export async function createTestDatabase(): Promise<{
  url: string;
  name: string;
  drop: () => Promise<void>;
}> {
  const name = uniqueName('shipshape_test');
  const admin = new pg.Client({ connectionString: postgresAdminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const client = new pg.Client({ connectionString: postgresAdminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** A key prefix of its own on the test Redis; `clear()` deletes every key under it. */
export function createTestRedisPrefix(): {
  url: string;
  prefix: string;
  clear: () => Promise<void>;
} {
  const prefix = `${uniqueName('shipshape-test')}:`;
  return {
    url: redisUrl,
    prefix,
    async clear() {
      const client = new Redis(redisUrl);
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        if (keys.length > 0) await client.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      await client.quit();
    },
  };
}

export const testRedisUrl = redisUrl;
