import type { ChildProcess } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports.js';
import { runEntry, startService } from '../helpers/process.js';
import { createTestDatabase, realServersAvailable } from '../helpers/servers.js';

async function finish(child: ChildProcess): Promise<{ code: number | null; out: string }> {
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, out };
}

describe('start-up with a bad configuration', () => {
  it('exits 1 and names every bad variable', async () => {
    const { code, out } = await finish(
      runEntry('src/main.ts', { PORT: 'eighty', LOG_LEVEL: 'loud', ADMIN_TOKEN: 'short' }),
    );
    expect(code).toBe(1);
    expect(out).toContain('Invalid configuration');
    expect(out).toMatch(/PORT: /);
    expect(out).toMatch(/LOG_LEVEL: must be one of/);
    expect(out).toMatch(/ADMIN_TOKEN: /);
    expect(out).not.toContain('short"');
  });
});

describe('start-up without an admin token', () => {
  it.each([
    ['unset', {}],
    ['empty', { ADMIN_TOKEN: '' }],
  ])('refuses to start in production with ADMIN_TOKEN %s, naming it', async (_name, env) => {
    const { code, out } = await finish(
      runEntry('src/main.ts', { NODE_ENV: 'production', DATA_DIR: 'memory://', ...env }),
    );
    expect(code).toBe(1);
    expect(out).toContain('Invalid configuration');
    expect(out).toMatch(/ADMIN_TOKEN: required in production \(16\+ characters\)/);
  });

  // 15 characters, and the same with a file's newline, which must not count toward the 16.
  it.each(['fifteen-chars-x', 'fifteen-chars-x\n'])(
    'refuses to start in production with the too short ADMIN_TOKEN %j, not printing it',
    async (token) => {
      const { code, out } = await finish(
        runEntry('src/main.ts', {
          NODE_ENV: 'production',
          DATA_DIR: 'memory://',
          ADMIN_TOKEN: token,
        }),
      );
      expect(code).toBe(1);
      expect(out).toMatch(/ADMIN_TOKEN: must not have fewer than 16 characters/);
      expect(out).not.toContain(token.trim());
    },
  );

  it('starts in production with a 16-character ADMIN_TOKEN read from a file (newline and all)', async () => {
    const token = 'sixteen-chars-xy';
    const service = await startService(
      {
        NODE_ENV: 'production',
        DATA_DIR: 'memory://',
        SHUTDOWN_DRAIN_MS: '0',
        ADMIN_TOKEN: `${token}\n`,
      },
      await freePort(),
    );
    try {
      const reset = (authorization: string) =>
        fetch(`${service.baseUrl}/reset`, { method: 'PUT', headers: { authorization } });
      expect((await reset('Bearer wrong-token-0123456789')).status).toBe(401);
      // The token as an operator types it: without the file's newline.
      expect((await reset(`Bearer ${token}`)).status).toBe(200);
    } finally {
      service.child.kill('SIGTERM');
    }
    expect(await service.exited).toBe(0);
  });

  it('starts in development, saying reset is open', async () => {
    const service = await startService(
      { NODE_ENV: 'development', DATA_DIR: 'memory://', SHUTDOWN_DRAIN_MS: '0' },
      await freePort(),
    );
    const warnings = service.logs.filter((line) => line.level === 'warn').map((line) => line.msg);
    expect(warnings).toEqual([
      'ADMIN_TOKEN is not set: PUT /reset is open to anyone (development only)',
    ]);
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
  });
});

describe('start-up in production with unsafe settings', () => {
  it('warns about an embedded database, then serves and stops cleanly', async () => {
    const service = await startService(
      {
        NODE_ENV: 'production',
        DATA_DIR: 'memory://',
        SHUTDOWN_DRAIN_MS: '0',
        ADMIN_TOKEN: 'cli-admin-token-0123456789',
      },
      await freePort(),
    );
    const warnings = service.logs.filter((line) => line.level === 'warn').map((line) => line.msg);
    expect(warnings).toEqual([
      'DATABASE_URL is not set: using embedded PGlite, for one replica only',
    ]);
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
  });
});

describe.runIf(realServersAvailable)('npm run migrate (src/migrate.ts)', () => {
  it('applies the migrations, then finds nothing to do', async () => {
    const database = await createTestDatabase();
    try {
      const first = await finish(runEntry('src/migrate.ts', { DATABASE_URL: database.url }));
      expect(first.code).toBe(0);
      expect(first.out).toContain('migrate: done');
      expect(first.out).toContain('001_initial');
      expect(first.out).toContain('"level":"info"'); // the service's own log format
      const second = await finish(runEntry('src/migrate.ts', { DATABASE_URL: database.url }));
      expect(second.code).toBe(0);
      expect(second.out).toContain('migrate: up to date');
    } finally {
      await database.drop();
    }
  });

  it('exits non-zero when the database cannot be reached', async () => {
    const { code, out } = await finish(
      runEntry('src/migrate.ts', {
        DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
        DATABASE_TIMEOUT_MS: '500',
      }),
    );
    expect(code).toBe(1);
    expect(out).toContain('migrate: failed');
  });
});

describe("the container's health check (src/healthcheck.ts)", () => {
  it('exits 0 while the service is alive, 1 with a reason once it is gone', async () => {
    const port = await freePort();
    const service = await startService({ DATA_DIR: 'memory://', SHUTDOWN_DRAIN_MS: '0' }, port);
    // The image listens on 0.0.0.0; the check then asks loopback, where this service is.
    const env = { HOST: '0.0.0.0', PORT: String(port) };
    try {
      expect(await finish(runEntry('src/healthcheck.ts', env))).toEqual({ code: 0, out: '' });
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    const { code, out } = await finish(runEntry('src/healthcheck.ts', env));
    expect(code).toBe(1);
    expect(out).toMatch(/^healthcheck: /);
  });
});
