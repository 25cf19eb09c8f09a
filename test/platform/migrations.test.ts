import { cp, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/platform/database/migrations.js';
import { MIGRATIONS_DIR } from '../../src/paths.js';
import { createPgliteDatabase } from '../../src/platform/database/pglite.js';
import { createPostgresDatabase } from '../../src/platform/database/postgres.js';
import type { Database } from '../../src/platform/database/types.js';
import { createTestDatabase, realServersAvailable } from '../helpers/servers.js';

const log = pino({ level: 'silent' });
const migrationFiles = (await readdir(MIGRATIONS_DIR)).filter((name) => name.endsWith('.sql'));

describe('migrations on PGlite', () => {
  let db: Database;

  beforeAll(async () => {
    db = await createPgliteDatabase('memory://');
  });
  afterAll(() => db.close());

  it('apply every file once, then find nothing to do', async () => {
    expect(await migrate(db, log)).toEqual(migrationFiles.map((name) => name.replace('.sql', '')));
    expect(await migrate(db, log)).toEqual([]);
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
    const dir = await mkdtemp(join(tmpdir(), 'shipshape-migrations-'));
    try {
      await cp(MIGRATIONS_DIR, dir, { recursive: true });
      const first = migrationFiles[0] ?? '';
      await writeFile(join(dir, first), '-- edited\nSELECT 1;');
      await expect(migrate(db, log, pathToFileURL(`${dir}/`))).rejects.toThrow(
        /changed after it was applied/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe.runIf(realServersAvailable)('migrations on PostgreSQL', () => {
  it('run once when several replicas start together (advisory lock)', async () => {
    const database = await createTestDatabase();
    const replicas = Array.from({ length: 4 }, () =>
      createPostgresDatabase(
        { connectionString: database.url, poolMax: 2, timeoutMs: 5000, applicationName: 'test' },
        log,
      ),
    );
    try {
      const applied = await Promise.all(replicas.map((db) => migrate(db, log)));
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
});
