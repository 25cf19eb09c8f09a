import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import { birthdaysRoutes } from './features/birthdays/routes.js';
import { counterRoutes } from './features/counter/routes.js';
import { itemsRoutes } from './features/items/routes.js';
import { cachePlugin } from './platform/cache/plugin.js';
import { connectionOptions, connectionsPlugin } from './platform/connections.js';
import { databasePlugin } from './platform/database/plugin.js';
import { docsPlugin } from './platform/docs.js';
import { answerFrameworkError, errorsPlugin, serviceUnavailable } from './platform/errors.js';
import { eventStreamsPlugin } from './platform/event-streams.js';
import { faultsPlugin } from './platform/faults.js';
import { healthPlugin } from './platform/health.js';
import { loadSheddingPlugin } from './platform/load-shedding.js';
import {
  logDestination,
  loggerOptions,
  requestIdFor,
  requestLoggingPlugin,
} from './platform/logging.js';
import { metricsPlugin } from './platform/metrics.js';
import { securityPlugin } from './platform/security.js';
import { startTracing } from './platform/tracing/index.js';
import { formatValidationError, validatorCompiler } from './platform/validation.js';
import { webUiPlugin } from './platform/web-ui.js';

/** Builds the whole service without listening, so tests build exactly what production runs. */
export async function buildApp(config: Config): Promise<FastifyInstance> {
  const tracing = await startTracing(config);
  const app = Fastify({
    logger: { ...loggerOptions(config, tracing), stream: logDestination() },
    // Fastify's own two lines per request give way to our one (requestLoggingPlugin).
    logController: new LogController({
      disableRequestLogging: true,
      requestIdLogLabel: 'requestId',
    }),
    genReqId: requestIdFor,
    bodyLimit: config.BODY_LIMIT_BYTES,
    // X-Forwarded-For is believed only from the proxies' own addresses: a client that
    // reaches a replica directly is known by its own address, whatever it claims.
    trustProxy: config.TRUST_PROXY.length === 0 ? false : [...config.TRUST_PROXY],
    schemaErrorFormatter: formatValidationError,
    // A malformed URL (`/items/%zz`) is rejected before routing and before any hook runs.
    frameworkErrors: answerFrameworkError,
    // Idle keep-alive sockets close at shutdown; requests in flight finish first.
    forceCloseConnections: 'idle',
    ...connectionOptions(config),
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  acceptEmptyJsonBodies(app);

  if (tracing !== undefined) {
    // First, so the request's span is active in every hook and log line after it.
    await app.register(tracing.plugin);
    app.addHook('onClose', () => tracing.shutdown());
  }
  await app.register(errorsPlugin);
  await app.register(requestLoggingPlugin);
  // Before any route: the OpenAPI document only sees routes registered after it.
  await app.register(docsPlugin);
  await app.register(securityPlugin, { config });
  await app.register(metricsPlugin, { config, tracing });
  await app.register(connectionsPlugin, { config });
  await app.register(eventStreamsPlugin, { config });
  await app.register(databasePlugin, { config });
  await app.register(cachePlugin, { config });
  await app.register(healthPlugin, { config });
  await app.register(faultsPlugin, { config });

  await app.register(async (features) => {
    // Data routes wait for a migrated database; platform routes above never do.
    features.addHook('onRequest', (_request, _reply, done) => {
      done(
        app.databaseReadiness.ready
          ? undefined
          : serviceUnavailable('The database is not ready yet'),
      );
    });
    // Off (the default), fault injection adds nothing to the request path.
    if (config.FAULT_INJECTION) features.addHook('onRequest', app.injectFaults);
    await features.register(loadSheddingPlugin, { config });
    await features.register(itemsRoutes);
    await features.register(counterRoutes, { config });
    await features.register(birthdaysRoutes, { config });
  });
  await app.register(webUiPlugin);

  warnAboutUnsafeSettings(app, config);
  return app;
}

/** `POST /decrement` with a JSON content type and no body is a normal request, not a 400. */
function acceptEmptyJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  // JSON only: a text/plain body is a 415, not a string that fails validation.
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, undefined);
    else void parseJson(request, body as string, done);
  });
}

/** Says what is unsafe in these settings; production's worst ones never get this far (config). */
function warnAboutUnsafeSettings(app: FastifyInstance, config: Config): void {
  if (config.ADMIN_TOKEN === undefined)
    app.log.warn(`ADMIN_TOKEN is not set: PUT /reset is open to anyone (${config.NODE_ENV} only)`);
  if (config.NODE_ENV !== 'production') return;
  if (config.DATABASE_URL === undefined)
    app.log.warn('DATABASE_URL is not set: using embedded PGlite, for one replica only');
  if (config.DATABASE_URL !== undefined && config.REDIS_URL === undefined)
    app.log.warn('REDIS_URL is not set: the in-process cache is only correct with one replica');
}
