import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realServersAvailable } from '../helpers/servers.js';
import { ROOT, runCommand } from './workflow-files.js';

// scripts/schema-compat.sh on a repository of its own: this commit's files as the release,
// then migrations on top. One small HTTP test file of the release keeps each run to seconds
// (the node_modules installed here are linked, the lockfile being the same).
const TESTS = 'test/http/items.test.ts';
const RENAME = 'ALTER TABLE items RENAME COLUMN name TO title;\n';
const ADD = 'ALTER TABLE items ADD COLUMN note text;\n';

/** git in `cwd`, with an identity, and no GIT_* variable pointing at another repository. */
function git(cwd: string, ...args: string[]): string {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('GIT_')),
  );
  return execFileSync(
    'git',
    ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args],
    {
      cwd,
      env,
      encoding: 'utf8',
    },
  ).trim();
}

describe.runIf(realServersAvailable)('scripts/schema-compat.sh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shipshape-schema-compat-test-'));
  const repo = join(dir, 'repo');
  let release = '';

  /** Commits `files` (migrations/<name>: SQL) on the branch checked out; returns the commit. */
  const commitMigrations = (message: string, files: Record<string, string>) => {
    for (const [name, sql] of Object.entries(files))
      writeFileSync(join(repo, 'migrations', name), sql);
    git(repo, 'add', 'migrations');
    git(repo, 'commit', '--quiet', '--no-gpg-sign', '-m', message);
    return git(repo, 'rev-parse', 'HEAD');
  };
  /** The script in `cwd`, on the one test file; its output without the colours vitest adds. */
  const compat = async (cwd: string, args: string[] = [], env: Record<string, string> = {}) => {
    const result = await runCommand(join(cwd, 'scripts/schema-compat.sh'), args, {
      SCHEMA_COMPAT_BASE: '',
      SCHEMA_COMPAT_TESTS: TESTS,
      ...env,
    });
    const { stdout, stderr } = result;
    return {
      ...result,
      stdout: stripVTControlCharacters(stdout),
      stderr: stripVTControlCharacters(stderr),
    };
  };

  beforeAll(() => {
    git(dir, 'init', '--quiet', '--initial-branch=main', repo);
    // This commit's files (a shallow checkout has them too), with the script under test.
    execFileSync('sh', ['-c', `git -C "$0" archive HEAD | tar -x -C "$1"`, ROOT, repo]);
    copyFileSync(join(ROOT, 'scripts/schema-compat.sh'), join(repo, 'scripts/schema-compat.sh'));
    git(repo, 'add', '--all');
    git(repo, 'commit', '--quiet', '--no-gpg-sign', '-m', 'release');
    release = git(repo, 'rev-parse', 'HEAD');
    // After the commit: git would take the link for a file, node_modules/ being a folder.
    symlinkSync(join(ROOT, 'node_modules'), join(repo, 'node_modules'));
    if (existsSync(join(ROOT, 'web/node_modules')))
      symlinkSync(join(ROOT, 'web/node_modules'), join(repo, 'web/node_modules'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fails when a migration breaks the running release, and passes a compatible one', async () => {
    git(repo, 'checkout', '--quiet', '-b', 'breaking', release);
    commitMigrations('rename items.name', { '003_rename_item_name.sql': RENAME });
    const broken = await compat(repo);
    const output = broken.stdout + broken.stderr;
    expect(broken.code, output).toBe(1);
    expect(output).toContain(`the HTTP tests of ${release.slice(0, 7)} (release)`);
    expect(output).toContain('linking the node_modules installed here');
    expect(output).toMatch(/Tests +\d+ failed/);

    // The same run on a migration the release can live with passes: the failure above is
    // the rename's, not the set-up's.
    git(repo, 'checkout', '--quiet', '-b', 'compatible', release);
    commitMigrations('add items.note', { '003_item_note.sql': ADD });
    const passed = await compat(repo);
    expect(passed.code, passed.stdout + passed.stderr).toBe(0);
    expect(passed.stdout).toMatch(/Tests +\d+ passed/);
  }, 180_000);

  it('takes the release before the last migration change, or where the branch left its base', async () => {
    git(repo, 'checkout', '--quiet', '-b', 'two-migrations', release);
    const first = commitMigrations('add items.note', { '003_item_note.sql': ADD });
    commitMigrations('rename items.name', { '004_rename_item_name.sql': RENAME });
    // Alone, the script tests the commit before the last change: the branch's own first one.
    expect((await compat(repo, ['--print-previous'])).stdout.trim()).toBe(first);
    // Given the branch it targets (CI, on a pull request), the release that runs meanwhile.
    const based = await compat(repo, ['--print-previous'], { SCHEMA_COMPAT_BASE: 'main' });
    expect(based).toMatchObject({ code: 0, stdout: `${release}\n` });
    // After a merge, main's first parent: main before the merge, not the branch's commits.
    git(repo, 'checkout', '--quiet', '-b', 'merged', release);
    git(repo, 'merge', '--quiet', '--no-ff', '--no-gpg-sign', '-m', 'merge', 'two-migrations');
    expect((await compat(repo, ['--print-previous'])).stdout.trim()).toBe(release);

    // A branch that changes no migration runs on the schema its base runs on already.
    git(repo, 'checkout', '--quiet', '-b', 'no-migration', release);
    writeFileSync(join(repo, 'notes.txt'), 'no schema change\n');
    git(repo, 'add', 'notes.txt');
    git(repo, 'commit', '--quiet', '--no-gpg-sign', '-m', 'notes');
    const nothing = await compat(repo, [], { SCHEMA_COMPAT_BASE: 'main' });
    expect(nothing.code).toBe(0);
    expect(nothing.stdout).toContain('no change to migrations/ since main');
    const unknown = await compat(repo, [], { SCHEMA_COMPAT_BASE: 'origin/nowhere' });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no common history with SCHEMA_COMPAT_BASE='origin/nowhere'");
  });

  it('refuses a shallow clone, where it would find no release and pass having checked nothing', async () => {
    const shallow = join(dir, 'shallow');
    git(dir, 'clone', '--quiet', '--depth=1', '--branch=main', `file://${repo}`, shallow);
    const refused = await compat(shallow);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('FAIL: schema-compat: this is a shallow clone');
    expect(refused.stdout).toBe('');
  });
});
