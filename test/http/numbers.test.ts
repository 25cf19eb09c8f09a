import fc from 'fast-check';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backends, listenOnLoopback, useApp } from '../helpers/app.js';
import { expectRawAnswerRules, sendRaw } from '../helpers/raw-http.js';

// 5,000 in CI, as the fuzz suite; FUZZ_RUNS=100000 for a long local hunt.
const RUNS = Number(process.env.FUZZ_RUNS ?? 5000);
// PostgreSQL's bigint, the widest numeric column behind any parameter.
const BIGINT_MAX = 2n ** 63n - 1n;

interface NumericInput {
  /** e.g. `GET /items/{id}` (path) or `GET /items?after` (query). */
  name: string;
  minimum: number;
  maximum: number;
  /** The request target with `value` in this input's place (raw: not encoded again). */
  url: (value: string) => string;
}

interface OpenApiParameter {
  name: string;
  in: string;
  schema: { type?: string; minimum?: number; maximum?: number };
}

/**
 * Every numeric path and query parameter of the API, read from its own OpenAPI document, so
 * one added later is covered without touching this file. Other path parameters get a
 * valid value.
 */
function numericInputs(doc: {
  paths: Record<string, Record<string, { parameters?: OpenApiParameter[] }>>;
}): NumericInput[] {
  return Object.entries(doc.paths).flatMap(([template, operations]) =>
    Object.entries(operations).flatMap(([verb, operation]) => {
      const parameters = operation.parameters ?? [];
      const fill = (path: string, except: string) =>
        parameters
          .filter((p) => p.in === 'path' && p.name !== except)
          .reduce(
            (url, p) => url.replace(`{${p.name}}`, p.schema.type === 'string' ? 'a' : '1'),
            path,
          );
      return parameters
        .filter((p) => p.schema.type === 'integer' || p.schema.type === 'number')
        .map((p) => ({
          name: `${verb.toUpperCase()} ${template}${p.in === 'query' ? `?${p.name}` : ''}`,
          minimum: p.schema.minimum ?? Number.NaN,
          maximum: p.schema.maximum ?? Number.NaN,
          url: (value: string) =>
            p.in === 'path'
              ? fill(template, p.name).replace(`{${p.name}}`, value)
              : `${fill(template, p.name)}?${p.name}=${value}`,
        }));
    }),
  );
}

/** What "1e999" became before: every way a number can be written besides plain digits. */
const ABUSE = {
  huge: ['1e999', '9'.repeat(400), '9007199254740993', '18446744073709551616'],
  negative: ['-1', '-0', '-9007199254740993'],
  exponent: ['1e3', '1E2', '1e-3'],
  fraction: ['1.5', '1.0', '.5', '1.'],
  hex: ['0x10', '0X1F', '0b1', '0o7'],
  // In a query string `+` is a space (" 5"); %2B is the plus itself.
  plus: ['+5', '+0', '%2B5', '%2B0'],
  whitespace: ['%207', '7%20', '%097', '%0A7'],
  empty: [''],
  other: ['NaN', 'Infinity', '-Infinity', '%D9%A1', 'null', '1,000', '1_000', '%00'],
};

// On PostgreSQL too: "1e999" became a 500 there ("Infinity"), not on PGlite.
describe.each(backends)(
  'numeric path and query parameters on $name, over a real socket',
  (backend) => {
    const ctx = useApp(backend);
    let port: number;
    let inputs: NumericInput[];
    beforeAll(async () => {
      port = await listenOnLoopback(ctx.app);
      inputs = numericInputs((await ctx.app.inject({ url: '/docs/json' })).json());
    });
    // After useApp's own beforeEach has emptied the tables: id 1 exists, as a bound.
    beforeEach(async () => {
      await ctx.app.inject({ method: 'POST', url: '/items', payload: { name: 'first' } });
    });

    const get = async (url: string) => {
      const response = await sendRaw(
        port,
        Buffer.from(
          `GET ${url} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
          'latin1',
        ),
      );
      expectRawAnswerRules(response, 'GET');
      return response;
    };

    it('finds them all in the OpenAPI document, each bounded within PostgreSQL bigint', () => {
      expect(inputs.map((input) => input.name).sort()).toEqual([
        'GET /items/{id}',
        'GET /items?after',
        'GET /items?limit',
      ]);
      for (const input of inputs) {
        expect(Number.isFinite(input.minimum), input.name).toBe(true);
        expect(Number.isSafeInteger(input.maximum), input.name).toBe(true);
        expect(BigInt(input.maximum) <= BIGINT_MAX, input.name).toBe(true);
      }
    });

    it.each(Object.entries(ABUSE))(
      'answers 400 (or 414) to %s values in each of them',
      async (_kind, values) => {
        for (const input of inputs) {
          for (const value of values) {
            const decimal = /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
            // "-0" is a plain integer, and within bounds where the minimum is 0.
            if (decimal >= input.minimum && decimal <= input.maximum) continue;
            const response = await get(input.url(value));
            // 414 when a path segment is longer than the router takes at all.
            expect([400, 414], `${input.name} = ${JSON.stringify(value)}`).toContain(
              response.status,
            );
          }
        }
      },
    );

    it('still takes plain digits at both bounds', async () => {
      for (const input of inputs) {
        for (const value of [input.minimum, input.maximum]) {
          const response = await get(input.url(String(value)));
          expect([200, 404], `${input.name} = ${value}: ${response.body}`).toContain(
            response.status,
          );
        }
      }
    });

    it(`never answers 5xx to anything in their place (${RUNS} requests)`, async () => {
      const value = fc.oneof(
        fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
        fc.double().map(String),
        fc.integer().map((n) => n.toString(16)),
        fc.string({ unit: 'binary', maxLength: 30 }).map(encodeURIComponent),
        fc.stringMatching(/^[\s+\-0-9.eExX_,]{0,25}$/).map(encodeURIComponent),
      );
      await fc.assert(
        fc.asyncProperty(fc.nat({ max: inputs.length - 1 }), value, async (index, raw) => {
          const input = inputs[index];
          if (input === undefined) return;
          const response = await get(input.url(raw));
          expect(response.status, `${input.name} = ${JSON.stringify(raw)}`).toBeLessThan(500);
        }),
        { numRuns: RUNS, interruptAfterTimeLimit: 120_000, markInterruptAsFailure: true },
      );
    }, 150_000);
  },
);
