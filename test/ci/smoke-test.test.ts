import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { startService, type ServiceProcess } from '../helpers/process.js';
import { ROOT, runCommand } from './workflow-files.js';

const REVISION = '0123456789abcdef0123456789abcdef01234567';
const OTHER_REVISION = 'fedcba9876543210fedcba9876543210fedcba98';
// Quick and bounded: two tries a second apart, and no request waits longer than 5 s.
const FAST = { SMOKE_ATTEMPTS: '2', SMOKE_INTERVAL_S: '1', SMOKE_TIMEOUT_S: '5' };

const smoke = (url: string, sha: string, env: Record<string, string> = {}) =>
  runCommand(`${ROOT}scripts/smoke-test.sh`, [url, sha], { ...FAST, ...env });

/**
 * What the AWS edge does in front of the service: /metrics answers 404 (WAF), everything
 * else reaches the service.
 */
async function startEdge(upstream: string): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    if (path.startsWith('/metrics')) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not-found');
      return;
    }
    fetch(`${upstream}${path}`)
      .then(async (answer) => {
        // fetch has decoded the body already: its length and encoding are not these bytes'.
        const headers = Object.fromEntries(
          [...answer.headers].filter(([name]) => !/^content-(length|encoding)$/.test(name)),
        );
        response.writeHead(answer.status, headers);
        response.end(Buffer.from(await answer.arrayBuffer()));
      })
      .catch(() => response.writeHead(502).end());
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}`, server };
}

describe('scripts/smoke-test.sh against the built service', () => {
  let service: ServiceProcess;
  let edge: { url: string; server: Server };

  beforeAll(async () => {
    for (const file of ['dist/main.js', 'web/dist/index.html']) {
      if (!existsSync(`${ROOT}${file}`)) throw new Error(`${file} is missing: run npm run build`);
    }
    service = await startService(
      { GIT_REVISION: REVISION, DATA_DIR: 'memory://', LOG_LEVEL: 'warn', SHUTDOWN_DRAIN_MS: '0' },
      await freePort(),
      { built: true },
    );
    edge = await startEdge(service.baseUrl);
  });

  afterAll(async () => {
    await new Promise((resolve) => edge.server.close(resolve));
    service.child.kill('SIGTERM');
    await service.exited;
  });

  it('passes against the bare service when told that it serves /metrics itself', async () => {
    const { code, stdout, stderr } = await smoke(service.baseUrl, REVISION, {
      SMOKE_EXPECT_METRICS_HIDDEN: 'false',
    });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout.trim().split('\n')).toEqual([
      `smoke test of ${service.baseUrl}, expecting revision ${REVISION}`,
      'ok   /readyz answers 200',
      `ok   /status reports revision ${REVISION}`,
      'ok   GET /items answers 200 with a JSON array',
      'ok   /metrics answers Prometheus text (SMOKE_EXPECT_METRICS_HIDDEN=false)',
      'ok   / serves the web UI',
      'PASS',
    ]);
  });

  it('passes behind an edge that hides /metrics, the default', async () => {
    const { code, stdout, stderr } = await smoke(`${edge.url}/`, REVISION);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain('ok   /metrics is not served from outside');
  });

  it('fails, saying so in one line, when /metrics is reachable where it must not be', async () => {
    const { code, stderr } = await smoke(service.baseUrl, REVISION);
    expect(code).toBe(1);
    expect(stderr).toBe(
      'FAIL: /metrics is not served from outside: /metrics answered 200 from outside; ' +
        'the edge must refuse it (404) (tried 2 times)\n',
    );
  });

  it('fails on another revision, after its bounded retries', async () => {
    const started = Date.now();
    const { code, stdout, stderr } = await smoke(edge.url, OTHER_REVISION);
    expect(code).toBe(1);
    expect(stdout).toContain('ok   /readyz answers 200');
    expect(stderr).toBe(
      `FAIL: /status reports revision ${OTHER_REVISION}: /status reports ` +
        `"revision":"${REVISION}", not "revision":"${OTHER_REVISION}" (tried 2 times)\n`,
    );
    // One pause between the two tries, and no more.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('fails when nothing answers', async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const { code, stderr } = await smoke(url, REVISION);
    expect(code).toBe(1);
    expect(stderr).toBe(
      `FAIL: /readyz answers 200: no answer from ${url}/readyz (tried 2 times)\n`,
    );
  });

  it.each([
    [['http://127.0.0.1:1'], 'expected 2 arguments, got 1'],
    [['127.0.0.1:1', REVISION], "'127.0.0.1:1' is not an http(s) URL"],
    [['http://127.0.0.1:1', REVISION.slice(0, 12)], 'is not a full 40-character git SHA'],
  ])('refuses bad arguments (%j) with exit code 2', async (args, message) => {
    const { code, stderr } = await runCommand(`${ROOT}scripts/smoke-test.sh`, args);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });

  it('refuses a bad setting rather than guessing', async () => {
    const { code, stderr } = await smoke(service.baseUrl, REVISION, {
      SMOKE_EXPECT_METRICS_HIDDEN: 'no',
    });
    expect(code).toBe(2);
    expect(stderr).toContain('SMOKE_EXPECT_METRICS_HIDDEN must be true or false');
  });
});
