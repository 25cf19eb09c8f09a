import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A span as the receiver read it, whichever OTLP encoding carried it. */
export interface ReceivedSpan {
  resource: Record<string, unknown>;
  scope: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, unknown>;
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  status: number;
}

/** An OTLP/HTTP trace receiver on loopback, as a collector would be: POST /v1/traces. */
export interface OtlpReceiver {
  /** The base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  spans: ReceivedSpan[];
  /** The content type of every export request. */
  contentTypes: string[];
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const type = request.headers['content-type'] ?? '';
      contentTypes.push(type);
      const body = Buffer.concat(chunks);
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      const json = type.startsWith('application/json');
      spans.push(
        ...(json ? fromJson(JSON.parse(body.toString()) as JsonRequest) : fromProtobuf(body)),
      );
      // An empty ExportTraceServiceResponse: full success.
      response
        .writeHead(200, { 'content-type': json ? 'application/json' : type })
        .end(json ? '{}' : '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    contentTypes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface JsonKeyValue {
  key: string;
  value: Record<string, unknown>;
}
interface JsonRequest {
  resourceSpans: {
    resource?: { attributes?: JsonKeyValue[] };
    scopeSpans: {
      scope?: { name?: string };
      spans: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: JsonKeyValue[];
        status?: { code?: number };
      }[];
    }[];
  }[];
}

/** OTLP/JSON: ids are hex, 64-bit integers are strings. */
function fromJson(request: JsonRequest): ReceivedSpan[] {
  const attributes = (list: JsonKeyValue[] = []) =>
    Object.fromEntries(list.map(({ key, value }) => [key, Object.values(value)[0]]));
  return request.resourceSpans.flatMap((resourceSpans) =>
    resourceSpans.scopeSpans.flatMap((scopeSpans) =>
      scopeSpans.spans.map((span) => ({
        resource: attributes(resourceSpans.resource?.attributes),
        scope: scopeSpans.scope?.name ?? '',
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? '',
        name: span.name,
        kind: span.kind,
        attributes: attributes(span.attributes),
        status: span.status?.code ?? 0,
      })),
    ),
  );
}

/**
 * OTLP/protobuf, read with the protobuf wire format and the field numbers of
 * opentelemetry/proto/trace/v1/trace.proto: enough of it for the fields above.
 */
function fromProtobuf(body: Buffer): ReceivedSpan[] {
  return fields(body)
    .filter((field) => field.number === 1)
    .flatMap(({ bytes }) => {
      const resourceSpans = fields(bytes);
      const resource = keyValues(fields(one(resourceSpans, 1) ?? Buffer.alloc(0)), 1);
      return resourceSpans
        .filter((field) => field.number === 2)
        .flatMap(({ bytes: scopeSpansBytes }) => {
          const scopeSpans = fields(scopeSpansBytes);
          const scope = text(one(fields(one(scopeSpans, 1) ?? Buffer.alloc(0)), 1));
          return scopeSpans
            .filter((field) => field.number === 2)
            .map(({ bytes: spanBytes }) => {
              const span = fields(spanBytes);
              return {
                resource,
                scope,
                traceId: hex(one(span, 1)),
                spanId: hex(one(span, 2)),
                parentSpanId: hex(one(span, 4)),
                name: text(one(span, 5)),
                kind: span.find((field) => field.number === 6)?.value ?? 0,
                attributes: keyValues(span, 9),
                status:
                  fields(one(span, 15) ?? Buffer.alloc(0)).find((field) => field.number === 3)
                    ?.value ?? 0,
              };
            });
        });
    });
}

interface Field {
  number: number;
  /** Varints as numbers; length-delimited fields as bytes. */
  value?: number;
  bytes: Buffer;
}

function fields(buffer: Buffer): Field[] {
  const result: Field[] = [];
  let at = 0;
  const varint = () => {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const byte = buffer[at++] ?? 0;
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
    }
  };
  while (at < buffer.length) {
    const key = Number(varint());
    const number = key >> 3;
    switch (key & 7) {
      case 0:
        result.push({ number, value: Number(varint()), bytes: Buffer.alloc(0) });
        break;
      case 1:
        result.push({ number, bytes: buffer.subarray(at, (at += 8)) });
        break;
      case 2: {
        const length = Number(varint());
        result.push({ number, bytes: buffer.subarray(at, (at += length)) });
        break;
      }
      case 5:
        result.push({ number, bytes: buffer.subarray(at, (at += 4)) });
        break;
      default:
        throw new Error(`unexpected protobuf wire type ${key & 7}`);
    }
  }
  return result;
}

const one = (list: Field[], number: number) => list.find((field) => field.number === number)?.bytes;
const text = (bytes: Buffer | undefined) => bytes?.toString('utf8') ?? '';
const hex = (bytes: Buffer | undefined) => bytes?.toString('hex') ?? '';

/** KeyValue { key = 1; AnyValue value = 2 }, AnyValue { string 1, bool 2, int 3, double 4 }. */
function keyValues(list: Field[], number: number): Record<string, unknown> {
  return Object.fromEntries(
    list
      .filter((field) => field.number === number)
      .map(({ bytes }) => {
        const pair = fields(bytes);
        const [value] = fields(one(pair, 2) ?? Buffer.alloc(0));
        const decoded =
          value === undefined
            ? undefined
            : value.number === 1
              ? text(value.bytes)
              : value.number === 4
                ? value.bytes.readDoubleLE(0)
                : value.value;
        return [text(one(pair, 1)), value?.number === 2 ? decoded === 1 : decoded];
      }),
  );
}
