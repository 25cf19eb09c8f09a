import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

// Everything the service answers besides the UI; the dev server hands these to the API.
const API_PATHS = [
  ...['/items', '/counter', '/decrement', '/reset', '/hello'],
  ...['/status', '/healthz', '/readyz', '/metrics', '/docs'],
];
// The API's own PORT variable, so `npm run dev` on another port still reaches it.
const apiTarget = `http://127.0.0.1:${process.env.PORT ?? '3000'}`;
// And its HOST: in a container (compose's dev profile) both listen on 0.0.0.0.
const devHost = process.env.HOST ?? '127.0.0.1';

/**
 * Writes .br and .gz beside every text file of the build, so the service sends them
 * compressed without spending CPU on each request (@fastify/static's preCompressed).
 * It reads the files once written: in generateBundle, Vite has yet to fill in parts of
 * a chunk (its dynamic-import preload list), and copies made there would differ.
 */
function precompress(): Plugin {
  return {
    name: 'shipshape:precompress',
    apply: 'build',
    async writeBundle({ dir = 'dist' }, bundle) {
      const files = Object.keys(bundle).filter((name) => /\.(js|css|html|svg|json)$/.test(name));
      await Promise.all(
        files.map(async (name) => {
          const source = await readFile(join(dir, name));
          await writeFile(join(dir, `${name}.br`), brotliCompressSync(source));
          await writeFile(join(dir, `${name}.gz`), gzipSync(source));
        }),
      );
    },
  };
}

export default defineConfig({
  plugins: [react(), precompress()],
  build: { outDir: 'dist', emptyOutDir: true },
  server: {
    host: devHost,
    port: 5173,
    strictPort: true,
    proxy: Object.fromEntries(API_PATHS.map((path) => [path, { target: apiTarget }])),
  },
});
