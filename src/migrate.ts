import pino from 'pino';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './platform/database/index.js';
import { migrate } from './platform/database/migrations.js';

// `npm run migrate`: apply pending migrations once (a pre-deploy job) and exit non-zero on failure.
const log = pino({ base: { service: 'shipshape', task: 'migrate' } });
try {
  const config = loadConfig();
  const db = await openDatabase(config, log);
  try {
    const applied = await migrate(db, log);
    log.info({ applied }, applied.length === 0 ? 'migrate: up to date' : 'migrate: done');
  } finally {
    await db.close();
  }
} catch (error) {
  if (error instanceof ConfigError) console.error(error.message);
  else log.error({ err: error }, 'migrate: failed');
  process.exitCode = 1;
}
