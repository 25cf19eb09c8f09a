import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Config } from '../../config.js';
import type { Database } from './types.js';

export { isDatabaseUnavailable } from './types.js';
export type { Database, Queryable } from './types.js';

/**
 * PostgreSQL when DATABASE_URL is set, otherwise embedded PGlite in DATA_DIR. Each driver
 * is loaded only when chosen, so a replica on PostgreSQL never loads PGlite's code.
 */
export async function openDatabase(config: Config, log: Logger): Promise<Database> {
  if (config.DATABASE_URL === undefined) {
    const { createPgliteDatabase } = await import('./pglite.js');
    return createPgliteDatabase(config.DATA_DIR);
  }
  const { createPostgresDatabase } = await import('./postgres.js');
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
