import pino from 'pino';
import { ConfigError, loadConfig, type Config } from './config.js';
import { openDatabase } from './platform/database/index.js';
import { migrate, migrationSettings } from './platform/database/migrations.js';
import { logDestination, loggerOptions } from './platform/logging.js';

// `npm run migrate`: apply pending migrations once (a pre-deploy job); exit 1 on any failure.
let config: Config;
try {
  config = loadConfig(process.env, 'task');
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}

const log = pino(loggerOptions(config), logDestination()).child({ task: 'migrate' });
try {
  const db = await openDatabase(config, log);
  try {
    const applied = await migrate(db, log, migrationSettings(config));
    log.info({ applied }, applied.length === 0 ? 'migrate: up to date' : 'migrate: done');
  } finally {
    await db.close();
  }
} catch (error) {
  log.error({ err: error }, 'migrate: failed');
  process.exitCode = 1;
}
