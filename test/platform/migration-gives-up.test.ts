import { rm, writeFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import pino from 'pino';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/app.js';
import { MigrationLockTimeoutError, migrate } from '../../src/platform/database/migrations.js';
import { createPostgresDatabase } from '../../src/platform/database/postgres.js';
import { testConfig } from '../helpers/app.js';
import { createTestDatabase, realServersAvailable } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';

// The app reads its migrations from MIGRATIONS_DIR: here a copy of the shipped ones, to
// which the test adds a pending file once the running release's schema is in place.
const pending = await vi.hoisted(async () => {
  const { cpSync, mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { default: nodePath } = await import('node:path');
  const { fileURLToPath, pathToFileURL } = await import('node:url');
  const path = mkdtempSync(nodePath.join(tmpdir(), 'shipshape-pending-'));
  cpSync(fileURLToPath(new URL('../../migrations/', import.meta.url)), path, { recursive: true });
  return { path, dir: pathToFileURL(`${path}/`) };
});
vi.mock('../../src/paths.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/paths.js')>()),
  MIGRATIONS_DIR: pending.dir,
}));

afterAll(() => rm(pending.path, { recursive: true, force: true }));

const log = pino({ level: 'silent' });
const lockTimeoutMs = 500;

const status = async (app: FastifyInstance, url: string) => (await app.inject({ url })).statusCode;

describe.runIf(realServersAvailable)('a migration that gives up on its locks at start-up', () => {
  it('leaves the replica not ready, says why once, and never takes the lock again', async () => {
    const database = await createTestDatabase();
    const setup = createPostgresDatabase(
      { connectionString: database.url, poolMax: 2, timeoutMs: 5000, applicationName: 'test' },
      log,
    );
    // A report that reads items and stays open, as a forgotten psql session would.
    const longTransaction = new pg.Client({ connectionString: database.url });
    await longTransaction.connect();
    let app: FastifyInstance | undefined;
    try {
      await migrate(setup, log, {
        statementTimeoutMs: 60_000,
        lockTimeoutMs,
        lockAttempts: 1,
        dir: pending.dir,
      });
      await writeFile(
        `${pending.path}/900_flag_items.sql`,
        'ALTER TABLE items ADD COLUMN flagged boolean;\n',
      );
      await longTransaction.query('BEGIN');
      await longTransaction.query('SELECT count(*) FROM items');

      app = await buildApp(
        testConfig({
          DATABASE_URL: database.url,
          MIGRATION_LOCK_TIMEOUT_MS: String(lockTimeoutMs),
          MIGRATION_LOCK_ATTEMPTS: '2',
        }),
      );
      const errors = vi.spyOn(app.log, 'error');
      const warnings = vi.spyOn(app.log, 'warn');
      const gaveUp = () =>
        errors.mock.calls.filter(([fields]) => {
          const { err } = (fields ?? {}) as { err?: unknown };
          return err instanceof MigrationLockTimeoutError;
        });
      await app.ready();
      await waitFor('the migration to give up', async () => gaveUp().length > 0, 15_000);

      const [fields, message] = gaveUp()[0] ?? [];
      expect(fields).toMatchObject({ migration: '900_flag_items' });
      expect(message).toMatch(
        /^database: not ready, and migration 900_flag_items will not be tried again: a transaction held a lock it needs for longer than MIGRATION_LOCK_TIMEOUT_MS \(500 ms\) 2 times, .*pg_stat_activity.* end it, then run the migration .* restart the replicas$/,
      );
      expect(await status(app, '/readyz')).toBe(503);
      expect(await status(app, '/items')).toBe(503);

      // From now on requests on items never wait behind the ALTER again: watch for it in
      // the lock table, and time reads of items, first with the transaction still open,
      // then once it has ended (when a try would even succeed).
      const watcher = new pg.Client({ connectionString: database.url });
      await watcher.connect();
      try {
        const watch = async (ms: number) => {
          let alterSeen = 0;
          let slowestRead = 0;
          for (const until = performance.now() + ms; performance.now() < until;) {
            const started = performance.now();
            const { rows } = await watcher.query<{ n: string }>(
              `SELECT count(*) AS n FROM pg_locks
               WHERE relation = 'items'::regclass AND mode = 'AccessExclusiveLock'`,
            );
            await watcher.query('SELECT count(*) FROM items');
            slowestRead = Math.max(slowestRead, performance.now() - started);
            alterSeen += Number(rows[0]?.n);
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          return { alterSeen, slowestRead };
        };
        const warningsBefore = warnings.mock.calls.length;
        const open = await watch(2000);
        await longTransaction.query('COMMIT');
        const ended = await watch(2000);
        expect({ open: open.alterSeen, ended: ended.alterSeen }).toEqual({ open: 0, ended: 0 });
        expect(open.slowestRead).toBeLessThan(lockTimeoutMs / 2);
        expect(ended.slowestRead).toBeLessThan(lockTimeoutMs / 2);
        expect(warnings.mock.calls.slice(warningsBefore)).toEqual([]);
      } finally {
        await watcher.end();
      }

      expect(gaveUp()).toHaveLength(1);
      expect(await status(app, '/readyz')).toBe(503);
      expect(await status(app, '/items')).toBe(503);
      expect(
        await setup.query(
          "SELECT 1 FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'flagged'",
        ),
      ).toEqual([]);
    } finally {
      await app?.close();
      await longTransaction.end().catch(() => undefined);
      await setup.close();
      await database.drop();
    }
  }, 30_000);
});
