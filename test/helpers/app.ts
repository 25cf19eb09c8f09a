import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createTestDatabase, createTestRedisPrefix, realServersAvailable } from './servers.js';

/**
 * Settings for tests: quiet, in memory, no rate limit, no load shedding (event loop or
 * requests in flight), no drain wait; override any of them.
 */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATA_DIR: 'memory://',
    RATE_LIMIT_MAX: '0',
    // Two test files per core slow the loop at times; shedding has its own test.
    MAX_EVENT_LOOP_DELAY_MS: '0',
    // Every injected request comes from one address; the caps have their own test.
    HTTP_MAX_IN_FLIGHT: '100000',
    HTTP_MAX_IN_FLIGHT_PER_CLIENT: '100000',
    SHUTDOWN_DRAIN_MS: '0',
    ...overrides,
  });
}

/** Builds the app and waits until its database is migrated, as a load balancer would. */
export async function startApp(config: Config): Promise<FastifyInstance> {
  const app = await buildApp(config);
  await app.ready();
  await app.databaseReadiness.whenReady();
  return app;
}

/** Listens on a free port of 127.0.0.1, for tests that need real sockets; returns the port. */
export async function listenOnLoopback(app: FastifyInstance): Promise<number> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as AddressInfo).port;
}

/** Where a test's data lives: embedded PGlite with the in-process cache, or real servers. */
export interface Backend {
  name: string;
  /** Environment for the app (DATABASE_URL, REDIS_URL...), fresh for each call. */
  provision: () => Promise<{ env: Record<string, string>; cleanup: () => Promise<void> }>;
}

export const pgliteBackend: Backend = {
  name: 'PGlite + in-process cache',
  provision: async () => ({ env: {}, cleanup: async () => undefined }),
};

export const serversBackend: Backend = {
  name: 'PostgreSQL + Redis',
  async provision() {
    const database = await createTestDatabase();
    const redis = createTestRedisPrefix();
    return {
      env: { DATABASE_URL: database.url, REDIS_URL: redis.url, REDIS_KEY_PREFIX: redis.prefix },
      async cleanup() {
        await database.drop();
        await redis.clear();
      },
    };
  },
};

/** Both backends where the real servers answer; PGlite alone (with a warning) where not. */
export const backends: Backend[] = realServersAvailable
  ? [pgliteBackend, serversBackend]
  : [pgliteBackend];

/** Empties the tables and the items cache, and puts the stock back, between tests. */
export async function resetData(app: FastifyInstance): Promise<void> {
  await app.database.exec(
    'TRUNCATE items, birthdays RESTART IDENTITY; UPDATE counters SET value = initial_stock',
  );
  await app.cache.invalidate('items');
}

/**
 * Starts an app on `backend` for the enclosing `describe` (closing it and cleaning up
 * after) and empties its data before each test. Read `app` and `env` inside tests.
 */
export function useApp(
  backend: Backend,
  overrides: Record<string, string> = {},
): { readonly app: FastifyInstance; readonly env: Record<string, string> } {
  let app: FastifyInstance | undefined;
  let env: Record<string, string> = {};
  let cleanup = async () => undefined as unknown;

  beforeAll(async () => {
    const provisioned = await backend.provision();
    env = provisioned.env;
    cleanup = provisioned.cleanup;
    app = await startApp(testConfig({ ...env, ...overrides }));
  });
  afterAll(async () => {
    await app?.close();
    await cleanup();
  });
  beforeEach(async () => {
    if (app) await resetData(app);
  });

  return {
    get app() {
      if (app === undefined) throw new Error('the app starts in beforeAll');
      return app;
    },
    get env() {
      return env;
    },
  };
}
