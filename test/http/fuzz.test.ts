import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenOnLoopback, startApp, testConfig } from '../helpers/app.js';
import { expectRawAnswerRules, sendRaw } from '../helpers/raw-http.js';

// 5,000 in CI; FUZZ_RUNS=100000 for a long local hunt.
const RUNS = Number(process.env.FUZZ_RUNS ?? 5000);
const ADMIN_TOKEN = 'fuzz-admin-token-0123456789';
const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
const NO_FAULTS = { latencyMs: 0, errorRate: 0, sick: false };

const segment = fc.oneof(
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.string({ unit: 'grapheme', maxLength: 20 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', maxLength: 20 }).map(encodeURIComponent),
  fc.constantFrom('%', '%zz', '%00', '%FF%FE', '%C0%AF', '..', '.', '', '%2e%2e', '%2F', ';', '~'),
  fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String),
  fc.integer().map(String),
  fc.constantFrom('alice', 'Bob', '1', '0', '-1', '9007199254740993', 'a'.repeat(300)),
);
const query = fc.option(
  fc
    .array(fc.tuple(fc.constantFrom('limit', 'cursor', 'after', 'x', ''), segment), {
      maxLength: 4,
    })
    .map((pairs) => `?${pairs.map(([key, value]) => `${key}=${value}`).join('&')}`),
  { nil: '' },
);
const path = fc
  .tuple(
    fc.oneof(
      fc.constantFrom(
        '/items',
        '/counter',
        '/decrement',
        '/reset',
        '/counter/events',
        '/status',
        '/healthz',
        '/readyz',
        '/metrics',
        '/docs/json',
        '/admin/faults',
        '/',
        '//items',
        '/items/',
      ),
      segment.map((id) => `/items/${id}`),
      segment.map((name) => `/hello/${name}`),
      segment.map((name) => `/assets/${name}`),
      fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => `/${parts.join('/')}`),
    ),
    query,
  )
  .map(([target, search]) => target + search);

const method = fc.oneof(
  fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
  fc.stringMatching(/^[A-Z]{1,12}$/),
);

const deeplyNested = fc
  .integer({ min: 1, max: 5000 })
  .map((depth) => '['.repeat(depth) + ']'.repeat(depth));
// What PUT /admin/faults takes, with values in and out of range and of the wrong types.
const faultsBody = fc
  .record(
    {
      latencyMs: fc.oneof(fc.integer({ min: -10, max: 40_000 }), fc.double(), fc.string()),
      errorRate: fc.oneof(fc.double({ min: -1, max: 2 }), fc.integer(), fc.boolean()),
      sick: fc.oneof(fc.boolean(), fc.constantFrom('true', 0, 1, null)),
      extra: fc.jsonValue({ maxDepth: 1 }),
    },
    { requiredKeys: [] },
  )
  .map((value) => JSON.stringify(value));
const body = fc.oneof(
  fc.constant(''),
  fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
  fc
    .record(
      {
        name: fc.oneof(
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.jsonValue({ maxDepth: 2 }),
        ),
        dateOfBirth: fc.oneof(
          fc.date({ noInvalidDate: true }).map((date) => date.toISOString().slice(0, 10)),
          fc.string({ maxLength: 30 }),
          fc.integer(),
        ),
        quantity: fc.oneof(fc.integer(), fc.double()),
      },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value)),
  faultsBody,
  deeplyNested,
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom(
    '{',
    'null',
    '"x"',
    '{"__proto__":{"polluted":1}}',
    '{"constructor":{"prototype":{}}}',
  ),
  fc.integer({ min: 16_385, max: 70_000 }).map((size) => `{"name":"${'x'.repeat(size)}"}`),
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'appl\u00e9cation/json',
  '',
);
const extraHeaders = fc.array(
  fc.oneof(
    contentType.map((type) => `Content-Type: ${type}`),
    fc.constantFrom(
      `Authorization: Bearer ${ADMIN_TOKEN}`,
      'Authorization: Bearer wrong',
      'Authorization: Basic Zm9vOmJhcg==',
      'Authorization:',
      'X-Request-Id: ../../etc/passwd',
      'X-Request-Id: \u00ff\u00fe',
      'If-None-Match: "x", *',
      'Accept: */*',
      'Accept-Encoding: gzip, br, zstd',
      'Content-Length: -1',
      'Expect: 100-continue',
      'Range: bytes=0-0',
      'X-Forwarded-For: 1.2.3.4, ::1',
    ),
    fc.string({ unit: 'binary-ascii', maxLength: 60 }).map((value) => `X-Fuzz: ${value}`),
  ),
  { maxLength: 4 },
);

/** How the body is framed: honest, or the ways clients and smugglers get it wrong. */
const framing = fc.constantFrom('length', 'short-length', 'chunked', 'broken-chunked', 'both');

function frame(kind: string, body: Buffer): { headers: string[]; bytes: Buffer } {
  const length = (n: number) => `Content-Length: ${n}`;
  const chunked = (data: Buffer) =>
    Buffer.concat([
      Buffer.from(data.length > 0 ? `${data.length.toString(16)}\r\n` : ''),
      data,
      Buffer.from(data.length > 0 ? '\r\n0\r\n\r\n' : '0\r\n\r\n'),
    ]);
  switch (kind) {
    case 'short-length': // the rest reads as a second request, after the first answer
      return { headers: [length(Math.floor(body.length / 2))], bytes: body };
    case 'chunked':
      return { headers: ['Transfer-Encoding: chunked'], bytes: chunked(body) };
    case 'broken-chunked':
      return {
        headers: ['Transfer-Encoding: chunked'],
        bytes: Buffer.from('zz\r\n{}\r\n0\r\n\r\n'),
      };
    case 'both':
      return { headers: [length(body.length), 'Transfer-Encoding: chunked'], bytes: chunked(body) };
    default:
      return { headers: [length(body.length)], bytes: body };
  }
}

/** A request as bytes: the method, target, headers (duplicates allowed) and body are free. */
function httpRequest(parts: {
  method: fc.Arbitrary<string>;
  path: fc.Arbitrary<string>;
  headers: fc.Arbitrary<string[]>;
  body: fc.Arbitrary<string>;
}): fc.Arbitrary<Buffer> {
  return fc
    .record({ ...parts, framing, type: fc.option(contentType, { nil: undefined }) })
    .map(({ method: verb, path: target, headers, body: payload, framing: kind, type }) => {
      const lines = [`${verb} ${target} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
      if (type !== undefined) lines.push(`Content-Type: ${type}`);
      lines.push(...headers);
      const framed = frame(kind, Buffer.from(payload, 'utf8'));
      lines.push(...framed.headers);
      return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), framed.bytes]);
    });
}

const request = httpRequest({ method, path, headers: extraHeaders, body });
/** Aimed at fault injection: mostly with the admin token, so bodies reach the schema. */
const faultsRequest = httpRequest({
  method: fc.constantFrom('PUT', 'PUT', 'PUT', 'GET', 'POST', 'PATCH'),
  path: fc.constantFrom('/admin/faults', '/admin/faults?x=1', '/admin/faults/'),
  headers: fc
    .tuple(
      fc.constantFrom(`Authorization: Bearer ${ADMIN_TOKEN}`, 'Authorization: Bearer wrong'),
      extraHeaders,
    )
    .map(([authorization, others]) => [authorization, ...others]),
  body: fc.oneof(
    { weight: 3, arbitrary: faultsBody },
    // Valid settings too, so faults really get set (and then cleared by `check`).
    {
      weight: 1,
      arbitrary: fc
        .record({
          latencyMs: fc.integer({ min: 0, max: 30_000 }),
          errorRate: fc.double({ min: 0, max: 1, noNaN: true }),
          sick: fc.boolean(),
        })
        .map((value) => JSON.stringify(value)),
    },
    { weight: 1, arbitrary: body },
  ),
});

describe('HTTP fuzzing', () => {
  let app: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    app = await startApp(
      testConfig({ ADMIN_TOKEN, COUNTER_INITIAL_STOCK: '1000', FAULT_INJECTION: 'true' }),
    );
    port = await listenOnLoopback(app);
  });
  afterAll(() => app.close());

  /** Sends one request and holds its answer, and the faults it may have set, to the rules. */
  async function check(bytes: Buffer): Promise<void> {
    const response = await sendRaw(port, bytes);
    expect(response.status, response.headers).toBeGreaterThanOrEqual(100);
    expect(response.status, response.headers).toBeLessThan(500);
    const head = bytes.subarray(0, bytes.indexOf('\r\n')).toString('latin1');
    expectRawAnswerRules(response, head.split(' ')[0] ?? '');
    // Whatever /admin/faults was sent, the faults it keeps are within their bounds.
    const faults = await app.inject({ method: 'GET', url: '/admin/faults', headers: admin });
    const kept = faults.json<typeof NO_FAULTS>();
    expect(Object.keys(kept).sort(), faults.body).toEqual(['errorRate', 'latencyMs', 'sick']);
    expect(Number.isInteger(kept.latencyMs) && kept.latencyMs >= 0, faults.body).toBe(true);
    expect(kept.latencyMs <= 30_000 && kept.errorRate >= 0 && kept.errorRate <= 1).toBe(true);
    expect(typeof kept.sick, faults.body).toBe('boolean');
    // Injected failures are answers an operator asked for: none carries over to the next case.
    await app.inject({ method: 'PUT', url: '/admin/faults', headers: admin, payload: NO_FAULTS });
  }
  // Out of time is a failure: a run cut short must not pass as all of its requests.
  const limits = { interruptAfterTimeLimit: 240_000, markInterruptAsFailure: true };

  it(`never answers 5xx; every answer has the security headers, every 4xx the error shape (${RUNS} requests)`, async () => {
    await fc.assert(fc.asyncProperty(request, check), { numRuns: RUNS, ...limits });
  }, 300_000);

  it(`keeps fault injection's settings valid, whatever it is sent (${RUNS / 5} requests)`, async () => {
    await fc.assert(fc.asyncProperty(faultsRequest, check), { numRuns: RUNS / 5, ...limits });
  }, 300_000);

  it('is still up, and its invariants hold, afterwards', async () => {
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    const counter = (await app.inject({ method: 'GET', url: '/counter' })).json<{
      counter: number;
    }>();
    expect(counter.counter).toBeGreaterThanOrEqual(0);
    expect(counter.counter).toBeLessThanOrEqual(1000);
    let url: string | undefined = '/items?limit=100';
    let seen = 0;
    while (url !== undefined && seen < 100_000) {
      const page: Awaited<ReturnType<FastifyInstance['inject']>> = await app.inject({
        method: 'GET',
        url,
      });
      expect(page.statusCode).toBe(200);
      const items = page.json<{ name: unknown }[]>();
      for (const item of items)
        expect(typeof item.name === 'string' && item.name.trim().length > 0).toBe(true);
      seen += items.length;
      url = /<([^>]+)>;\s*rel="next"/.exec(String(page.headers.link ?? ''))?.[1];
    }
  });
});
