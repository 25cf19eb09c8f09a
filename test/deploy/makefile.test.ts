import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** `make` in the repository with the given arguments; -n prints instead of running. */
function make(args: string[], cwd = root): { status: number | null; output: string } {
  const result = spawnSync('make', args, { cwd, encoding: 'utf8', timeout: 10_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('Makefile', () => {
  it('lists its verbs with make help', () => {
    const { status, output } = make(['help']);
    expect(status).toBe(0);
    const verbs = [...output.matchAll(/^ {2}make (\w+) +\S/gm)].map((match) => match[1]);
    expect(verbs).toEqual([
      'help',
      'build',
      'run',
      'stop',
      'logs',
      'backup',
      'restore',
      'dev',
      'test',
      'lint',
      'smoke',
    ]);
  });

  it("lists the pipeline's steps after them, one verb per CI job (test/ci/ci-workflow.test.ts)", () => {
    const { status, output } = make(['help']);
    expect(status).toBe(0);
    expect([...output.matchAll(/^ {2}- make ([\w-]+) +\S/gm)].map((match) => match[1])).toEqual([
      'ci-lint',
      'ci-dependencies',
      'ci-test',
      'ci-schema-compat',
      'ci-infra',
      'ci-k8s',
      'ci-diff',
      'smoke-remote',
    ]);
    // The dependencies job's gate, which .ci/run leaves out (its registry mirror refuses it).
    expect(make(['-n', 'ci-dependencies']).output.trim().split('\n')).toEqual([
      'npm audit signatures',
      'npm audit --audit-level=high --omit=dev',
    ]);
  });

  it('runs the stack by default, and each verb is one npm or compose command', () => {
    const commands = (verb: string[]) =>
      make(['-n', '--always-make', ...verb, 'GIT_REVISION=abc123'])
        .output.split('\n')
        .filter((line) => /^(docker compose|npm|scripts\/)/.test(line));
    expect(commands([])).toEqual(['docker compose up --detach --build --wait']);
    expect(commands(['run'])).toEqual(['docker compose up --detach --build --wait']);
    expect(commands(['build'])).toEqual(['docker compose build']);
    expect(commands(['stop'])).toEqual(['docker compose down']);
    expect(commands(['logs'])).toEqual(['docker compose logs --follow app']);
    expect(commands(['test'])).toEqual(['npm test']);
    expect(commands(['lint'])).toEqual(['npm run lint']);
    expect(commands(['smoke'])).toEqual(['scripts/container-smoke.sh']);
  });

  // The scripts test/deploy/backup-restore.test.ts runs on a real server, here given the
  // postgres container's own pg_dump and pg_restore, and the stack's database.
  it('backs up and restores with the scripts the backup test runs, the replicas stopped', () => {
    const inPostgres = 'PG_EXEC="docker compose exec -T --user postgres postgres"';
    const database = '"postgresql:///shipshape?user=shipshape"';
    expect(make(['-n', 'backup']).output.trim().split('\n')).toEqual([
      `${inPostgres} scripts/db-backup.sh ${database} backups`,
    ]);
    expect(make(['-n', 'restore', 'FILE=backups/x.dump']).output.trim().split('\n')).toEqual([
      'test -f "backups/x.dump" || { echo "usage: make restore FILE=backups/<name>.dump" >&2; exit 2; }',
      'docker compose stop app',
      // Cached pages predate the restore; nothing else in the stack's Redis outlives one.
      'docker compose exec -T redis redis-cli FLUSHALL',
      `${inPostgres} scripts/db-restore.sh ${database} "backups/x.dump" || { docker compose up --detach --wait; exit 1; }`,
      'docker compose up --detach --wait',
    ]);
    const missing = make(['restore']);
    expect([missing.status, missing.output]).toEqual([
      2,
      expect.stringContaining('usage: make restore FILE=backups/<name>.dump'),
    ]);
  });

  it('writes .env from .env.example with a new random value for every blank secret', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shipshape-make-'));
    try {
      writeFileSync(join(dir, 'Makefile'), readFileSync(join(root, 'Makefile')));
      writeFileSync(join(dir, '.env.example'), readFileSync(join(root, '.env.example')));
      expect(make(['.env'], dir).status).toBe(0);
      const env = readFileSync(join(dir, '.env'), 'utf8');
      const secrets = [
        'POSTGRES_PASSWORD',
        'REDIS_PASSWORD',
        'GRAFANA_ADMIN_PASSWORD',
        'ADMIN_TOKEN',
      ];
      const values = secrets.map(
        (key) => new RegExp(`^${key}=([0-9a-f]{48})$`, 'm').exec(env)?.[1],
      );
      expect(values.every((value) => value !== undefined)).toBe(true);
      expect(new Set(values).size).toBe(secrets.length);
      // Everything else is the example as it stands.
      const unchanged = (text: string) =>
        text.split('\n').filter((line) => !secrets.some((key) => line.startsWith(`${key}=`)));
      expect(unchanged(env)).toEqual(unchanged(readFileSync(join(root, '.env.example'), 'utf8')));
      // Made once: a second run keeps the secrets.
      expect(make(['.env'], dir).output).toContain("'.env' is up to date");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
