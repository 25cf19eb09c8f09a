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
  /** How long a migration waits for a lock before letting traffic by. */
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
 * A migration that never got its locks in time: a transaction held a lock it needs for
 * longer than `lockTimeoutMs` at each of its `attempts`. It changed nothing; trying again
 * is useless until that transaction ends, and each try queues requests behind it.
 */
export class MigrationLockTimeoutError extends Error {
  override name = 'MigrationLockTimeoutError';

  constructor(
    readonly version: string,
    readonly attempts: number,
    readonly lockTimeoutMs: number,
    options: ErrorOptions,
  ) {
    super(
      `migration ${version} gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}: ` +
        `each time, a lock it needs was held for more than ${lockTimeoutMs} ms (a long transaction?)`,
      options,
    );
  }
}

const isLockTimeout = (error: unknown) =>
  (error as { code?: unknown } | undefined)?.code === LOCK_NOT_AVAILABLE;

/**
 * Applies every pending `migrations/NNN_name.sql` in order under a session advisory lock,
 * so replicas starting together apply each file once; refuses to run when an applied file
 * has changed (migrations are forward-only). Each file runs in its own transaction unless
 * marked `-- migrate: no-transaction`. Either kind waits at most `lockTimeoutMs` for each
 * lock (but a concurrent index build, which holds no request up), so requests that queue
 * behind its ALTER wait no longer; it then rolls back and tries again later, and gives up
 * after `lockAttempts` with a `MigrationLockTimeoutError`.
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
    await withLockRetries(migration, settings, log, () =>
      migration.transactional
        ? applyInTransaction(session, migration, settings)
        : applyOutsideTransaction(session, migration, settings),
    );
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

/**
 * Runs `attempt` until it stops failing for want of a lock, at most `lockAttempts` times,
 * with backoff in between so the requests queued behind it go first.
 */
async function withLockRetries(
  migration: Migration,
  { lockTimeoutMs, lockAttempts }: MigrationSettings,
  log: Logger,
  attempt: () => Promise<void>,
): Promise<void> {
  for (let tries = 1; ; tries++) {
    try {
      await attempt();
      return;
    } catch (error) {
      if (!isLockTimeout(error)) throw error;
      if (tries >= lockAttempts)
        throw new MigrationLockTimeoutError(migration.version, tries, lockTimeoutMs, {
          cause: error,
        });
      const retryInMs = backoffDelay(tries - 1, lockTimeoutMs);
      log.warn(
        { migration: migration.version, attempt: tries, retryInMs },
        'database: migration could not get a lock in time; requests go first, trying again',
      );
      await sleep(retryInMs);
    }
  }
}

async function applyInTransaction(
  session: Queryable,
  migration: Migration,
  { lockTimeoutMs }: MigrationSettings,
): Promise<void> {
  await session.exec('BEGIN');
  try {
    await session.exec(`SET LOCAL lock_timeout = ${lockTimeoutMs}`);
    await session.exec(migration.sql);
    await record(session, migration);
    await session.exec('COMMIT');
  } catch (error) {
    await session.exec('ROLLBACK');
    throw error;
  }
}

const invalidIndexes = async (session: Queryable) =>
  (
    await session.query<{ name: string }>(
      'SELECT indexrelid::regclass::text AS name FROM pg_index WHERE NOT indisvalid',
    )
  ).map((index) => index.name);

// CREATE INDEX CONCURRENTLY, REINDEX … CONCURRENTLY, DROP INDEX CONCURRENTLY.
const CONCURRENTLY = /\bCONCURRENTLY\b/i;

/**
 * A statement that cannot run in a transaction. A concurrent index operation takes no lock
 * that requests wait for: it waits as long as it needs (for older transactions, at its
 * end), within the statement timeout, as a lock timeout would only make it fail and build
 * again for no request's sake. Anything else marked so (an ALTER) waits at most
 * `lockTimeoutMs` for each lock, as in a transaction, and is retried the same way. A failed
 * build leaves an invalid index behind, which an IF NOT EXISTS on the next run would take
 * for a finished one: the error names the ones this statement left.
 */
async function applyOutsideTransaction(
  session: Queryable,
  migration: Migration,
  { lockTimeoutMs }: MigrationSettings,
): Promise<void> {
  const concurrent = CONCURRENTLY.test(migration.sql);
  const invalidBefore = new Set(concurrent ? await invalidIndexes(session) : []);
  if (!concurrent) await session.exec(`SET lock_timeout = ${lockTimeoutMs}`);
  try {
    await session.exec(migration.sql);
  } catch (error) {
    const left = concurrent
      ? (await invalidIndexes(session)).filter((name) => !invalidBefore.has(name))
      : [];
    if (left.length === 0) throw error;
    throw new Error(
      `migration ${migration.version} failed and left invalid indexes (${left.join(', ')}): ` +
        'drop them with DROP INDEX CONCURRENTLY before it runs again',
      { cause: error },
    );
  } finally {
    // The session may be the only connection (PGlite): the setting must not outlive the file.
    if (!concurrent) await session.exec('RESET lock_timeout').catch(() => undefined);
  }
  await record(session, migration);
}
