import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import type { FastifyBaseLogger as Logger } from 'fastify';
import { MIGRATIONS_DIR } from '../../paths.js';
import type { Config } from '../../config.js';
import { backoffDelay, sleep } from '../retry.js';
import type { Database, Queryable } from './types.js';

// Any fixed 64-bit number works; every replica and the migrate command must use the same one.
const MIGRATION_LOCK_ID = 4_242_001;
const MIGRATION_FILE = /^(\d{3,})_[a-z0-9_-]+\.sql$/;

interface Migration {
  version: string;
  sql: string;
  checksum: string;
  /** False for a file marked `-- migrate: no-transaction` (CREATE INDEX CONCURRENTLY). */
  transactional: boolean;
}

/** How migrations run; `migrationSettings(config)` reads them from the environment. */
export interface MigrationSettings {
  /** Each statement's limit, on a connection of the migration's own. */
  statementTimeoutMs: number;
  /** How long a transactional migration waits for a lock before letting traffic by. */
  lockTimeoutMs: number;
  /** Attempts of a migration whose locks were not free in time, before it gives up. */
  lockAttempts: number;
  /** Where the files are: `migrations/` unless a test gives another folder. */
  dir?: URL;
}

export const migrationSettings = (config: Config): MigrationSettings => ({
  statementTimeoutMs: config.MIGRATION_STATEMENT_TIMEOUT_MS,
  lockTimeoutMs: config.MIGRATION_LOCK_TIMEOUT_MS,
  lockAttempts: config.MIGRATION_LOCK_ATTEMPTS,
});

// In the comment lines a file starts with; the file must then hold a single statement,
// since PostgreSQL runs a multi-statement string as one implicit transaction.
const NO_TRANSACTION_MARKER = /^--\s*migrate:\s*no-transaction\s*$/m;
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * Applies every pending `migrations/NNN_name.sql` in order under a session advisory lock,
 * so replicas starting together apply each file once; refuses to run when an applied file
 * has changed (migrations are forward-only). Each file runs in its own transaction unless
 * marked `-- migrate: no-transaction`. A transactional file waits at most `lockTimeoutMs`
 * for each lock, so requests that queue behind its ALTER wait no longer; it then rolls
 * back and tries again later, and gives up after `lockAttempts`.
 */
export async function migrate(
  db: Database,
  log: Logger,
  settings: MigrationSettings,
): Promise<string[]> {
  const migrations = await readMigrations(settings.dir ?? MIGRATIONS_DIR);
  return db.withSession(
    async (session) => {
      await session.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
      try {
        return await applyPending(session, migrations, settings, log);
      } finally {
        await session.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]);
      }
    },
    { statementTimeoutMs: settings.statementTimeoutMs },
  );
}

async function readMigrations(dir: URL): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((name) => MIGRATION_FILE.test(name)).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(new URL(name, dir), 'utf8');
      const checksum = createHash('sha256').update(sql).digest('hex');
      const leadingComments = /^(?:\s*--[^\n]*(?:\n|$))*/.exec(sql)?.[0] ?? '';
      return {
        version: name.replace(/\.sql$/, ''),
        sql,
        checksum,
        transactional: !NO_TRANSACTION_MARKER.test(leadingComments),
      };
    }),
  );
}

async function applyPending(
  session: Queryable,
  migrations: Migration[],
  settings: MigrationSettings,
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
    if (migration.transactional) await applyInTransaction(session, migration, settings, log);
    else await applyOutsideTransaction(session, migration);
    log.info({ migration: migration.version }, 'database: migration applied');
    done.push(migration.version);
  }
  return done;
}

const record = (session: Queryable, migration: Migration) =>
  session.query('INSERT INTO schema_migrations (version, checksum) VALUES ($1, $2)', [
    migration.version,
    migration.checksum,
  ]);

async function applyInTransaction(
  session: Queryable,
  migration: Migration,
  { lockTimeoutMs, lockAttempts }: MigrationSettings,
  log: Logger,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    await session.exec('BEGIN');
    try {
      await session.exec(`SET LOCAL lock_timeout = ${lockTimeoutMs}`);
      await session.exec(migration.sql);
      await record(session, migration);
      await session.exec('COMMIT');
      return;
    } catch (error) {
      await session.exec('ROLLBACK');
      if ((error as { code?: unknown }).code !== LOCK_NOT_AVAILABLE) throw error;
      if (attempt >= lockAttempts) {
        throw new Error(
          `migration ${migration.version} gave up after ${attempt} attempts: each time, a lock ` +
            `it needs was held for more than ${lockTimeoutMs} ms (a long transaction?)`,
          { cause: error },
        );
      }
      const retryInMs = backoffDelay(attempt - 1, lockTimeoutMs);
      log.warn(
        { migration: migration.version, attempt, retryInMs },
        'database: migration could not get a lock in time; requests go first, trying again',
      );
      await sleep(retryInMs);
    }
  }
}

/**
 * A statement that cannot run in a transaction, such as CREATE INDEX CONCURRENTLY: it
 * takes no lock that requests wait for, so it waits for its own as long as it needs.
 */
async function applyOutsideTransaction(session: Queryable, migration: Migration): Promise<void> {
  try {
    await session.exec(migration.sql);
  } catch (error) {
    // A concurrent index build that fails leaves an invalid index behind, which an
    // IF NOT EXISTS on the next run would take for a finished one.
    const invalid = await session.query<{ name: string }>(
      'SELECT indexrelid::regclass::text AS name FROM pg_index WHERE NOT indisvalid',
    );
    if (invalid.length === 0) throw error;
    const names = invalid.map((index) => index.name).join(', ');
    throw new Error(
      `migration ${migration.version} failed and left invalid indexes (${names}): drop them ` +
        `with DROP INDEX CONCURRENTLY before it runs again`,
      { cause: error },
    );
  }
  await record(session, migration);
}
