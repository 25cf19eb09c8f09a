import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import budget from '../../scripts/image-budget.json' with { type: 'json' };
import externals from '../../scripts/bundle-externals.json' with { type: 'json' };
import { copyPackages, runtimePackages, type Lockfile } from '../../scripts/runtime-packages.js';

const root = new URL('../../', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, root), 'utf8');
const lockfile = JSON.parse(read('package-lock.json')) as Lockfile;
const dockerfile = read('Dockerfile').replace(/\\\n\s*/g, '');
const stage = (name: string) => {
  const match = new RegExp(`^FROM \\S+ AS ${name}\\n([\\s\\S]*?)(?=^FROM |(?![\\s\\S]))`, 'm').exec(
    dockerfile,
  );
  if (match?.[1] === undefined) throw new Error(`the Dockerfile has no ${name} stage`);
  return match[1];
};

describe('the Dockerfile', () => {
  it('copies into the runtime stage only the externals and their dependencies', () => {
    const runtimeCopies = stage('runtime')
      .split('\n')
      .filter((line) => line.startsWith('COPY '));
    expect(runtimeCopies.filter((line) => line.includes('node_modules'))).toEqual([
      'COPY --from=runtime-deps /runtime/node_modules/ node_modules/',
    ]);
    const runtimeDeps = stage('runtime-deps');
    const install = runtimeDeps.search(
      /^RUN (--mount=\S+ )?npm ci --omit=dev --workspaces=false /m,
    );
    const pick = runtimeDeps.search(/^RUN node scripts\/runtime-packages\.ts \/app \/runtime$/m);
    expect(install).toBeGreaterThan(-1);
    expect(pick).toBeGreaterThan(install);
  });

  it('builds with the externals list the image is made from', () => {
    expect(read('scripts/build-server.ts')).toMatch(
      /^ {2}external: Object\.keys\(externals\.external\),$/m,
    );
    expect(read('scripts/build-server.ts')).toContain("from './bundle-externals.json'");
  });

  it('lets into the build context every file it copies from there', () => {
    const allowed = read('.dockerignore')
      .split('\n')
      .filter((line) => line.startsWith('!'))
      .map((line) => line.slice(1));
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((match) =>
      (match[1] ?? '').split(' '),
    );
    expect(sources).toContain('scripts/runtime-packages.ts');
    for (const source of sources) {
      expect(
        allowed.some((entry) => source === entry || source.startsWith(entry)),
        source,
      ).toBe(true);
    }
  });
});

describe('scripts/runtime-packages.ts on package-lock.json', () => {
  const paths = runtimePackages(lockfile, Object.keys(externals.external));

  it('keeps every installed external and what it loads, and none of the bundled packages', () => {
    expect(paths).toEqual(
      expect.arrayContaining([
        'node_modules/@electric-sql/pglite',
        'node_modules/@fastify/swagger-ui',
        'node_modules/@fastify/static',
        'node_modules/ioredis',
        'node_modules/redis-parser',
      ]),
    );
    for (const bundled of ['fastify', 'pg', 'pino', 'typebox', '@opentelemetry/api', 'pg-native']) {
      expect(paths).not.toContain(`node_modules/${bundled}`);
    }
  });

  it('stays within the image budget of scripts/image-budget.json', () => {
    expect(paths.length).toBeLessThanOrEqual(budget.nodeModulesPackages);
  });
});

// A lockfile where Node's lookup matters: `a` needs its own `c` 2.0.0, `b` the hoisted 1.0.0.
const fixture: Lockfile = {
  packages: {
    '': { dependencies: { a: '^1', b: '^1', d: '^1' } },
    'node_modules/a': {
      version: '1.0.0',
      dependencies: { c: '^2' },
      optionalDependencies: { e: '*' },
    },
    'node_modules/a/node_modules/c': { version: '2.0.0' },
    'node_modules/b': {
      version: '1.0.0',
      dependencies: { c: '^1' },
      peerDependencies: { native: '*' },
      peerDependenciesMeta: { native: { optional: true } },
    },
    'node_modules/c': { version: '1.0.0' },
    'node_modules/d': { version: '1.0.0' },
    'node_modules/e': { version: '1.0.0', optional: true },
  },
};

describe('runtimePackages', () => {
  it('resolves each dependency as Node does, nested first, and leaves out the rest', () => {
    expect(runtimePackages(fixture, ['a'])).toEqual([
      'node_modules/a',
      'node_modules/a/node_modules/c',
      'node_modules/e',
    ]);
    expect(runtimePackages(fixture, ['b'])).toEqual(['node_modules/b', 'node_modules/c']);
  });

  it('accepts an optional peer nobody installed as an external, and nothing else missing', () => {
    expect(runtimePackages(fixture, ['d', 'native'])).toEqual(['node_modules/d']);
    expect(() => runtimePackages(fixture, ['typo'])).toThrow(
      'typo is external to the bundle, but package-lock.json has no node_modules/typo',
    );
    const broken: Lockfile = { packages: { ...fixture.packages, 'node_modules/c': undefined } };
    expect(() => runtimePackages(broken, ['b'])).toThrow(
      'package-lock.json has no c for node_modules/b',
    );
  });
});

describe('copyPackages', () => {
  let folder: string;
  afterEach(() => rmSync(folder, { recursive: true, force: true }));

  const install = (path: string) => {
    mkdirSync(join(folder, 'from', path), { recursive: true });
    writeFileSync(join(folder, 'from', path, 'package.json'), '{}');
  };

  it('copies the listed folders, each without the node_modules it holds', () => {
    folder = mkdtempSync(join(tmpdir(), 'runtime-packages-'));
    for (const path of [
      'node_modules/a',
      'node_modules/a/node_modules/c',
      'node_modules/a/node_modules/x',
      'node_modules/b',
    ]) {
      install(path);
    }
    copyPackages(
      fixture,
      ['node_modules/a', 'node_modules/a/node_modules/c'],
      join(folder, 'from'),
      join(folder, 'to'),
    );
    const copied = (path: string) => existsSync(join(folder, 'to', path, 'package.json'));
    expect(copied('node_modules/a')).toBe(true);
    expect(copied('node_modules/a/node_modules/c')).toBe(true);
    expect(copied('node_modules/a/node_modules/x')).toBe(false);
    expect(copied('node_modules/b')).toBe(false);
  });

  it('skips a missing optional package and fails on any other', () => {
    folder = mkdtempSync(join(tmpdir(), 'runtime-packages-'));
    install('node_modules/a');
    const to = join(folder, 'to');
    copyPackages(fixture, ['node_modules/a', 'node_modules/e'], join(folder, 'from'), to);
    expect(existsSync(join(to, 'node_modules/e'))).toBe(false);
    expect(() => copyPackages(fixture, ['node_modules/d'], join(folder, 'from'), to)).toThrow(
      `${join(folder, 'from', 'node_modules/d')} is missing: run npm ci --omit=dev in ${join(folder, 'from')} first`,
    );
  });
});
