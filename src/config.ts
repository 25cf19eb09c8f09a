import { BlockList, isIP } from 'node:net';
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';

const Integer = (minimum: number, maximum: number, defaultValue: number, description: string) =>
  Type.Integer({ minimum, maximum, default: defaultValue, description });

/** Every environment variable the service reads, with its default. `.env.example` mirrors it. */
export const EnvSchema = Type.Object({
  NODE_ENV: Type.Enum(['development', 'production', 'test'], {
    default: 'development',
    description: 'production turns on start-up warnings for unsafe settings',
  }),
  HOST: Type.String({
    minLength: 1,
    default: '127.0.0.1',
    description: 'address to listen on; containers set 0.0.0.0',
  }),
  PORT: Integer(0, 65535, 3000, 'port to listen on'),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    default: 'info',
    description: 'pino log level',
  }),
  DATABASE_URL: Type.Optional(
    Type.String({
      pattern: '^postgres(ql)?://',
      description: 'PostgreSQL connection string; unset means embedded PGlite in DATA_DIR',
    }),
  ),
  DATABASE_PASSWORD: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'password for DATABASE_URL, apart so a secret store can inject it alone',
    }),
  ),
  DATA_DIR: Type.String({
    minLength: 1,
    default: './data',
    description: 'PGlite data directory when DATABASE_URL is unset; memory:// keeps it in memory',
  }),
  DATABASE_POOL_MAX: Integer(1, 200, 10, 'PostgreSQL connections per replica'),
  DATABASE_TIMEOUT_MS: Integer(100, 120_000, 5000, 'connect and query timeout'),
  MIGRATION_STATEMENT_TIMEOUT_MS: Integer(
    1000,
    86_400_000,
    600_000,
    "each migration statement's limit (an index build can take minutes), instead of DATABASE_TIMEOUT_MS",
  ),
  MIGRATION_LOCK_TIMEOUT_MS: Integer(
    100,
    60_000,
    2000,
    'how long a migration waits for a table lock; requests queued behind it wait no longer',
  ),
  MIGRATION_LOCK_ATTEMPTS: Integer(
    1,
    100,
    10,
    'attempts of a migration that could not get its locks in time, before it gives up',
  ),
  REDIS_URL: Type.Optional(
    Type.String({
      pattern: '^rediss?://',
      description: 'Redis for the shared cache; unset means an in-process LRU',
    }),
  ),
  REDIS_PASSWORD: Type.Optional(
    Type.String({
      minLength: 1,
      description: 'password (AUTH token) for REDIS_URL, apart so a secret store can inject it',
    }),
  ),
  REDIS_KEY_PREFIX: Type.String({
    default: 'shipshape:',
    description: 'prefix of every Redis key, so several deployments can share one Redis',
  }),
  REDIS_TIMEOUT_MS: Integer(10, 60_000, 500, 'Redis command timeout before the cache is bypassed'),
  CACHE_TTL_SECONDS: Integer(1, 86_400, 60, 'how long a cached GET /items page lives'),
  CACHE_MAX_ENTRIES: Integer(1, 1_000_000, 1000, 'pages the in-process cache holds at most'),
  CACHE_MAX_BYTES: Integer(
    65_536,
    1_073_741_824,
    33_554_432,
    'bytes the in-process cache holds at most, well under the container memory limit',
  ),
  COUNTER_INITIAL_STOCK: Integer(1, 1_000_000_000, 1000, 'cameras in stock after a reset'),
  ADMIN_TOKEN: Type.Optional(
    Type.String({
      minLength: 16,
      description:
        'bearer token required by PUT /reset; required in production, unset elsewhere leaves reset open',
    }),
  ),
  TIME_ZONE: Type.String({
    default: 'UTC',
    description: 'IANA time zone that decides "today" for birthdays',
  }),
  BODY_LIMIT_BYTES: Integer(64, 10_485_760, 16_384, 'largest request body accepted'),
  RATE_LIMIT_MAX: Integer(0, 1_000_000, 600, 'requests per client per window; 0 turns it off'),
  RATE_LIMIT_WINDOW_MS: Integer(1000, 3_600_000, 60_000, 'rate limit window'),
  TRUST_PROXY: Type.Optional(
    Type.String({
      description:
        'comma-separated addresses/CIDRs of the proxies in front, whose X-Forwarded-For is believed; unset: none',
    }),
  ),
  HTTP_HEADERS_TIMEOUT_MS: Integer(
    100,
    120_000,
    10_000,
    "time a client gets to send a request's headers, from its first byte or connecting",
  ),
  HTTP_REQUEST_TIMEOUT_MS: Integer(
    100,
    600_000,
    30_000,
    'time a client gets to send a whole request (headers and body); responses, event streams included, are not cut',
  ),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: Integer(
    100,
    600_000,
    75_000,
    "how long an idle keep-alive connection is kept; longer than any proxy's idle timeout in front",
  ),
  HTTP_SOCKET_TIMEOUT_MS: Integer(
    100,
    600_000,
    30_000,
    'how long a connection with a request in progress may go without a byte moving either way (a client that stops reading its answer); event streams are exempt',
  ),
  HTTP_MAX_IN_FLIGHT: Integer(
    1,
    100_000,
    128,
    'requests to the data routes a replica works on or holds an unsent answer for at once; more get 503 (event streams count until they open)',
  ),
  HTTP_MAX_IN_FLIGHT_PER_CLIENT: Integer(
    1,
    100_000,
    16,
    'the same, from one client address; more get 429',
  ),
  HTTP_MAX_CONNECTIONS: Integer(
    2,
    1_000_000,
    2048,
    'open connections per replica, event streams included; further ones are closed at once',
  ),
  EVENT_STREAMS_MAX: Integer(
    1,
    1_000_000,
    1000,
    'open /counter/events streams per replica; more get 503',
  ),
  EVENT_STREAMS_PER_CLIENT: Integer(
    1,
    100_000,
    10,
    'open event streams per client address; more get 429',
  ),
  EVENT_STREAM_LIFETIME_MS: Integer(
    1000,
    86_400_000,
    600_000,
    'an event stream is ended after about this long, and the browser reconnects by itself',
  ),
  EVENT_STREAM_BUFFER_BYTES: Integer(
    1024,
    16_777_216,
    65_536,
    'bytes queued for a stream whose reader stopped reading before the stream is dropped',
  ),
  SHUTDOWN_DRAIN_MS: Integer(
    0,
    300_000,
    5000,
    'time between readiness turning 503 and closing; longer than the load balancer notices',
  ),
  SHUTDOWN_TIMEOUT_MS: Integer(1000, 300_000, 10_000, 'time in-flight requests get to finish'),
  MAX_EVENT_LOOP_DELAY_MS: Integer(
    0,
    60_000,
    1000,
    'mean event-loop delay above which app routes answer 503 (load shedding); 0 turns it off',
  ),
  FAULT_INJECTION: Type.Boolean({
    default: false,
    description: 'true enables PUT /admin/faults (admin token required) to rehearse failures',
  }),
  GIT_REVISION: Type.String({
    default: 'unknown',
    description: 'git commit of this build, reported by /status',
  }),
  // OpenTelemetry's own variables, with their standard meaning:
  // https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/
  OTEL_SDK_DISABLED: Type.Boolean({
    default: false,
    description: 'true turns tracing off even with an endpoint set',
  }),
  OTEL_SERVICE_NAME: Type.String({
    minLength: 1,
    default: 'shipshape',
    description: 'service.name of every span',
  }),
  OTEL_EXPORTER_OTLP_ENDPOINT: Type.Optional(
    Type.String({
      pattern: '^https?://',
      description:
        'OTLP/HTTP base URL (traces go to <it>/v1/traces); unset with the next: no tracing',
    }),
  ),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: Type.Optional(
    Type.String({
      pattern: '^https?://',
      description: 'OTLP/HTTP URL for traces, used as it is; wins over OTEL_EXPORTER_OTLP_ENDPOINT',
    }),
  ),
  OTEL_EXPORTER_OTLP_PROTOCOL: Type.Enum(['http/protobuf', 'http/json'], {
    default: 'http/protobuf',
    description: 'OTLP encoding (gRPC is not supported)',
  }),
  OTEL_TRACES_SAMPLER: Type.Enum(
    [
      'always_on',
      'always_off',
      'traceidratio',
      'parentbased_always_on',
      'parentbased_always_off',
      'parentbased_traceidratio',
    ],
    { default: 'parentbased_always_on', description: 'which requests are traced' },
  ),
  OTEL_TRACES_SAMPLER_ARG: Type.Optional(
    Type.Number({
      minimum: 0,
      maximum: 1,
      description: 'the share of traces the ratio samplers keep (default 1)',
    }),
  ),
  OTEL_RESOURCE_ATTRIBUTES: Type.Optional(
    Type.String({
      pattern: '^[^=,\\s]+=[^,]*(,[^=,\\s]+=[^,]*)*$',
      description: 'key=value,... added to every span, e.g. deployment.environment.name=staging',
    }),
  ),
});

type Env = Static<typeof EnvSchema>;

/** The validated configuration: one frozen object, read only here. */
export type Config = Readonly<
  Omit<Env, 'TRUST_PROXY' | 'DATABASE_PASSWORD' | 'REDIS_PASSWORD'> & {
    /** The proxies' addresses and CIDRs; empty: every client is taken at its own address. */
    TRUST_PROXY: readonly string[];
  }
>;

/** Thrown with one line per bad variable, so an operator fixes them all at once. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates environment variables (blank counts as unset) and returns the frozen config.
 * `serve` is the service itself; `task` is a one-off command (migrations) that answers no
 * requests, so it needs no admin token.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  role: 'serve' | 'task' = 'serve',
): Config {
  const keys = Object.keys(EnvSchema.properties) as (keyof Env)[];
  const raw = Object.fromEntries(
    keys.flatMap((key) => (env[key] === undefined || env[key] === '' ? [] : [[key, env[key]]])),
  );
  const inputProblems = adminTokenProblems(raw);
  const checked = decimalIntegersOnly(raw, inputProblems);
  const value = Value.Default(EnvSchema, Value.Convert(EnvSchema, checked)) as Env;
  const problems = firstPerVariable([...inputProblems, ...schemaProblems(value, checked)]);
  if (!isTimeZone(value.TIME_ZONE))
    problems.push(`TIME_ZONE: unknown time zone "${value.TIME_ZONE}"`);
  const trustProxy = parseTrustProxy(value.TRUST_PROXY);
  if (typeof trustProxy === 'string') problems.push(`TRUST_PROXY: ${trustProxy}`);
  if (role === 'serve' && value.NODE_ENV === 'production' && value.ADMIN_TOKEN === undefined)
    problems.push(
      'ADMIN_TOKEN: required in production (16+ characters), or PUT /reset would be open to anyone',
    );
  if (value.HTTP_HEADERS_TIMEOUT_MS > value.HTTP_REQUEST_TIMEOUT_MS)
    problems.push('HTTP_HEADERS_TIMEOUT_MS: must not be longer than HTTP_REQUEST_TIMEOUT_MS');
  if (value.HTTP_SOCKET_TIMEOUT_MS <= value.DATABASE_TIMEOUT_MS)
    problems.push(
      'HTTP_SOCKET_TIMEOUT_MS: must be longer than DATABASE_TIMEOUT_MS, or a slow query would cut its own connection',
    );
  if (value.EVENT_STREAMS_MAX >= value.HTTP_MAX_CONNECTIONS)
    problems.push(
      'EVENT_STREAMS_MAX: must be below HTTP_MAX_CONNECTIONS, or open streams could take every connection',
    );
  const databaseUrl = withPassword(
    'DATABASE',
    value.DATABASE_URL,
    value.DATABASE_PASSWORD,
    problems,
  );
  const redisUrl = withPassword('REDIS', value.REDIS_URL, value.REDIS_PASSWORD, problems);
  if (value.FAULT_INJECTION && value.ADMIN_TOKEN === undefined)
    problems.push('FAULT_INJECTION: needs ADMIN_TOKEN, so only an operator can inject faults');
  if (problems.length > 0) throw new ConfigError(problems);
  // The passwords live on only inside their URLs, which every log line already redacts.
  delete value.DATABASE_PASSWORD;
  delete value.REDIS_PASSWORD;
  return Object.freeze({
    ...value,
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    TRUST_PROXY: typeof trustProxy === 'string' ? [] : trustProxy,
  });
}

/**
 * Puts a separately given password into its URL: secret stores (ECS secrets, Kubernetes
 * Secrets) inject one value, while the address stays plain, reviewable configuration.
 */
function withPassword(
  prefix: 'DATABASE' | 'REDIS',
  url: string | undefined,
  password: string | undefined,
  problems: string[],
): string | undefined {
  if (password === undefined || url === undefined) {
    if (password !== undefined) problems.push(`${prefix}_PASSWORD: set without ${prefix}_URL`);
    return url;
  }
  const parsed = URL.parse(url);
  if (parsed === null) return url; // the schema check has already named the bad URL
  if (parsed.password !== '') {
    problems.push(`${prefix}_PASSWORD: ${prefix}_URL already holds a password; keep only one`);
    return url;
  }
  parsed.password = encodeURIComponent(password);
  return parsed.href;
}

/**
 * Trims ADMIN_TOKEN in `raw`: a Secret made from a file (`--from-file`) keeps the file's
 * final newline, which is no part of the token and must not count toward its 16
 * characters. Whitespace inside is refused: `Authorization: Bearer <token>` cannot carry
 * it, so reset would be locked for good (see requireAdmin).
 */
function adminTokenProblems(raw: Record<string, unknown>): string[] {
  if (typeof raw.ADMIN_TOKEN !== 'string') return [];
  const token = raw.ADMIN_TOKEN.trim();
  if (token === '')
    delete raw.ADMIN_TOKEN; // blank counts as unset, as an empty value does
  else raw.ADMIN_TOKEN = token;
  return /[\s\p{Cc}]/u.test(token)
    ? [
        'ADMIN_TOKEN: must not contain whitespace or control characters, which no `Authorization: Bearer <token>` header can carry (got "<redacted>")',
      ]
    : [];
}

// As numbers in URLs (src/platform/validation.ts): Value.Convert alone also takes 1e3, 0x10,
// 0b101, +80, 80.0 and " 80 ", so a typo such as 0x10 would quietly become 16.
const DECIMAL_INTEGER = /^-?\d+$/;

/**
 * `raw` without the integer settings not written in decimal digits, each named in
 * `problems`: left unset, no second line (a limit that contradicts another) follows from
 * the number Value.Convert would have made of it.
 */
function decimalIntegersOnly(
  raw: Record<string, unknown>,
  problems: string[],
): Record<string, unknown> {
  const properties = EnvSchema.properties as Record<string, { type?: unknown }>;
  return Object.fromEntries(
    Object.entries(raw).filter(([key, text]) => {
      if (properties[key]?.type !== 'integer' || DECIMAL_INTEGER.test(String(text))) return true;
      problems.push(`${key}: must be an integer in decimal digits (got "${redact(key, text)}")`);
      return false;
    }),
  );
}

/** One line per variable: the first problem found with it, the most specific, is enough. */
function firstPerVariable(problems: string[]): string[] {
  const byVariable = new Map<string, string>();
  for (const problem of problems) {
    const variable = problem.slice(0, problem.indexOf(':'));
    if (!byVariable.has(variable)) byVariable.set(variable, problem);
  }
  return [...byVariable.values()];
}

function schemaProblems(value: Env, raw: Record<string, unknown>): string[] {
  const byKey = new Map<string, string>();
  for (const error of Value.Errors(EnvSchema, value)) {
    const key = error.instancePath.replace(/^\//, '');
    if (byKey.has(key)) continue;
    const property = (EnvSchema.properties as Record<string, { enum?: unknown[] }>)[key];
    const message = property?.enum ? `must be one of ${property.enum.join(', ')}` : error.message;
    byKey.set(key, `${key}: ${message} (got "${redact(key, raw[key])}")`);
  }
  return [...byKey.values()];
}

function redact(key: string, value: unknown): string {
  if (key === 'ADMIN_TOKEN' || key.endsWith('_PASSWORD')) return '<redacted>';
  if (key.endsWith('_URL') && typeof value === 'string')
    return value.replace(/\/\/[^@/]*@/, '//***@');
  return String(value);
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The trusted proxies' addresses, or what is wrong with the value. `true` and hop counts are
 * refused: they believe whoever connects, so a client reaching a replica directly would
 * choose its own address (its rate-limit key and the address its actions are audited with).
 * So are ranges that mean the same (0.0.0.0/0, ::/0, anything wider than an IPv4 /8).
 */
function parseTrustProxy(value: string | undefined): string[] | string {
  if (value === undefined || value === 'false') return [];
  if (value === 'true' || /^\d+$/.test(value))
    return `"${value}" would believe any client's X-Forwarded-For; list the proxies' addresses or CIDRs instead (e.g. 10.0.0.0/16)`;
  const list = value.split(',').map((part) => part.trim());
  const bad = list.filter((part) => !isAddressOrCidr(part));
  if (bad.length > 0) return `not an address or CIDR: ${quoted(bad)}`;
  const broad = list.filter(isTooBroad);
  return broad.length === 0
    ? list
    : `${quoted(broad)} too broad: a range wider than an IPv4 /8 or an IPv6 /16 (/104 within ::ffff:0:0/96, the IPv4-mapped block) would believe almost any client's X-Forwarded-For, as "true" would; list the proxies' own addresses or CIDRs (e.g. 10.0.0.0/16)`;
}

const quoted = (parts: string[]) => parts.map((part) => `"${part}"`).join(', ');

function isAddressOrCidr(value: string): boolean {
  const [address = '', prefix, ...rest] = value.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

// The widest ranges believed: an IPv4 /8 (a whole private network, 10.0.0.0/8) and an IPv6
// /16. A wider one holds nearly every client, which is what `true` means.
const WIDEST_PREFIX = { 4: 8, 6: 16 } as const;
// ::ffff:0:0/96. proxy-addr matches an IPv4 client against an IPv6 range as ::ffff:a.b.c.d,
// so an IPv6 range over this block believes the IPv4 clients in it.
const IPV4_MAPPED = new BlockList();
IPV4_MAPPED.addSubnet('::ffff:0:0', 96, 'ipv6');

/** Whether a valid address or CIDR holds more clients than any set of proxies would. */
function isTooBroad(value: string): boolean {
  const [address = '', prefixText] = value.split('/');
  if (prefixText === undefined) return false;
  const prefix = Number(prefixText);
  if (isIP(address) === 4) return prefix < WIDEST_PREFIX[4];
  if (prefix < WIDEST_PREFIX[6]) return true;
  // Over the mapped block (starting inside it, or holding all of it), the range holds IPv4
  // clients, and then it must be as narrow as an IPv4 range: /104 there is an IPv4 /8.
  const range = new BlockList();
  range.addSubnet(address, prefix, 'ipv6');
  const overMapped = IPV4_MAPPED.check(address, 'ipv6') || range.check('::ffff:0:0', 'ipv6');
  return overMapped && prefix < 96 + WIDEST_PREFIX[4];
}
