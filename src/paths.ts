import { fileURLToPath } from 'node:url';

/**
 * The project's root folder (package.json, migrations/, web/dist/). This file sits one
 * level below it, as the bundles the build writes do (`dist/main.js`), so the same
 * relative URL finds it when running from `src/` and from `dist/`.
 */
const projectRoot = new URL('../', import.meta.url);

export const PACKAGE_JSON = new URL('package.json', projectRoot);
export const MIGRATIONS_DIR = new URL('migrations/', projectRoot);
export const WEB_UI_ROOT = fileURLToPath(new URL('web/dist/', projectRoot));
