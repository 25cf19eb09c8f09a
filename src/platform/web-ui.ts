import { existsSync } from 'node:fs';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { WEB_UI_ROOT } from '../paths.js';

// Vite names every asset by its content hash: a changed file is a new URL.
const HASHED_ASSET_CACHE = 'public, max-age=31536000, immutable';

/**
 * Serves the built web UI at `/`. File names are read once at start-up, so every other
 * path stays the API's JSON 404. The .br/.gz files written by the build are sent when
 * the client accepts them. Without a build (`npm run dev` serves the UI itself) the API
 * runs alone and says so.
 */
export const webUiPlugin = fp(
  async (app: FastifyInstance, { root = WEB_UI_ROOT }: { root?: string }) => {
    if (!existsSync(`${root}/index.html`)) {
      app.log.info({ root }, 'web UI not built: serving the API only (npm run build builds it)');
      return;
    }
    await app.register(fastifyStatic, {
      root,
      wildcard: false,
      globIgnore: ['**/*.br', '**/*.gz'],
      preCompressed: true,
      dotfiles: 'ignore',
      cacheControl: false,
      setHeaders(reply, path) {
        const hashed = path.startsWith(`${root}assets/`);
        reply.header('cache-control', hashed ? HASHED_ASSET_CACHE : 'no-cache');
      },
    });
  },
  { name: 'web-ui' },
);
