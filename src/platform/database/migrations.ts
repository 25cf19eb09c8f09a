import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import type { FastifyBaseLogger as Logger } from 'fastify';
import { MIGRATIONS_DIR } from '../../paths.js';
import type { Database, Queryable } from './types.js';

// Any fixed 64-bit number works; every replica and the migrate command must use the same one.
const MIGRATION_LOCK_ID = 4_242_001;
const MIGRATION_FILE = /^(\d{3,})_[a-z0-9_-]+\.sql$/;

interface Migration {
  version: string;
  sql: string;
  checksum: string;
}

/**
 * Applies every pending `migrations/NNN_name.sql` in order, each in its own transaction,
 * under a session advisory lock so replicas starting together apply each file once.
 * Refuses to run when an applied file has changed: migrations are forward-only.
 */
export async function migrate(
  db: Database,
  log: Logger,
  dir: URL = MIGRATIONS_DIR,
): Promise<string[]> {
  const migrations = await readMigrations(dir);
  return db.withSession(async (session) => {
    await session.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    try {
      return await applyPending(session, migrations, log);
    } finally {
      await session.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
    }
  });
}

async function readMigrations(dir: URL): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((name) => MIGRATION_FILE.test(name)).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(new URL(name, dir), 'utf8');
      const checksum = createHash('sha256').update(sql).digest('hex');
      return { version: name.replace(/\.sql$/, ''), sql, checksum };
    }),
  );
}

async function applyPending(
  session: Queryable,
  migrations: Migration[],
  log: Logger,
): Promise<string[]> {
  await session.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  const rows = await session.query<{ version: string; checksum: string }>(
    'SELECT version, checksum FROM schema_migrations',
  );
  const applied = new Map(rows.map((row) => [row.version, row.checksum]));
  const done: string[] = [];
  for (const migration of migrations) {
    const checksum = applied.get(migration.version);
    if (checksum === migration.checksum) continue;
    if (checksum !== undefined) {
      throw new Error(
        `migration ${migration.version} changed after it was applied; add a new migration instead`,
      );
    }
    await session.exec('BEGIN');
    try {
      await session.exec(migration.sql);
      await session.query('INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)', [
        migration.version,
        migration.checksum,
      ]);
      await session.exec('COMMIT');
    } catch (error) {
      await session.exec('ROLLBACK');
      throw error;
    }
    log.info({ migration: migration.version }, 'database: migration applied');
    done.push(migration.version);
  }
  return done;
}
