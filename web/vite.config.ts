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
 */
function precompress(): Plugin {
  return {
    name: 'shipshape:precompress',
    apply: 'build',
    enforce: 'post',
    generateBundle(_options, bundle) {
      for (const [fileName, output] of Object.entries(bundle)) {
        if (!/\.(js|css|html|svg|json)$/.test(fileName)) continue;
        const source = output.type === 'chunk' ? output.code : output.source;
        for (const [suffix, compress] of [
          ['.br', brotliCompressSync],
          ['.gz', gzipSync],
        ] as const) {
          this.emitFile({ type: 'asset', fileName: fileName + suffix, source: compress(source) });
        }
      }
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
