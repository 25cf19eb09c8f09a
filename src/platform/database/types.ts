/** What a connection can do: parameterised queries and multi-statement scripts. */
export interface Queryable {
  query<Row>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface SessionOptions {
  /**
   * A connection of its own whose statements may each run this long, instead of a pooled
   * one under DATABASE_TIMEOUT_MS (migrations: an index build can take minutes).
   */
  statementTimeoutMs?: number;
}

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

/** Called with each NOTIFY payload, and with `undefined` after a reconnection that may have missed some. */
export type NotificationHandler = (payload: string | undefined) => void;

/** PostgreSQL, whichever engine runs it: a server through `pg`, or PGlite in process. */
export interface Database extends Queryable {
  readonly driver: 'postgres' | 'pglite';
  /** Runs `work` on one connection held for its whole duration (session-level locks, transactions). */
  withSession<T>(work: (session: Queryable) => Promise<T>, options?: SessionOptions): Promise<T>;
  /** Subscribes to a NOTIFY channel, reconnecting by itself; resolves to an unsubscribe function. */
  listen(channel: string, onNotification: NotificationHandler): Promise<() => Promise<void>>;
  poolStats(): PoolStats;
  close(): Promise<void>;
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '53300', // too_many_connections
  // Transient under load: a statement over DATABASE_TIMEOUT_MS, a lock or a serialisation
  // conflict. The request may succeed if retried, so it is a 503, not a 500.
  '57014', // query_canceled (statement_timeout)
  '55P03', // lock_not_available
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Connection closed/i;

/** True when the database cannot serve this request right now (answer 503, not 500). */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.has(code)) return true;
  if (error instanceof AggregateError) return error.errors.some(isDatabaseUnavailable);
  return UNAVAILABLE_MESSAGES.test(error.message);
}
