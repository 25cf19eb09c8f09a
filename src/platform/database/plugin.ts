import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Gauge } from 'prom-client';
import type { Config } from '../../config.js';
import { backoffDelay, sleep } from '../retry.js';
import { MigrationLockTimeoutError, migrate, migrationSettings } from './migrations.js';
import { openDatabase } from './index.js';
import type { Database } from './types.js';

type StartupTask = (db: Database) => Promise<void>;

/** Whether migrations (and the features' start-up tasks) have run, so data routes may serve. */
export interface DatabaseReadiness {
  readonly ready: boolean;
  /** Resolves once the database is migrated and ready. */
  whenReady(): Promise<void>;
  /** Registers work to run after each successful migration, before `ready` turns true. */
  onReady(task: StartupTask): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    database: Database;
    databaseReadiness: DatabaseReadiness;
  }
}

/**
 * Opens the database and, once the server is up, migrates it in the background with
 * backoff: an unreachable database makes the service not-ready, never a crash loop. A
 * migration that gave up on its locks is not tried again: each try queues the requests on
 * its table behind it, so the replica stays not ready until an operator steps in.
 */
export const databasePlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    const db = await openDatabase(config, app.log);
    const tasks: StartupTask[] = [];
    const stopping = new AbortController();
    let ready = false;
    let markReady: () => void = () => undefined;
    const readyPromise = new Promise<void>((resolve) => (markReady = resolve));

    app.decorate('database', db);
    app.decorate('databaseReadiness', {
      get ready() {
        return ready;
      },
      whenReady: () => readyPromise,
      onReady: (task: StartupTask) => void tasks.push(task),
    });

    new Gauge({
      name: 'db_pool_connections',
      help: 'Database pool connections by state',
      labelNames: ['state'] as const,
      registers: [app.metrics.registry],
      collect() {
        const stats = db.poolStats();
        this.set({ state: 'total' }, stats.total);
        this.set({ state: 'idle' }, stats.idle);
        this.set({ state: 'waiting' }, stats.waiting);
      },
    });

    const initialize = async () => {
      for (let attempt = 0; !stopping.signal.aborted; attempt++) {
        try {
          await migrate(db, app.log, migrationSettings(config));
          for (const task of tasks) await task(db);
          ready = true;
          markReady();
          app.log.info({ driver: db.driver }, 'database: ready');
          return;
        } catch (error) {
          if (error instanceof MigrationLockTimeoutError) {
            const { version, lockTimeoutMs, attempts } = error;
            app.log.error(
              { err: error, migration: version },
              `database: not ready, and migration ${version} will not be tried again: a ` +
                'transaction held a lock it needs for longer than MIGRATION_LOCK_TIMEOUT_MS ' +
                `(${lockTimeoutMs} ms) ${attempts === 1 ? 'once' : `${attempts} times`}, and ` +
                'each try holds up the requests on the table it changes. Find the transaction ' +
                "(pg_stat_activity: state 'idle in transaction', or an old xact_start) and end " +
                'it, then run the migration (the Migrate task or Job) and restart the replicas',
            );
            return;
          }
          const delay = backoffDelay(attempt);
          app.log.warn({ err: error, retryInMs: delay }, 'database: not ready, retrying');
          await sleep(delay, undefined, { signal: stopping.signal }).catch(() => undefined);
        }
      }
    };

    app.addHook('onReady', async () => void initialize());
    app.addHook('onClose', async () => {
      stopping.abort();
      await db.close();
    });
  },
  { name: 'database', dependencies: ['metrics'] },
);
