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
    expect(
      loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,fd00:ec2::/16, ::1, ::ffff:10.0.0.0/104' })
        .TRUST_PROXY,
    ).toEqual(['10.0.0.0/8', '127.0.0.1', 'fd00:ec2::/16', '::1', '::ffff:10.0.0.0/104']);
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

  // Each holds (nearly) every client, as `true` does: an IPv4 range shorter than /8, an IPv6
  // one shorter than /16, or one over the IPv4-mapped block (::ffff:0:0/96, where an IPv4
  // client is matched) shorter than /104, which is an IPv4 /8.
  it.each([
    '0.0.0.0/0',
    '0.0.0.0/1,128.0.0.0/1',
    '10.0.0.0/7',
    '::/0',
    '2000::/3',
    'fd00::/8',
    '::/16',
    '::ffff:0.0.0.0/96',
    '::ffff:0:0/103',
    '0:0:0:0:0:ffff:a00:0/100',
    '10.0.0.1, ::/0',
  ])('refuses TRUST_PROXY=%s, a range that would believe almost any client', (value) => {
    expect(problemsOf({ TRUST_PROXY: value })).toEqual([
      expect.stringMatching(
        /^TRUST_PROXY: ".*" too broad: .*IPv4 \/8 .*IPv6 \/16.*any client's X-Forwarded-For/,
      ) as string,
    ]);
  });

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

  it('refuses a 15-character ADMIN_TOKEN in production and takes a 16-character one', () => {
    const production = { NODE_ENV: 'production' };
    const problems = problemsOf({ ...production, ADMIN_TOKEN: 'fifteen-chars-x' });
    expect(problems).toEqual([expect.stringMatching(/^ADMIN_TOKEN: .*16 characters/) as string]);
    expect(problems.join('\n')).not.toContain('fifteen-chars-x');
    expect(loadConfig({ ...production, ADMIN_TOKEN: 'sixteen-chars-xy' }).ADMIN_TOKEN).toBe(
      'sixteen-chars-xy',
    );
  });

  // A Secret made from a file (kubectl create secret --from-file) keeps the file's newline.
  it('trims the whitespace around ADMIN_TOKEN before counting its characters', () => {
    const production = { NODE_ENV: 'production' };
    expect(problemsOf({ ...production, ADMIN_TOKEN: 'fifteen-chars-x\n' })).toEqual([
      expect.stringMatching(/^ADMIN_TOKEN: .*16 characters/) as string,
    ]);
    expect(problemsOf({ ...production, ADMIN_TOKEN: ' '.repeat(16) })).toEqual([
      expect.stringMatching(/^ADMIN_TOKEN: required in production/) as string,
    ]);
    expect(loadConfig({ ...production, ADMIN_TOKEN: ' sixteen-chars-xy\r\n' }).ADMIN_TOKEN).toBe(
      'sixteen-chars-xy',
    );
  });

  it.each(['two words in a token', 'tab\tinside-a-long-token', 'newline\ninside-a-long-token'])(
    'refuses an ADMIN_TOKEN with whitespace inside (%j), which no Bearer header can carry',
    (token) => {
      const problems = problemsOf({ NODE_ENV: 'production', ADMIN_TOKEN: token });
      expect(problems).toEqual([
        expect.stringMatching(/^ADMIN_TOKEN: must not contain whitespace.*Bearer/) as string,
      ]);
      expect(problems.join('\n')).not.toContain(token.slice(0, 8));
    },
  );

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

  // The forms Value.Convert also takes, and numbers in URLs do not (src/platform/validation.ts).
  it.each(['1e3', '0x10', '0X1F', '0b101', '0o7', '+80', '80.0', '8.5', '.5', ' 80 ', '\t80\n'])(
    'refuses the integer %j: decimal digits only, named with its value',
    (text) => {
      const problems = problemsOf({ PORT: text, RATE_LIMIT_MAX: text });
      expect(problems).toEqual([
        `PORT: must be an integer in decimal digits (got "${text}")`,
        `RATE_LIMIT_MAX: must be an integer in decimal digits (got "${text}")`,
      ]);
    },
  );

  it('reads every integer setting the same way, plain digits and a minus sign only', () => {
    const integers = Object.entries(EnvSchema.properties)
      .filter(([, property]) => (property as { type?: unknown }).type === 'integer')
      .map(([key]) => key);
    expect(integers.length).toBeGreaterThan(20);
    for (const key of integers) {
      expect(problemsOf({ [key]: '1e3' }), key).toEqual([
        `${key}: must be an integer in decimal digits (got "1e3")`,
      ]);
      expect(problemsOf({ [key]: '-1e3' })[0], key).toMatch(
        new RegExp(`^${key}: must be an integer`),
      );
    }
    expect(loadConfig({ PORT: '0080', SHUTDOWN_DRAIN_MS: '0' })).toMatchObject({
      PORT: 80,
      SHUTDOWN_DRAIN_MS: 0,
    });
    expect(problemsOf({ COUNTER_INITIAL_STOCK: '-5' })).toEqual([
      expect.stringMatching(/^COUNTER_INITIAL_STOCK: must be >= 1 .*"-5"/) as string,
    ]);
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
