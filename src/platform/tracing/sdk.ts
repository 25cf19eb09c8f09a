import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { isSpanContextValid, trace, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { InstrumentationBase } from '@opentelemetry/instrumentation';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-node';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '@opentelemetry/semantic-conventions';
import type { FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Config } from '../../config.js';
import { version } from '../version.js';
import type { Tracing } from './index.js';

// Probes and scrapes every few seconds would be most of the traces and tell nothing.
const UNTRACED_ROUTES = new Set(['/healthz', '/readyz', '/metrics']);
const kSpanContext = Symbol('shipshape span context');
type TracedRequest = FastifyRequest & { [kSpanContext]?: SpanContext };

/**
 * The OpenTelemetry SDK: a tracer provider exporting OTLP over HTTP in batches, the W3C
 * trace-context propagator, and spans for every request (@fastify/otel), each PostgreSQL
 * query and each Redis command. The server is one esbuild bundle, so loader hooks that patch
 * modules as they are imported never see pg (bundled) or ioredis; both are patched here
 * instead, through the instrumentations' own module definitions (decision 29).
 */
export function createTracing(config: Config, tracesUrl: string): Tracing {
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      'service.instance.id': hostname(),
      ...parseResourceAttributes(config.OTEL_RESOURCE_ATTRIBUTES),
      [ATTR_SERVICE_NAME]: config.OTEL_SERVICE_NAME,
      [ATTR_SERVICE_VERSION]: version,
    }),
    sampler: sampler(config),
    spanProcessors: [
      new BatchSpanProcessor(
        config.OTEL_EXPORTER_OTLP_PROTOCOL === 'http/json'
          ? new JsonExporter({ url: tracesUrl })
          : new ProtobufExporter({ url: tracesUrl }),
      ),
    ],
  });
  provider.register();

  // Spans only inside a request's trace: the pool's own connects and the LISTEN session's
  // reconnects are not requests.
  patch(new PgInstrumentation({ enabled: false, requireParentSpan: true }), pg);
  const ioredisVersion = (
    createRequire(import.meta.url)('ioredis/package.json') as { version: string }
  ).version;
  patch(
    new IORedisInstrumentation({ enabled: false, requireParentSpan: true }),
    Redis,
    ioredisVersion,
  );

  const fastifyInstrumentation = new FastifyOtelInstrumentation({
    // Each request's server span only: spans per hook would cost more than they tell.
    instrumentHooks: false,
    instrumentHandler: false,
    ignorePaths: (route: { url?: string }) => UNTRACED_ROUTES.has(route.url ?? ''),
    requestHook: (span, request: TracedRequest) => {
      const route = request.routeOptions.url;
      // The semantic conventions' name for a server span: the method and the route template.
      span.updateName(route === undefined ? request.method : `${request.method} ${route}`);
      span.setAttributes({
        [ATTR_URL_SCHEME]: request.protocol,
        [ATTR_CLIENT_ADDRESS]: request.ip,
        ...(request.headers['user-agent'] === undefined
          ? {}
          : { [ATTR_USER_AGENT_ORIGINAL]: request.headers['user-agent'] }),
      });
      request[kSpanContext] = span.spanContext();
    },
  });
  fastifyInstrumentation.setTracerProvider(provider);

  return {
    plugin: fastifyInstrumentation.plugin(),
    logFields(): Record<string, string> {
      const context = trace.getActiveSpan()?.spanContext();
      return context !== undefined && isSpanContextValid(context)
        ? { trace_id: context.traceId, span_id: context.spanId }
        : {};
    },
    exemplarOf(request) {
      const context = (request as TracedRequest)[kSpanContext];
      // An exemplar should lead to a trace the backend has: sampled ones only.
      if (context === undefined || (context.traceFlags & TraceFlags.SAMPLED) === 0)
        return undefined;
      return { trace_id: context.traceId, span_id: context.spanId };
    },
    shutdown: () => provider.shutdown(),
  };
}

/** Applies an instrumentation's patches to a module we already hold, without loader hooks. */
function patch(
  instrumentation: InstrumentationBase,
  moduleExports: unknown,
  moduleVersion?: string,
) {
  const [definition] = instrumentation.getModuleDefinitions();
  if (definition?.patch === undefined)
    throw new Error(`${instrumentation.instrumentationName}: nothing to patch`);
  definition.patch(moduleExports, moduleVersion);
}

function sampler(config: Config): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.OTEL_TRACES_SAMPLER_ARG ?? 1);
  switch (config.OTEL_TRACES_SAMPLER) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
  }
}

/** `key=value,key=value`, values percent-encoded (the W3C Baggage octet rules). */
export function parseResourceAttributes(text: string | undefined): Record<string, string> {
  if (text === undefined) return {};
  return Object.fromEntries(
    text.split(',').map((pair) => {
      const at = pair.indexOf('=');
      const value = pair.slice(at + 1).trim();
      return [pair.slice(0, at).trim(), decodeOr(value)];
    }),
  );
}

function decodeOr(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
