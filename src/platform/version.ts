import { readFileSync } from 'node:fs';
import { PACKAGE_JSON } from '../paths.js';

/** The package version, read once from package.json. */
export const { version } = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string };
