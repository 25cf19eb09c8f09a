import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { migrate, migrationSettings } from '../../src/platform/database/migrations.js';
import { MIGRATIONS_DIR } from '../../src/paths.js';
import { createPgliteDatabase } from '../../src/platform/database/pglite.js';
import { createPostgresDatabase } from '../../src/platform/database/postgres.js';
import type { Database } from '../../src/platform/database/types.js';
import { startApp, testConfig } from '../helpers/app.js';
import { createTestDatabase, realServersAvailable } from '../helpers/servers.js';

const log = pino({ level: 'silent' });
const settings = migrationSettings(testConfig());
const migrationFiles = (await readdir(MIGRATIONS_DIR)).filter((name) => name.endsWith('.sql'));

/** The shipped migrations and `extra` after them, in a folder of their own. */
async function migrationsWith(extra: Record<string, string>): Promise<{
  dir: URL;
  remove: () => Promise<void>;
}> {
  const path = await mkdtemp(join(tmpdir(), 'shipshape-migrations-'));
  await cp(MIGRATIONS_DIR, path, { recursive: true });
  for (const [name, sql] of Object.entries(extra)) await writeFile(join(path, name), sql);
  return {
    dir: pathToFileURL(`${path}/`),
    remove: () => rm(path, { recursive: true, force: true }),
  };
}

const postgres = (url: string, timeoutMs = 5000) =>
  createPostgresDatabase(
    { connectionString: url, poolMax: 4, timeoutMs, applicationName: 'test' },
    log,
  );

describe('migrations on PGlite', () => {
  let db: Database;

  beforeAll(async () => {
    db = await createPgliteDatabase('memory://');
  });
  afterAll(() => db.close());

  it('apply every file once, then find nothing to do', async () => {
    expect(await migrate(db, log, settings)).toEqual(
      migrationFiles.map((name) => name.replace('.sql', '')),
    );
    expect(await migrate(db, log, settings)).toEqual([]);
  });

  it('keep the counter between 0 and its initial stock in the schema itself', async () => {
    await db.exec("INSERT INTO counters (name, value, initial_stock) VALUES ('c', 3, 3)");
    await expect(db.exec("UPDATE counters SET value = -1 WHERE name = 'c'")).rejects.toThrow(
      /check constraint/,
    );
    await expect(db.exec("UPDATE counters SET value = 4 WHERE name = 'c'")).rejects.toThrow(
      /check constraint/,
    );
  });

  it('allow one row per username and only trimmed, non-empty item names', async () => {
    await db.exec("INSERT INTO birthdays (username, date_of_birth) VALUES ('ann', '2000-01-01')");
    await expect(
      db.exec("INSERT INTO birthdays (username, date_of_birth) VALUES ('ann', '2001-01-01')"),
    ).rejects.toThrow(/duplicate key/);
    await expect(db.exec("INSERT INTO items (name) VALUES ('  padded ')")).rejects.toThrow(
      /check constraint/,
    );
    await expect(db.exec("INSERT INTO items (name) VALUES ('')")).rejects.toThrow(
      /check constraint/,
    );
  });

  it('refuse to run when an applied file was edited: migrations are forward-only', async () => {
    const first = migrationFiles[0] ?? '';
    const edited = await migrationsWith({ [first]: '-- edited\nSELECT 1;' });
    try {
      await expect(migrate(db, log, { ...settings, dir: edited.dir })).rejects.toThrow(
        /changed after it was applied/,
      );
    } finally {
      await edited.remove();
    }
  });
});

describe.runIf(realServersAvailable)('migrations on PostgreSQL', () => {
  it('run once when several replicas start together (advisory lock)', async () => {
    const database = await createTestDatabase();
    const replicas = Array.from({ length: 4 }, () => postgres(database.url));
    try {
      const applied = await Promise.all(replicas.map((db) => migrate(db, log, settings)));
      expect(applied.flat().sort()).toEqual(migrationFiles.map((name) => name.replace('.sql', '')));
      const rows = await replicas[0]?.query<{ n: string }>(
        'SELECT count(*) AS n FROM schema_migrations',
      );
      expect(Number(rows?.[0]?.n)).toBe(migrationFiles.length);
    } finally {
      await Promise.all(replicas.map((db) => db.close()));
      await database.drop();
    }
  });

  describe('with the shipped migrations applied', () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    let db: Database;
    beforeEach(async () => {
      database = await createTestDatabase();
      db = postgres(database.url);
      await migrate(db, log, settings);
    });
    afterEach(async () => {
      await db.close();
      await database.drop();
    });

    it("give a statement its own timeout, not the requests' DATABASE_TIMEOUT_MS", async () => {
      // Requests give up after 500 ms; this migration takes 1.5 s.
      const impatient = postgres(database.url, 500);
      const slow = await migrationsWith({ '900_slow.sql': 'SELECT pg_sleep(1.5);' });
      try {
        await expect(
          migrate(impatient, log, { ...settings, dir: slow.dir, statementTimeoutMs: 1000 }),
        ).rejects.toThrow(/statement timeout/);
        expect(await migrate(impatient, log, { ...settings, dir: slow.dir })).toEqual(['900_slow']);
      } finally {
        await slow.remove();
        await impatient.close();
      }
    });

    it('give up on a table a long transaction holds, never holding requests longer than the lock timeout', async () => {
      const lockTimeoutMs = 500;
      const alter = await migrationsWith({
        '900_flag_items.sql': 'ALTER TABLE items ADD COLUMN flagged boolean;',
      });
      // A report that reads items and stays open, as a forgotten psql session would.
      const longTransaction = new pg.Client({ connectionString: database.url });
      await longTransaction.connect();
      try {
        await longTransaction.query('BEGIN');
        await longTransaction.query('SELECT count(*) FROM items');
        const migrating = migrate(db, log, {
          ...settings,
          dir: alter.dir,
          lockTimeoutMs,
          lockAttempts: 3,
        }).then(
          () => 'applied',
          (error: unknown) => String(error),
        );
        // Requests keep reading items while the ALTER waits in the lock queue in front of them.
        let settled = false;
        let slowest = 0;
        let reads = 0;
        const reader = async () => {
          while (!settled) {
            const started = performance.now();
            await db.query('SELECT count(*) FROM items');
            slowest = Math.max(slowest, performance.now() - started);
            reads++;
          }
        };
        await Promise.all([migrating.finally(() => (settled = true)), reader()]);
        expect(await migrating).toMatch(/gave up after 3 attempts.*more than 500 ms/);
        expect(reads).toBeGreaterThan(3);
        // Without a lock timeout they would wait as long as the transaction stays open; the
        // margin is for a loaded CI machine.
        expect(slowest).toBeLessThan(lockTimeoutMs + 1500);
        expect(
          await db.query(
            "SELECT 1 FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'flagged'",
          ),
        ).toEqual([]);

        await longTransaction.query('COMMIT');
        expect(await migrate(db, log, { ...settings, dir: alter.dir })).toEqual(['900_flag_items']);
      } finally {
        await longTransaction.end();
        await alter.remove();
      }
    });

    it('run a file marked no-transaction outside a transaction, and only when the marker leads it', async () => {
      const misplaced = await migrationsWith({
        '900_index.sql':
          'CREATE INDEX CONCURRENTLY items_name ON items (name);\n-- migrate: no-transaction\n',
      });
      try {
        await expect(migrate(db, log, { ...settings, dir: misplaced.dir })).rejects.toThrow(
          /cannot run inside a transaction block/,
        );
      } finally {
        await misplaced.remove();
      }
      const marked = await migrationsWith({
        '900_index.sql':
          '-- An index for lookups by name.\n-- migrate: no-transaction\nCREATE INDEX CONCURRENTLY items_name ON items (name);\n',
      });
      try {
        expect(await migrate(db, log, { ...settings, dir: marked.dir })).toEqual(['900_index']);
      } finally {
        await marked.remove();
      }
    });

    it('name the invalid index a failed concurrent build leaves behind', async () => {
      await db.exec("INSERT INTO items (name) VALUES ('twin'), ('twin')");
      const unique = await migrationsWith({
        '900_unique_names.sql':
          '-- migrate: no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY items_unique_name ON items (name);\n',
      });
      try {
        await expect(migrate(db, log, { ...settings, dir: unique.dir })).rejects.toThrow(
          /left invalid indexes \(items_unique_name\): drop them/,
        );
      } finally {
        await unique.remove();
      }
    });
  });

  it('build an index concurrently while the service serves reads and writes, with no error', async () => {
    const database = await createTestDatabase();
    // Requests give up after 750 ms: a plain CREATE INDEX, which holds writes for the whole
    // build (over a second here), would fail them.
    const app = await startApp(
      testConfig({ DATABASE_URL: database.url, DATABASE_TIMEOUT_MS: '750' }),
    );
    const seeder = postgres(database.url, 60_000);
    const index = await migrationsWith({
      '900_items_by_name.sql':
        '-- migrate: no-transaction\nCREATE INDEX CONCURRENTLY items_by_name ON items (name);\n',
    });
    try {
      // Enough rows that the build takes seconds.
      await seeder.exec(
        "INSERT INTO items (name) SELECT 'item ' || i FROM generate_series(1, 600000) i",
      );
      let settled = false;
      const building = migrate(app.database, log, { ...settings, dir: index.dir }).finally(
        () => (settled = true),
      );
      const failures: string[] = [];
      let served = 0;
      const client = async (worker: number) => {
        for (let i = 0; !settled; i++) {
          const response = await app.inject(
            i % 3 === 0
              ? { method: 'POST', url: '/items', payload: { name: `new ${worker}-${i}` } }
              : i % 3 === 1
                ? { url: `/items?limit=20&after=${(worker * 7919 + i * 104729) % 600000}` }
                : {
                    method: 'PUT',
                    url: `/hello/user${'abcd'[worker] ?? 'e'}${String.fromCharCode(97 + (i % 26))}`,
                    payload: { dateOfBirth: '1990-01-02' },
                  },
          );
          if (response.statusCode >= 300) failures.push(`${response.statusCode} ${response.body}`);
          served++;
        }
      };
      await Promise.all([building, ...Array.from({ length: 4 }, (_, worker) => client(worker))]);
      expect(await building).toEqual(['900_items_by_name']);
      expect(failures).toEqual([]);
      expect(served).toBeGreaterThan(20);
      expect(
        await app.database.query<{ indisvalid: boolean }>(
          "SELECT indisvalid FROM pg_index WHERE indexrelid = 'items_by_name'::regclass",
        ),
      ).toEqual([{ indisvalid: true }]);
    } finally {
      await index.remove();
      await seeder.close();
      await app.close();
      await database.drop();
    }
  }, 60_000);
});
