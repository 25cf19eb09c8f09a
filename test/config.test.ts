import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, EnvSchema, loadConfig } from '../src/config.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    expect(loadConfig({})).toMatchObject({
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: 3000,
      DATA_DIR: './data',
      COUNTER_INITIAL_STOCK: 1000,
      TIME_ZONE: 'UTC',
      TRUST_PROXY: [],
      RATE_LIMIT_MAX: 600,
      HTTP_HEADERS_TIMEOUT_MS: 10_000,
      HTTP_REQUEST_TIMEOUT_MS: 30_000,
      HTTP_KEEP_ALIVE_TIMEOUT_MS: 75_000,
      HTTP_SOCKET_TIMEOUT_MS: 30_000,
      HTTP_MAX_IN_FLIGHT: 128,
      HTTP_MAX_IN_FLIGHT_PER_CLIENT: 16,
      HTTP_MAX_CONNECTIONS: 2048,
      EVENT_STREAMS_MAX: 1000,
      EVENT_STREAMS_PER_CLIENT: 10,
      CACHE_MAX_BYTES: 33_554_432,
    });
    expect(loadConfig({}).DATABASE_URL).toBeUndefined();
  });

  it('converts numbers, treats blank as unset and returns a frozen object', () => {
    const config = loadConfig({ PORT: '8080', REDIS_URL: '', TRUST_PROXY: '' });
    expect(config.PORT).toBe(8080);
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.TRUST_PROXY).toEqual([]);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('accepts a list of trusted proxy addresses and CIDRs, IPv4 and IPv6', () => {
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,fd00::/8, ::1' }).TRUST_PROXY).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
      'fd00::/8',
      '::1',
    ]);
    expect(loadConfig({ TRUST_PROXY: 'false' }).TRUST_PROXY).toEqual([]);
  });

  it.each(['true', '1', '2'])(
    'refuses TRUST_PROXY=%s, which would believe any client about its own address',
    (value) => {
      expect(problemsOf({ TRUST_PROXY: value })).toEqual([
        expect.stringMatching(/^TRUST_PROXY: .*any client's X-Forwarded-For.*CIDRs/) as string,
      ]);
    },
  );

  it.each(['10.0.0.0/33', 'nginx', '10.0.0.0/8/1', '::1/129', '10.0.0.0/8,'])(
    'refuses the proxy list %j, naming the bad entry',
    (value) => {
      expect(problemsOf({ TRUST_PROXY: value })).toEqual([
        expect.stringMatching(/^TRUST_PROXY: not an address or CIDR: "/) as string,
      ]);
    },
  );

  it.each([
    ['unset', {}],
    ['empty (as an empty key in a Secret)', { ADMIN_TOKEN: '' }],
  ])('refuses to serve in production with ADMIN_TOKEN %s', (_name, env) => {
    expect(problemsOf({ NODE_ENV: 'production', ...env })).toEqual([
      expect.stringMatching(/^ADMIN_TOKEN: required in production \(16\+ characters\)/) as string,
    ]);
  });

  it('lets a one-off task (migrations) run in production without ADMIN_TOKEN', () => {
    expect(loadConfig({ NODE_ENV: 'production' }, 'task').ADMIN_TOKEN).toBeUndefined();
    expect(
      loadConfig({ NODE_ENV: 'production', ADMIN_TOKEN: 'a'.repeat(16) }).ADMIN_TOKEN,
    ).toHaveLength(16);
  });

  it('refuses limits that contradict each other', () => {
    const problems = problemsOf({
      HTTP_HEADERS_TIMEOUT_MS: '20000',
      HTTP_REQUEST_TIMEOUT_MS: '10000',
      HTTP_MAX_CONNECTIONS: '100',
      EVENT_STREAMS_MAX: '100',
    }).join('\n');
    expect(problems).toMatch(
      /^HTTP_HEADERS_TIMEOUT_MS: must not be longer than HTTP_REQUEST_TIMEOUT_MS/m,
    );
    expect(problems).toMatch(/^EVENT_STREAMS_MAX: must be below HTTP_MAX_CONNECTIONS/m);
  });

  it('lists every bad variable at once, one line each', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      NODE_ENV: 'staging',
      DATABASE_URL: 'mysql://db',
      COUNTER_INITIAL_STOCK: '-5',
      TIME_ZONE: 'Mars/Olympus',
      TRUST_PROXY: 'sometimes',
    });
    expect(problems).toHaveLength(6);
    expect(problems.join('\n')).toMatch(/^PORT: .*"eighty"/m);
    expect(problems.join('\n')).toMatch(/^NODE_ENV: must be one of development, production, test/m);
    expect(problems.join('\n')).toMatch(/^DATABASE_URL: /m);
    expect(problems.join('\n')).toMatch(/^COUNTER_INITIAL_STOCK: /m);
    expect(problems.join('\n')).toMatch(/^TIME_ZONE: unknown time zone "Mars\/Olympus"/m);
    expect(problems.join('\n')).toMatch(/^TRUST_PROXY: /m);
  });

  it('puts separately injected passwords into their URLs, encoded', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://shipshape@db.internal:5432/shipshape?sslmode=no-verify',
      DATABASE_PASSWORD: 'p@ss/word:1%',
      REDIS_URL: 'rediss://cache.internal:6379',
      REDIS_PASSWORD: 'token#2',
    });
    const database = new URL(config.DATABASE_URL ?? '');
    expect(decodeURIComponent(database.password)).toBe('p@ss/word:1%');
    expect(database.username).toBe('shipshape');
    expect(database.search).toBe('?sslmode=no-verify');
    expect(config.REDIS_URL).toBe('rediss://:token%232@cache.internal:6379');
    expect(config).not.toHaveProperty('DATABASE_PASSWORD');
    expect(config).not.toHaveProperty('REDIS_PASSWORD');
  });

  it('rejects a password without its URL, or a second password for one URL', () => {
    const problems = problemsOf({
      DATABASE_URL: 'postgres://user:hunter2@db/x',
      DATABASE_PASSWORD: 'other-secret',
      REDIS_PASSWORD: 'orphan-secret',
    }).join('\n');
    expect(problems).toMatch(/^DATABASE_PASSWORD: DATABASE_URL already holds a password/m);
    expect(problems).toMatch(/^REDIS_PASSWORD: set without REDIS_URL/m);
    expect(problems).not.toMatch(/hunter2|other-secret|orphan-secret/);
  });

  it('never prints a secret it rejects', () => {
    const message = problemsOf({
      ADMIN_TOKEN: 'short-secret',
      DATABASE_URL: 'mysql://user:hunter2@db/x',
    }).join('\n');
    expect(message).toContain('ADMIN_TOKEN');
    expect(message).not.toContain('short-secret');
    expect(message).not.toContain('hunter2');
  });
});

describe('.env.example', () => {
  it("lists exactly the variables the schema reads, before the compose stack's own", () => {
    const text = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    const servicePart = text.slice(0, text.indexOf('# --- compose.yaml only'));
    const keys = [...servicePart.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]);
    expect(keys.sort()).toEqual(Object.keys(EnvSchema.properties).sort());
  });

  it('holds only valid values', () => {
    const text = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    const env = Object.fromEntries(
      [...text.matchAll(/^([A-Z][A-Z0-9_]*)=(.*)$/gm)].map((match) => [match[1] ?? '', match[2]]),
    );
    expect(() => loadConfig(env)).not.toThrow();
  });
});

describe('README.md', () => {
  it('documents every variable in its configuration table', () => {
    const text = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const table = text.slice(text.indexOf('## Configuration'), text.indexOf('## Commands'));
    const documented = new Set(
      [...table.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((match) => match[1]),
    );
    expect([...Object.keys(EnvSchema.properties)].filter((key) => !documented.has(key))).toEqual(
      [],
    );
  });
});
