import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import {
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type RegistryContentType,
} from 'prom-client';
import type { Config } from '../config.js';
import { sendError } from './errors.js';
import { isStream } from './replies.js';
import type { Tracing } from './tracing/index.js';
import { version } from './version.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: { registry: Registry<RegistryContentType> };
  }
}

const kRecorded = Symbol('shipshape request recorded');
type RecordedRequest = FastifyRequest & { [kRecorded]?: true };

/**
 * One registry per app (tests build several in one process). Default metrics bring
 * process, heap, GC and event-loop lag; this adds per-route rate, errors and duration, and
 * the build each replica runs. With tracing on, the duration histogram carries exemplars
 * (a trace of a request in each bucket), which only OpenMetrics can express: the registry
 * then speaks OpenMetrics, which Prometheus asks for first.
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance, { config, tracing }: { config: Config; tracing?: Tracing }) => {
    const registry = new Registry<RegistryContentType>();
    if (tracing !== undefined) registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    collectDefaultMetrics({ register: registry });
    const labelNames = ['method', 'route', 'status_code'] as const;
    const duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by route and status (an event stream: until it opened)',
      labelNames,
      // From sub-millisecond cache hits to the database timeout. The SLOs' latency
      // thresholds (slo/objectives.ts) must be among these bounds.
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      enableExemplars: tracing !== undefined,
      registers: [registry],
    });
    // The same number as the histogram's count, read from it when scraped: one update per
    // request instead of two.
    new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames,
      registers: [registry],
      async collect() {
        const { values } = await duration.get();
        this.reset();
        for (const { metricName, labels, value } of values)
          if (metricName === 'http_request_duration_seconds_count') this.inc(labels, value);
      },
    });
    // Grafana marks a deploy where a new revision appears.
    new Gauge({
      name: 'shipshape_build_info',
      help: 'Always 1; the labels say which build this replica runs',
      labelNames: ['version', 'revision'] as const,
      registers: [registry],
    }).set({ version, revision: config.GIT_REVISION }, 1);
    app.decorate('metrics', { registry });

    const record = (request: RecordedRequest, reply: FastifyReply) => {
      request[kRecorded] = true;
      const labels = {
        method: request.method,
        // The route pattern, never the raw URL: bounded label values, no usernames.
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      };
      const seconds = reply.elapsedTime / 1000;
      if (tracing === undefined) duration.observe(labels, seconds);
      else
        duration.observe({ labels, value: seconds, exemplarLabels: tracing.exemplarOf(request) });
    };
    // A streamed reply (the counter's events) counts once it starts: it lasts for minutes,
    // and its outcome, for the SLOs, is whether it opened.
    app.addHook('onSend', (request: RecordedRequest, reply, payload, done) => {
      if (isStream(payload)) record(request, reply);
      done(null, payload);
    });
    app.addHook('onResponse', (request: RecordedRequest, reply, done) => {
      if (request[kRecorded] !== true) record(request, reply);
      done();
    });

    app.get(
      '/metrics',
      {
        schema: { tags: ['platform'], summary: 'Prometheus metrics (text or OpenMetrics)' },
        config: { rateLimit: false },
      },
      async (request, reply) => {
        // Prometheus text is what every client has always been given; OpenMetrics is not.
        if (tracing !== undefined && !accepts(request.headers.accept, registry.contentType))
          return sendError(reply, 406, `Metrics are served as ${registry.contentType} only`);
        reply.type(registry.contentType);
        return registry.metrics();
      },
    );
  },
  { name: 'metrics' },
);

/** Whether an Accept header allows a content type (no header: anything goes). */
function accepts(accept: string | undefined, contentType: string): boolean {
  if (accept === undefined) return true;
  const [type = ''] = contentType.split(';');
  return accept
    .split(',')
    .map((range) => range.split(';')[0]?.trim().toLowerCase())
    .some((range) => range === '*/*' || range === type || range === `${type.split('/')[0]}/*`);
}
