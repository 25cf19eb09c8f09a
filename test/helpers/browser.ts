import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.js';
import { freePort } from './ports.js';
import { startService, type ServiceProcess } from './process.js';
import { createTestDatabase, createTestRedisPrefix } from './servers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** True when Chromium is installed. On CI its absence fails the run instead. */
export const browserAvailable = existsSync(CHROMIUM_PATH);
if (!browserAvailable) {
  if (process.env.CI)
    throw new Error(`CI needs Chromium at ${CHROMIUM_PATH} for the browser tests`);
  console.warn(
    `\n*** SKIPPING browser tests: no Chromium at ${CHROMIUM_PATH} (apt-get install chromium). ***\n`,
  );
}

/** The admin token the browser tests' service requires for a reset. */
export const ADMIN_TOKEN = 'e2e-admin-token-0123456789';

/** A built service on real PostgreSQL and Redis, and a browser to drive its page. */
export interface Site {
  readonly baseUrl: string;
  readonly browser: Browser;
  /** A new page (its own browser context) with the UI loaded and its stock shown. */
  open(viewport?: { width: number; height: number }): Promise<Page>;
  /** Calls the API directly, as another client would. */
  api(method: string, path: string, body?: unknown): Promise<Response>;
  /** Stops the service (SIGTERM, waits for exit); `start()` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * Runs the built service (`npm run build` first; `npm test` does) on its own database and
 * key prefix and launches Chromium, for the enclosing `describe`; cleans up after it.
 */
export function useSite(env: Record<string, string> = {}): Site {
  let browser: Browser | undefined;
  let service: ServiceProcess | undefined;
  let serviceEnv: Record<string, string> = {};
  let port = 0;
  const cleanups: (() => Promise<void>)[] = [];

  const start = async () => {
    service = await startService(serviceEnv, port, { built: true });
  };
  const stop = async () => {
    if (service === undefined) return;
    service.child.kill('SIGTERM');
    await service.exited;
    service = undefined;
  };

  beforeAll(async () => {
    for (const file of ['dist/main.js', 'web/dist/index.html']) {
      if (!existsSync(`${root}${file}`)) throw new Error(`${file} is missing: run npm run build`);
    }
    const database = await createTestDatabase();
    const redis = createTestRedisPrefix();
    cleanups.push(database.drop, redis.clear);
    port = await freePort();
    serviceEnv = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: redis.prefix,
      ADMIN_TOKEN,
      SHUTDOWN_DRAIN_MS: '0',
      ...env,
    };
    await start();
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await stop();
    for (const cleanup of cleanups) await cleanup();
  });

  const site: Site = {
    get baseUrl() {
      return `http://127.0.0.1:${port}`;
    },
    get browser() {
      if (browser === undefined) throw new Error('the browser starts in beforeAll');
      return browser;
    },
    async open(viewport = { width: 1280, height: 900 }) {
      const context = await site.browser.newContext({ viewport });
      const page = await context.newPage();
      await page.goto(site.baseUrl);
      await page.getByTestId('counter-value').waitFor();
      return page;
    },
    api: (method, path, body) =>
      fetch(`${site.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    stop,
    start,
  };
  return site;
}
