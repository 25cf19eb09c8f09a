import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import type { Config } from '../../config.js';

/** What the rest of the service sees of tracing when it is on. */
export interface Tracing {
  /** @fastify/otel: a server span per request, continuing an incoming `traceparent`. */
  plugin: FastifyPluginCallback;
  /** `trace_id` and `span_id` of the active span, for every log line written under it. */
  logFields: () => Record<string, string>;
  /** The request's trace, for the duration histogram's exemplar; none if not sampled. */
  exemplarOf: (request: FastifyRequest) => Record<string, string> | undefined;
  /** Exports the spans still queued. */
  shutdown: () => Promise<void>;
}

/**
 * Where spans go: the traces endpoint as given, or the base endpoint's `/v1/traces`
 * (the OTLP exporter specification). Undefined: tracing is off.
 */
export function tracesUrl(config: Config): string | undefined {
  if (config.OTEL_SDK_DISABLED) return undefined;
  if (config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined)
    return config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  return base === undefined ? undefined : `${base.replace(/\/+$/, '')}/v1/traces`;
}

/**
 * Starts tracing when an endpoint is configured. Off, nothing of the SDK is even loaded: it
 * lives in its own chunk of the bundle, imported only here.
 */
export async function startTracing(config: Config): Promise<Tracing | undefined> {
  const url = tracesUrl(config);
  if (url === undefined) return undefined;
  const { createTracing } = await import('./sdk.js');
  return createTracing(config, url);
}
