/**
 * The packages the runtime image carries in node_modules: the ones the server bundle leaves
 * external (scripts/bundle-externals.json, the list scripts/build-server.ts reads) and their
 * own dependencies, found through package-lock.json the way Node finds them on disk. Every
 * other production dependency is inside dist/ already.
 *
 *   node scripts/runtime-packages.ts             # lists them, with their locked versions
 *   node scripts/runtime-packages.ts FROM TO     # and copies them from FROM/node_modules,
 *                                                # an `npm ci --omit=dev`, to TO/node_modules
 *
 * The Dockerfile runs it with Node's own type stripping (Node 23.6 and later) in a stage
 * without dev dependencies, hence erasable syntax only and no imports of the project's files.
 */
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One entry of package-lock.json's `packages` (lockfileVersion 2 and 3), as used here. */
export interface LockedPackage {
  version?: string;
  optional?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean } | undefined>;
}

/** package-lock.json: folders (`node_modules/a/node_modules/b`) to packages. */
export interface Lockfile {
  packages: Record<string, LockedPackage | undefined>;
}

/** Where Node finds `name` from the package in `from`: its own node_modules, then each one above. */
function resolve(lock: Lockfile, from: string, name: string): string | undefined {
  for (let base = from; ;) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (lock.packages[candidate] !== undefined) return candidate;
    if (base === '') return undefined;
    base = base.slice(0, Math.max(base.lastIndexOf('/node_modules/'), 0));
  }
}

/** Dependency names of a package, each with whether a missing one is allowed. */
function dependencies(entry: LockedPackage): [string, boolean][] {
  const optionalPeer = (name: string) => entry.peerDependenciesMeta?.[name]?.optional === true;
  return [
    ...Object.keys(entry.dependencies ?? {}).map((name): [string, boolean] => [name, false]),
    ...Object.keys(entry.optionalDependencies ?? {}).map((name): [string, boolean] => [name, true]),
    ...Object.keys(entry.peerDependencies ?? {}).map((name): [string, boolean] => [
      name,
      optionalPeer(name),
    ]),
  ];
}

/**
 * The lockfile folders of the externals and of everything they depend on, sorted. An external
 * the lockfile lacks is allowed only when it is an optional peer dependency (pg-native).
 */
export function runtimePackages(lock: Lockfile, externals: readonly string[]): string[] {
  const found = new Set<string>();
  const visit = (path: string) => {
    if (found.has(path)) return;
    found.add(path);
    for (const [name, optional] of dependencies(lock.packages[path] ?? {})) {
      const target = resolve(lock, path, name);
      if (target !== undefined) visit(target);
      else if (!optional) throw new Error(`package-lock.json has no ${name} for ${path}`);
    }
  };
  for (const name of externals) {
    const path = `node_modules/${name}`;
    if (lock.packages[path] !== undefined) {
      visit(path);
      continue;
    }
    const optionalPeer = Object.values(lock.packages).some(
      (entry) => entry?.peerDependenciesMeta?.[name]?.optional === true,
    );
    if (!optionalPeer) {
      throw new Error(`${name} is external to the bundle, but package-lock.json has no ${path}`);
    }
  }
  return [...found].sort();
}

/**
 * Copies each package's folder from `from` to `to`, without its own node_modules: the
 * dependencies it needs from there are in `paths` too. A missing folder is an error unless the
 * lockfile marks the package optional (npm skips those built for another platform).
 */
export function copyPackages(lock: Lockfile, paths: readonly string[], from: string, to: string) {
  for (const path of paths) {
    const source = join(from, path);
    if (!existsSync(source)) {
      if (lock.packages[path]?.optional === true) continue;
      throw new Error(`${source} is missing: run npm ci --omit=dev in ${from} first`);
    }
    const nested = join(source, 'node_modules');
    cpSync(source, join(to, path), {
      recursive: true,
      verbatimSymlinks: true,
      filter: (file) => file !== nested,
    });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = new URL('../', import.meta.url);
  const readJson = (file: string): unknown => JSON.parse(readFileSync(new URL(file, root), 'utf8'));
  const lock = readJson('package-lock.json') as Lockfile;
  const { external } = readJson('scripts/bundle-externals.json') as {
    external: Record<string, string>;
  };
  const paths = runtimePackages(lock, Object.keys(external));
  const [from, to] = process.argv.slice(2);
  if (from !== undefined && to !== undefined) copyPackages(lock, paths, from, to);
  for (const path of paths) console.log(`${path} ${lock.packages[path]?.version ?? ''}`);
}
