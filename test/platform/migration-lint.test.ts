import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const script = new URL('../../scripts/lint-migrations.sh', import.meta.url).pathname;

/** The linter's exit code and report for one migration file with this SQL. */
async function lint(dir: string, sql: string): Promise<{ code: number; report: string }> {
  const file = join(dir, '100_change.sql');
  await writeFile(file, sql);
  try {
    const { stdout } = await run(script, [file]);
    return { code: 0, report: stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, report: failed.stdout };
  }
}

describe('the migration linter (npm run lint)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shipshape-migration-lint-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('passes the migrations in the repository', async () => {
    await expect(run(script)).resolves.toBeDefined();
  });

  it('fails an index built without CONCURRENTLY, which would hold every write on the table', async () => {
    const { code, report } = await lint(dir, 'CREATE INDEX items_by_name ON items (name);\n');
    expect(code).toBe(1);
    expect(report).toContain('require-concurrent-index-creation');
  });

  it('fails a column type change, which rewrites the table under an exclusive lock', async () => {
    const { code, report } = await lint(
      dir,
      'ALTER TABLE items ALTER COLUMN name TYPE varchar(300);\n',
    );
    expect(code).toBe(1);
    expect(report).toContain('changing-column-type');
  });

  it('passes the same index built concurrently in a file marked no-transaction', async () => {
    const { code } = await lint(
      dir,
      '-- migrate: no-transaction\nCREATE INDEX CONCURRENTLY items_by_name ON items (name);\n',
    );
    expect(code).toBe(0);
  });
});
