import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorsPlugin } from '../../src/platform/errors.js';
import { webUiPlugin } from '../../src/platform/web-ui.js';

const INDEX = '<!doctype html><div id="root"></div>';
const SCRIPT = `console.log(${JSON.stringify('shipshape '.repeat(200))});`;

/** The errors plugin's JSON 404, which the UI must leave in place for unknown paths. */
async function expectNotFound(app: FastifyInstance, url: string): Promise<void> {
  const res = await app.inject({ url });
  expect({ status: res.statusCode, body: res.json<unknown>() }).toEqual({
    status: 404,
    body: { statusCode: 404, error: 'Not Found', message: `Route GET ${url} not found` },
  });
}

/** A bare app with only the errors and web UI plugins; its log lines go to `logs`. */
async function appServing(root: string, logs: { msg?: string }[] = []): Promise<FastifyInstance> {
  const stream = { write: (line: string) => logs.push(JSON.parse(line) as { msg?: string }) };
  const app = Fastify({ logger: { level: 'info', stream } });
  await app.register(errorsPlugin);
  await app.register(webUiPlugin, { root });
  await app.ready();
  return app;
}

describe('web UI plugin', () => {
  let root: string;
  let app: FastifyInstance;

  beforeAll(async () => {
    root = `${await mkdtemp(join(tmpdir(), 'shipshape-web-'))}/`;
    await mkdir(`${root}assets`);
    await writeFile(`${root}index.html`, INDEX);
    await writeFile(`${root}assets/index-abc123.js`, SCRIPT);
    await writeFile(`${root}assets/index-abc123.js.gz`, gzipSync(SCRIPT));
    await writeFile(`${root}.env`, 'SECRET=1');
    app = await appServing(root);
  });
  afterAll(async () => {
    await app.close();
    await rm(root, { recursive: true });
  });

  it('serves the page at / and asks browsers to revalidate it', async () => {
    const res = await app.inject({ url: '/' });
    expect({ status: res.statusCode, body: res.body }).toEqual({ status: 200, body: INDEX });
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['cache-control']).toBe('no-cache');
  });

  it('sends hashed assets compressed when accepted, cached for a year', async () => {
    const res = await app.inject({
      url: '/assets/index-abc123.js',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-encoding']).toBe('gzip');
    expect(res.headers.vary).toMatch(/accept-encoding/i);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.rawPayload).toEqual(gzipSync(SCRIPT));
  });

  it('sends the plain file to clients that accept no compression', async () => {
    const res = await app.inject({ url: '/assets/index-abc123.js' });
    expect({ status: res.statusCode, body: res.body }).toEqual({ status: 200, body: SCRIPT });
    expect(res.headers['content-encoding']).toBeUndefined();
  });

  it('leaves every other path to the JSON 404, dotfiles included', async () => {
    await expectNotFound(app, '/nope');
    await expectNotFound(app, '/.env');
    await expectNotFound(app, '/assets/index-abc123.js.gz');
  });
});

describe('web UI plugin without a build', () => {
  it('leaves / to the JSON 404 and says why in the log', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'shipshape-web-'));
    const logs: { msg?: string }[] = [];
    const app = await appServing(`${empty}/`, logs);
    await expectNotFound(app, '/');
    expect(logs.map((line) => line.msg)).toContain(
      'web UI not built: serving the API only (npm run build builds it)',
    );
    await app.close();
    await rm(empty, { recursive: true });
  });
});

// The build `npm start` serves (`npm test` builds it first): browsers get the .br or .gz
// copy, so each must be the very file, byte for byte, or the page breaks only compressed.
describe('the built UI in web/dist', () => {
  const dist = new URL('../../web/dist/', import.meta.url);

  it('has a Brotli and a gzip copy of every script and page, each the same bytes', async () => {
    const files = (await readdir(dist, { recursive: true })).filter((name) =>
      /\.(js|css|html)$/.test(name),
    );
    expect(files).toContain('index.html');
    expect(files.some((name) => name.startsWith('assets/') && name.endsWith('.js'))).toBe(true);
    for (const name of files) {
      const raw = await readFile(new URL(name, dist));
      expect(brotliDecompressSync(await readFile(new URL(`${name}.br`, dist))), name).toEqual(raw);
      expect(gunzipSync(await readFile(new URL(`${name}.gz`, dist))), name).toEqual(raw);
    }
  });
});
