import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  MigrationLockTimeoutError,
  migrate,
  migrationSettings,
} from '../../src/platform/database/migrations.js';
import { MIGRATIONS_DIR } from '../../src/paths.js';
import { createPgliteDatabase } from '../../src/platform/database/pglite.js';
import { createPostgresDatabase } from '../../src/platform/database/postgres.js';
import type { Database } from '../../src/platform/database/types.js';
import { listenOnLoopback, startApp, testConfig } from '../helpers/app.js';
import { createTestDatabase, realServersAvailable } from '../helpers/servers.js';
import { waitFor } from '../helpers/wait.js';

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

/**
 * Sends a request to the service over a real socket and reads the whole answer. Every
 * request then waits on I/O: a loop of them cannot starve the event loop (and the
 * migration it runs beside) even when each is refused at once.
 */
async function send(
  port: number,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: response.status, body: await response.text() };
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

  it('run a file marked no-transaction, whose lock timeout ends with it (the only connection)', async () => {
    const marked = await migrationsWith({
      '900_index.sql':
        '-- migrate: no-transaction\nCREATE INDEX CONCURRENTLY items_name ON items (name);\n',
    });
    try {
      expect((await migrate(db, log, { ...settings, dir: marked.dir })).at(-1)).toBe('900_index');
      expect(await db.query('SHOW lock_timeout')).toEqual([{ lock_timeout: '0' }]);
    } finally {
      await marked.remove();
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
      const lockTimeoutMs = 1000;
      const app = await startApp(testConfig({ DATABASE_URL: database.url }));
      const port = await listenOnLoopback(app);
      const alter = await migrationsWith({
        '900_flag_items.sql': 'ALTER TABLE items ADD COLUMN flagged boolean;',
      });
      // A report that reads items and stays open, as a forgotten psql session would.
      const longTransaction = new pg.Client({ connectionString: database.url });
      await longTransaction.connect();
      try {
        const { id } = JSON.parse((await send(port, 'POST', '/items', { name: 'first' })).body) as {
          id: number;
        };
        await longTransaction.query('BEGIN');
        await longTransaction.query('SELECT count(*) FROM items');
        const migrating = migrate(app.database, log, {
          ...settings,
          dir: alter.dir,
          lockTimeoutMs,
          lockAttempts: 2,
        }).then(
          () => 'applied',
          (error: unknown) => error,
        );
        // Requests keep reading and writing items, through the service, while the ALTER
        // waits in the lock queue in front of them.
        let settled = false;
        const slowest = { read: 0, write: 0 };
        const served = { read: 0, write: 0 };
        const failures: string[] = [];
        const client = async (kind: 'read' | 'write', worker: number) => {
          for (let i = 0; !settled; i++) {
            const started = performance.now();
            const response =
              kind === 'write'
                ? await send(port, 'POST', '/items', { name: `new ${worker}-${i}` })
                : await send(port, 'GET', `/items/${id}`);
            slowest[kind] = Math.max(slowest[kind], performance.now() - started);
            if (response.status >= 300) failures.push(`${response.status} ${response.body}`);
            served[kind]++;
          }
        };
        await Promise.all([
          migrating.finally(() => (settled = true)),
          client('read', 0),
          client('read', 1),
          client('write', 2),
          client('write', 3),
        ]);
        const error = await migrating;
        expect(error).toBeInstanceOf(MigrationLockTimeoutError);
        expect(String(error)).toMatch(/gave up after 2 attempts.*more than 1000 ms/);
        expect(failures).toEqual([]);
        expect(served.read).toBeGreaterThan(3);
        expect(served.write).toBeGreaterThan(3);
        // Reads and writes did queue behind the ALTER for about the lock timeout...
        expect(slowest.read).toBeGreaterThanOrEqual(0.8 * lockTimeoutMs);
        expect(slowest.write).toBeGreaterThanOrEqual(0.8 * lockTimeoutMs);
        // ...and no longer: without the lock timeout they would wait as long as the
        // transaction stays open (the margin is for a loaded machine).
        expect(slowest.read).toBeLessThan(lockTimeoutMs + 300);
        expect(slowest.write).toBeLessThan(lockTimeoutMs + 300);
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
        await app.close();
      }
    });

    it('give up on a lock a file marked no-transaction waits for, too', async () => {
      const lockTimeoutMs = 300;
      const alter = await migrationsWith({
        '900_flag_items.sql':
          '-- migrate: no-transaction\nALTER TABLE items ADD COLUMN flagged boolean;\n',
      });
      const longTransaction = new pg.Client({ connectionString: database.url });
      await longTransaction.connect();
      try {
        await longTransaction.query('BEGIN');
        await longTransaction.query('SELECT count(*) FROM items');
        let settled = false;
        let slowest = 0;
        const reader = async () => {
          while (!settled) {
            const started = performance.now();
            await db.query('SELECT count(*) FROM items');
            slowest = Math.max(slowest, performance.now() - started);
          }
        };
        const migrating = migrate(db, log, {
          ...settings,
          dir: alter.dir,
          // Without a lock timeout, the ALTER would wait until this cancels it.
          statementTimeoutMs: 5000,
          lockTimeoutMs,
          lockAttempts: 2,
        }).then(
          () => 'applied',
          (error: unknown) => error,
        );
        await Promise.all([migrating.finally(() => (settled = true)), reader()]);
        const error = await migrating;
        expect(error).toBeInstanceOf(MigrationLockTimeoutError);
        expect(String(error)).toMatch(/gave up after 2 attempts.*more than 300 ms/);
        expect(slowest).toBeGreaterThanOrEqual(0.8 * lockTimeoutMs);
        expect(slowest).toBeLessThan(lockTimeoutMs + 300);
        // The session's lock timeout went with the file.
        await longTransaction.query('COMMIT');
        expect(await migrate(db, log, { ...settings, dir: alter.dir })).toEqual(['900_flag_items']);
      } finally {
        await longTransaction.end();
        await alter.remove();
      }
    });

    it('let a concurrent build wait out an older transaction, however long, as it holds no request up', async () => {
      // A concurrent build waits, at its end, for every older snapshot: this report's.
      const report = new pg.Client({ connectionString: database.url });
      await report.connect();
      const index = await migrationsWith({
        '900_index.sql':
          '-- migrate: no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS items_name ON items (name);\n',
      });
      try {
        const reporting = report.query('SELECT pg_sleep(1.5)');
        await waitFor('the report to run', async () => {
          const rows = await db.query<{ n: string }>(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(1.5)' AND state = 'active'",
          );
          return rows[0]?.n === '1';
        });
        // A lock timeout far shorter than the report, and one attempt: it must not apply.
        expect(
          await migrate(db, log, {
            ...settings,
            dir: index.dir,
            lockTimeoutMs: 200,
            lockAttempts: 1,
          }),
        ).toEqual(['900_index']);
        await reporting;
        expect(
          await db.query(
            "SELECT indexrelid::regclass::text AS name, indisvalid FROM pg_index WHERE indrelid = 'items'::regclass AND indexrelid::regclass::text <> 'items_pkey'",
          ),
        ).toEqual([{ name: 'items_name', indisvalid: true }]);
      } finally {
        await report.end();
        await index.remove();
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

    it('name the invalid index a failed concurrent build leaves behind, and only that one', async () => {
      await db.exec("INSERT INTO items (name) VALUES ('twin'), ('twin')");
      // An invalid index of someone else's: a failed build run by hand.
      await expect(
        db.exec('CREATE UNIQUE INDEX CONCURRENTLY by_hand ON items (name)'),
      ).rejects.toThrow(/could not create unique index/);
      const unique = await migrationsWith({
        '900_unique_names.sql':
          '-- migrate: no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY items_unique_name ON items (name);\n',
      });
      const typo = await migrationsWith({
        '900_typo.sql': '-- migrate: no-transaction\nCREATE INDEX CONCURRENTLY ON itemz (name);\n',
      });
      try {
        await expect(migrate(db, log, { ...settings, dir: unique.dir })).rejects.toThrow(
          /left invalid indexes \(items_unique_name\): drop them/,
        );
        // A statement that left none gets its own error, not the blame for by_hand.
        await expect(migrate(db, log, { ...settings, dir: typo.dir })).rejects.toThrow(
          /^relation "itemz" does not exist$/,
        );
      } finally {
        await unique.remove();
        await typo.remove();
      }
    });
  });

  it('build an index concurrently while the service serves reads and writes, with no error', async () => {
    const database = await createTestDatabase();
    // Requests give up after 250 ms; the build takes several times as long (asserted
    // below), and a plain CREATE INDEX would hold every write for all of it.
    const requestTimeoutMs = 250;
    const app = await startApp(
      testConfig({ DATABASE_URL: database.url, DATABASE_TIMEOUT_MS: String(requestTimeoutMs) }),
    );
    const port = await listenOnLoopback(app);
    const seeder = postgres(database.url, 60_000);
    const index = await migrationsWith({
      '900_items_by_name.sql':
        '-- migrate: no-transaction\nCREATE INDEX CONCURRENTLY items_by_name ON items (name);\n',
    });
    try {
      // Enough rows that the build takes over a second.
      await seeder.exec(
        "INSERT INTO items (name) SELECT 'item ' || i FROM generate_series(1, 1500000) i",
      );
      let settled = false;
      const started = performance.now();
      const building = migrate(app.database, log, { ...settings, dir: index.dir }).finally(
        () => (settled = true),
      );
      const failures: string[] = [];
      // When each write to the table being indexed came back.
      const itemWrites: number[] = [];
      const client = async (worker: number) => {
        for (let i = 0; !settled; i++) {
          const response =
            i % 3 === 0
              ? await send(port, 'POST', '/items', { name: `new ${worker}-${i}` })
              : i % 3 === 1
                ? await send(
                    port,
                    'GET',
                    `/items?limit=20&after=${(worker * 7919 + i * 104729) % 1500000}`,
                  )
                : await send(
                    port,
                    'PUT',
                    `/hello/user${'abcd'[worker] ?? 'e'}${String.fromCharCode(97 + (i % 26))}`,
                    { dateOfBirth: '1990-01-02' },
                  );
          if (response.status >= 300) failures.push(`${response.status} ${response.body}`);
          else if (i % 3 === 0) itemWrites.push(performance.now());
        }
      };
      await Promise.all([building, ...Array.from({ length: 4 }, (_, worker) => client(worker))]);
      const finished = performance.now();
      const buildMs = finished - started;
      expect(await building).toEqual(['900_items_by_name']);
      expect(failures).toEqual([]);
      // The rest means something only if the build outlasts a request's timeout by far.
      expect(buildMs).toBeGreaterThan(4 * requestTimeoutMs);
      // Writes to items went on all through the build: it never held them for a quarter of
      // it (a plain CREATE INDEX holds them for all of it).
      const marks = [started, ...itemWrites.filter((at) => at < finished), finished];
      const longestWithoutWrite = Math.max(...marks.slice(1).map((at, i) => at - (marks[i] ?? 0)));
      expect(longestWithoutWrite).toBeLessThan(buildMs / 4);
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
