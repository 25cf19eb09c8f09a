import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Config } from '../../config.js';
import { createPgliteDatabase } from './pglite.js';
import { createPostgresDatabase } from './postgres.js';
import type { Database } from './types.js';

export { isDatabaseUnavailable } from './types.js';
export type { Database, Queryable } from './types.js';

/** PostgreSQL when DATABASE_URL is set, otherwise embedded PGlite in DATA_DIR. */
export async function openDatabase(config: Config, log: Logger): Promise<Database> {
  if (config.DATABASE_URL === undefined) return createPgliteDatabase(config.DATA_DIR);
  return createPostgresDatabase(
    {
      connectionString: config.DATABASE_URL,
      poolMax: config.DATABASE_POOL_MAX,
      timeoutMs: config.DATABASE_TIMEOUT_MS,
      applicationName: 'shipshape',
    },
    log,
  );
}
