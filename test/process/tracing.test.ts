import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from '../helpers/otlp-receiver.js';
import { freePort } from '../helpers/ports.js';
import { startService, type ServiceProcess } from '../helpers/process.js';
import { waitFor } from '../helpers/wait.js';
import {
  createTestDatabase,
  createTestRedisPrefix,
  realServersAvailable,
} from '../helpers/servers.js';

// A caller's W3C trace context (the example of the Trace Context specification).
const CALLER_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN = 'b7ad6b7169203331';
const STREAM_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
// What an AWS load balancer adds to each request it forwards.
const AMAZON_TRACE = 'Root=1-67891233-abcdef012345678912345678';
const SERVER = 2;
const CLIENT = 3;

interface Run {
  receiver: OtlpReceiver;
  logs: Record<string, unknown>[];
  exitCode: number | null;
  metrics: { type: string; body: string; textOnly: number };
}

/** The built server (`node dist/main.js`) exporting to a receiver of the test's own. */
async function traceRequests(protocol: string): Promise<Run> {
  const database = await createTestDatabase();
  const redis = createTestRedisPrefix();
  const receiver = await startOtlpReceiver();
  let service: ServiceProcess | undefined;
  try {
    service = await startService(
      {
        DATABASE_URL: database.url,
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: redis.prefix,
        SHUTDOWN_DRAIN_MS: '0',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_SERVICE_NAME: 'shipshape-under-test',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
      },
      await freePort(),
      { built: true },
    );
    const items = await fetch(`${service.baseUrl}/items`, {
      headers: {
        traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`,
        'x-amzn-trace-id': AMAZON_TRACE,
      },
    });
    expect(items.status).toBe(200);
    const saved = await fetch(`${service.baseUrl}/hello/alice`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dateOfBirth: '2000-01-01' }),
    });
    expect(saved.status).toBe(204);
    expect((await fetch(`${service.baseUrl}/healthz`)).status).toBe(200);
    // An event stream that the client leaves: its line comes at the close, still traced.
    const leaving = new AbortController();
    const events = await fetch(`${service.baseUrl}/counter/events`, {
      signal: leaving.signal,
      headers: { traceparent: `00-${STREAM_TRACE}-${CALLER_SPAN}-01` },
    });
    await events.body?.getReader().read();
    leaving.abort();
    const logs = service.logs;
    await waitFor('the stream to be logged', async () =>
      logs.some((line) => line.route === '/counter/events'),
    );
    const openMetrics = await fetch(`${service.baseUrl}/metrics`, {
      headers: { accept: 'application/openmetrics-text;version=1.0.0,text/plain;q=0.5' },
    });
    const metrics = {
      type: openMetrics.headers.get('content-type') ?? '',
      body: await openMetrics.text(),
      textOnly: (await fetch(`${service.baseUrl}/metrics`, { headers: { accept: 'text/plain' } }))
        .status,
    };
    // SIGTERM exports what is still queued before the process exits.
    service.child.kill('SIGTERM');
    return {
      receiver,
      logs: service.logs,
      exitCode: await service.exited,
      metrics,
    };
  } finally {
    if (service?.child.exitCode === null) service.child.kill('SIGKILL');
    await database.drop();
    await redis.clear();
  }
}

const serverSpan = (spans: ReceivedSpan[], name: string) => {
  const found = spans.filter((span) => span.kind === SERVER && span.name === name);
  expect(found, name).toHaveLength(1);
  return found[0] as ReceivedSpan;
};
const childrenOf = (spans: ReceivedSpan[], parent: ReceivedSpan, scope: string) =>
  spans.filter((span) => span.parentSpanId === parent.spanId && span.scope === scope);

describe.runIf(realServersAvailable).each(['http/protobuf', 'http/json'])(
  'tracing over OTLP %s, from the built server',
  (protocol) => {
    let run: Run;
    beforeAll(async () => {
      run = await traceRequests(protocol);
    }, 60_000);
    afterAll(() => run.receiver.close());

    it('exports in the chosen encoding, and exits cleanly after the last export', () => {
      expect(run.exitCode).toBe(0);
      expect(run.receiver.contentTypes.length).toBeGreaterThan(0);
      for (const type of run.receiver.contentTypes)
        expect(type).toMatch(
          protocol === 'http/json' ? /^application\/json/ : /^application\/x-protobuf/,
        );
    });

    it("continues the caller's trace: the server span and its PostgreSQL and Redis spans", () => {
      const { spans } = run.receiver;
      const server = serverSpan(spans, 'GET /items');
      expect(server).toMatchObject({
        traceId: CALLER_TRACE,
        parentSpanId: CALLER_SPAN,
        attributes: expect.objectContaining({
          'http.route': '/items',
          'http.request.method': 'GET',
        }) as unknown,
      });
      expect(Number(server.attributes['http.response.status_code'])).toBe(200);
      const queries = childrenOf(spans, server, '@opentelemetry/instrumentation-pg');
      expect(queries.length).toBeGreaterThan(0);
      for (const query of queries) {
        expect(query).toMatchObject({ traceId: CALLER_TRACE, kind: CLIENT });
        expect(query.attributes).toMatchObject({ 'db.system.name': 'postgresql' });
        expect(query.attributes['db.query.text']).toEqual(expect.stringMatching(/^SELECT/));
      }
      const commands = childrenOf(spans, server, '@opentelemetry/instrumentation-ioredis');
      expect(commands.length).toBeGreaterThan(0);
      for (const command of commands) {
        expect(command).toMatchObject({ traceId: CALLER_TRACE, kind: CLIENT });
        expect(command.attributes).toMatchObject({ 'db.system.name': 'redis' });
      }
    });

    it('starts a trace of its own for a request without one, and skips the probes', () => {
      const { spans } = run.receiver;
      const server = serverSpan(spans, 'PUT /hello/:username');
      expect(server.traceId).not.toBe(CALLER_TRACE);
      expect(server.parentSpanId).toBe('');
      expect(childrenOf(spans, server, '@opentelemetry/instrumentation-pg')).not.toHaveLength(0);
      expect(spans.filter((span) => span.attributes['http.route'] === '/healthz')).toEqual([]);
      expect(spans.filter((span) => span.attributes['http.route'] === '/readyz')).toEqual([]);
    });

    it('gives the duration histogram exemplars that lead to the traces, over OpenMetrics', () => {
      const server = serverSpan(run.receiver.spans, 'GET /items');
      expect(run.metrics.type).toMatch(/^application\/openmetrics-text/);
      expect(run.metrics.body).toMatch(
        new RegExp(
          `^http_request_duration_seconds_bucket\\{[^}]*route="/items"[^}]*\\} 1 # \\{trace_id="${server.traceId}",span_id="${server.spanId}"\\}`,
          'm',
        ),
      );
      // Counters keep their names: OpenMetrics writes the _total on each sample.
      expect(run.metrics.body).toMatch(/^http_requests_total\{[^}]*route="\/items"/m);
      expect(run.metrics.body.trimEnd().endsWith('# EOF')).toBe(true);
      // What cannot carry exemplars is refused, with the error shape, not given the wrong format.
      expect(run.metrics.textOnly).toBe(406);
    });

    it('names the service from the standard variables', () => {
      for (const span of run.receiver.spans)
        expect(span.resource).toMatchObject({
          'service.name': 'shipshape-under-test',
          'deployment.environment.name': 'test',
        });
    });

    it("writes the request's trace and span ids into its log line", () => {
      const { spans } = run.receiver;
      for (const [route, name] of [
        ['/items', 'GET /items'],
        ['/hello/:username', 'PUT /hello/:username'],
      ] as const) {
        const server = serverSpan(spans, name);
        const line = run.logs.find((log) => log.msg === 'request completed' && log.route === route);
        expect(line, route).toMatchObject({ trace_id: server.traceId, span_id: server.spanId });
        if (route === '/items') expect(line).toMatchObject({ amazonTraceId: AMAZON_TRACE });
      }
      const stream = run.logs.find((log) => log.route === '/counter/events');
      expect(stream).toMatchObject({ statusCode: 200, trace_id: STREAM_TRACE });
      const probe = run.logs.find((log) => log.route === '/healthz');
      expect(probe).toBeDefined();
      expect(probe).not.toHaveProperty('trace_id');
    });
  },
);
