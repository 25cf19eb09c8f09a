import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { installShutdown } from './platform/shutdown.js';

try {
  const config = loadConfig();
  const app = await buildApp(config);
  installShutdown(app, {
    drainMs: config.SHUTDOWN_DRAIN_MS,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
  });
  await app.listen({ host: config.HOST, port: config.PORT });
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}
