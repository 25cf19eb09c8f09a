import pg from 'pg';
import type { FastifyBaseLogger as Logger } from 'fastify';
import { backoffDelay, sleep } from '../retry.js';
import type { Database, NotificationHandler, Queryable } from './types.js';

export interface PostgresOptions {
  connectionString: string;
  poolMax: number;
  timeoutMs: number;
  applicationName: string;
}

/** PostgreSQL through a `pg` pool. Nothing connects until the first query. */
export function createPostgresDatabase(options: PostgresOptions, log: Logger): Database {
  const clientConfig = {
    connectionString: options.connectionString,
    application_name: options.applicationName,
    connectionTimeoutMillis: options.timeoutMs,
    // Both sides time out: the server cancels slow statements, the client gives up on a
    // silent network, so a request never hangs longer than the configured timeout.
    statement_timeout: options.timeoutMs,
    query_timeout: options.timeoutMs + 1000,
  };
  const pool = new pg.Pool({ ...clientConfig, max: options.poolMax });
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on('error', (error) => log.warn({ err: error }, 'database: idle connection lost'));
  const listeners = new Set<Listener>();

  return {
    driver: 'postgres',
    ...asQueryable(pool),
    async withSession(work, { statementTimeoutMs } = {}) {
      if (statementTimeoutMs === undefined) {
        const client = await pool.connect();
        try {
          return await work(asQueryable(client));
        } finally {
          client.release();
        }
      }
      // Outside the pool, so the longer timeout never outlives this session.
      const client = new pg.Client({
        ...clientConfig,
        statement_timeout: statementTimeoutMs,
        query_timeout: statementTimeoutMs + 1000,
      });
      client.on('error', (error) => log.warn({ err: error }, 'database: session connection lost'));
      await client.connect();
      try {
        return await work(asQueryable(client));
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    async listen(channel, onNotification) {
      const listener = new Listener(clientConfig, channel, onNotification, log);
      listeners.add(listener);
      // With the database up, changes made once the app is ready are never missed.
      await listener.start();
      return async () => {
        listeners.delete(listener);
        await listener.stop();
      };
    },
    poolStats: () => ({
      total: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
    }),
    async close() {
      await Promise.all([...listeners].map((listener) => listener.stop()));
      await pool.end();
    },
  };
}

// Statement names by SQL text: the service sends a handful of distinct statements, all
// written in the code, never built from input.
const statementNames = new Map<string, string>();
const statementName = (sql: string) => {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `shipshape_${statementNames.size + 1}`;
    statementNames.set(sql, name);
  }
  return name;
};

function asQueryable(target: pg.Pool | pg.PoolClient | pg.Client): Queryable {
  return {
    // Named, so each connection has PostgreSQL parse and plan a statement once, not each
    // time: the round trip then carries only the values (queries select their columns by
    // name, so a migration that adds one leaves the prepared statements valid).
    async query<Row>(sql: string, params?: unknown[]) {
      const statement = { name: statementName(sql), text: sql, values: params };
      return (await target.query(statement)).rows as Row[];
    },
    async exec(sql: string) {
      await target.query(sql);
    },
  };
}

/** One dedicated connection holding LISTEN, replaced with backoff whenever it drops. */
class Listener {
  private client: pg.Client | undefined;
  private wake: (() => void) | undefined;
  private readonly abort = new AbortController();

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly channel: string,
    private readonly onNotification: NotificationHandler,
    private readonly log: Logger,
  ) {}

  private stopped(): boolean {
    return this.abort.signal.aborted;
  }

  /** Resolves once the first attempt has ended, listening or not (retries go on). */
  start(): Promise<void> {
    return new Promise((firstAttemptEnded) => void this.run(firstAttemptEnded));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.wake?.();
    await this.client?.end().catch(() => undefined);
  }

  private async run(firstAttemptEnded: () => void): Promise<void> {
    for (let attempt = 0; !this.stopped();) {
      const client = new pg.Client({ ...this.config, query_timeout: undefined });
      this.client = client;
      const lost = new Promise<void>((resolve) => {
        client.on('error', () => resolve());
        client.on('end', () => resolve());
        this.wake = resolve;
      });
      try {
        await client.connect();
        client.on('notification', (message) => {
          if (message.channel === this.channel) this.onNotification(message.payload ?? '');
        });
        await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
        if (attempt > 0) {
          this.log.info({ channel: this.channel }, 'database: listener reconnected');
          this.onNotification(undefined);
        }
        attempt = 1;
        firstAttemptEnded();
        await lost;
      } catch (error) {
        if (!this.stopped())
          this.log.warn({ err: error, channel: this.channel }, 'database: listener failed');
        firstAttemptEnded();
      }
      await client.end().catch(() => undefined);
      if (this.stopped()) break;
      await sleep(backoffDelay(attempt++), undefined, { signal: this.abort.signal }).catch(
        () => undefined,
      );
    }
  }
}
