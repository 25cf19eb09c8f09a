/**
 * Bundles the server's entry points into `dist/` with esbuild: one file per entry, its
 * dependencies included. Loading ~1,200 files of code from node_modules took longer than the
 * rest of start-up together (docs/decisions.md, "One bundled file per entry point").
 */
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import externals from './bundle-externals.json' with { type: 'json' };

const root = fileURLToPath(new URL('../', import.meta.url));
const outdir = fileURLToPath(new URL('../dist/', import.meta.url));

await rm(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/main.ts', 'src/migrate.ts', 'src/healthcheck.ts'],
  outdir,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Code only some runs need (tracing's SDK; PostgreSQL's or PGlite's driver) goes to chunks
  // of its own, loaded when imported: off, tracing costs no parsing at start-up. Chunks sit
  // beside the entry points, so import.meta.url means the same folder in each (src/paths.ts).
  splitting: true,
  chunkNames: '[name]-[hash]',
  // Names are kept, so stack traces still read; dropping the whitespace alone saves ~10 MB of
  // resident source text. The map leads back to src/ when a process runs with
  // --enable-source-maps, which is not the default: Node 20 parses the map at start-up, for
  // +150 ms and +30 MB.
  minifyWhitespace: true,
  sourcemap: 'linked',
  // Packages that read files from beside their own code (__dirname) stay in node_modules; the
  // list, with each one's reason, is shared with the image's build (scripts/runtime-packages.ts).
  // (pino's transports and @fastify/swagger's package.json fallback do too; neither is used.)
  external: Object.keys(externals.external),
  // CommonJS dependencies call require(); an ES module has none of its own.
  banner: {
    js: "import { createRequire as shipshapeCreateRequire } from 'node:module'; const require = shipshapeCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
