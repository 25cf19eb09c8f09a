import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { Item } from '../../src/features/items/schema.js';
import { backends, useApp } from '../helpers/app.js';
import { expectError } from '../helpers/http.js';

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe.each(backends)('items over HTTP on $name', (backend) => {
  const ctx = useApp(backend);

  const post = (payload: InjectOptions['payload']) =>
    ctx.app.inject({ method: 'POST', url: '/items', payload });
  const get = (url: string, headers: Record<string, string> = {}) =>
    ctx.app.inject({ method: 'GET', url, headers });
  const create = async (name: string): Promise<Item> => {
    const res = await post({ name });
    expect(res.statusCode).toBe(201);
    return res.json<Item>();
  };
  const seed = (count: number) =>
    ctx.app.database.exec(
      `INSERT INTO items (name) SELECT 'item ' || g FROM generate_series(1, ${count}) AS g`,
    );
  const ids = (res: LightMyRequestResponse) => res.json<Item[]>().map((item) => item.id);

  describe('POST /items', () => {
    it('creates an item with a location header', async () => {
      const res = await post({ name: 'first' });
      const body = res.json<Item>();
      expect({ status: res.statusCode, keys: Object.keys(body).sort(), name: body.name }).toEqual({
        status: 201,
        keys: ['createdAt', 'id', 'name'],
        name: 'first',
      });
      expect(Number.isInteger(body.id) && body.id > 0).toBe(true);
      expect(body.createdAt).toMatch(ISO_DATE_TIME);
      expect(new Date(body.createdAt).toISOString()).toBe(body.createdAt);
      expect(res.headers.location).toBe(`/items/${body.id}`);
      expect(res.headers['x-request-id']).toBeTruthy();
    });

    it.each([
      ['  spaced  ', 'spaced'],
      [`  ${'a'.repeat(200)}  `, 'a'.repeat(200)],
      ['日本', '日本'],
      ['😀'.repeat(200), '😀'.repeat(200)],
    ])('accepts %j as %j', async (name, expected) => {
      const res = await post({ name });
      expect({ status: res.statusCode, name: res.json<Item>().name }).toEqual({
        status: 201,
        name: expected,
      });
    });

    it.each([
      ['an empty name', { name: '' }],
      ['a whitespace-only name', { name: ' \t\n ' }],
      ['201 characters after trimming', { name: ` ${'a'.repeat(201)} ` }],
      ['201 emoji', { name: '😀'.repeat(201) }],
      ['a number', { name: 123 }],
      ['null', { name: null }],
      ['a missing name', { other: 'x' }],
      ['an empty object', {}],
      ['an array body', [{ name: 'a' }]],
      ['an unknown extra property', { name: 'a', extra: 1 }],
    ])('rejects %s with 400', async (_case, payload) => {
      const res = await post(payload);
      expectError(res, 400);
    });

    it('rejects a JSON request without a body with 400', async () => {
      const res = await ctx.app.inject({
        method: 'POST',
        url: '/items',
        headers: { 'content-type': 'application/json' },
      });
      expectError(res, 400);
      expect(ids(await get('/items'))).toEqual([]);
    });
  });

  describe('GET /items/:id', () => {
    it('reads an item', async () => {
      const item = await create('one');
      const res = await get(`/items/${item.id}`);
      expect({ status: res.statusCode, body: res.json<unknown>() }).toEqual({
        status: 200,
        body: item,
      });
    });

    it('answers 404 for an unknown id', async () => {
      const res = await get('/items/424242');
      expectError(res, 404);
    });

    it.each(['abc', '0', '-1', '1.5'])('answers 400 for the id %j', async (id) => {
      expectError(await get(`/items/${id}`), 400);
    });
  });

  describe('GET /items', () => {
    it('lists items in creation order', async () => {
      const created = [await create('b'), await create('a'), await create('c')];
      const res = await get('/items');
      expect({ status: res.statusCode, body: res.json<unknown>() }).toEqual({
        status: 200,
        body: created,
      });
      expect(res.headers.link).toBeUndefined();
    });

    it('returns 100 items by default, with a link to the next page', async () => {
      await seed(101);
      const res = await get('/items');
      expect({ status: res.statusCode, ids: ids(res) }).toEqual({
        status: 200,
        ids: Array.from({ length: 100 }, (_, i) => i + 1),
      });
      expect(res.headers.link).toBe('</items?limit=100&after=100>; rel="next"');
    });

    it('accepts limits from 1 to 1000 and returns the items after a given id', async () => {
      await seed(5);
      expect(ids(await get('/items?limit=1'))).toEqual([1]);
      expect(ids(await get('/items?limit=1000'))).toEqual([1, 2, 3, 4, 5]);
      expect(ids(await get('/items?after=3'))).toEqual([4, 5]);
      expect(ids(await get('/items?after=5'))).toEqual([]);
    });

    it.each(['limit=0', 'limit=1001', 'limit=-1', 'limit=abc', 'limit=1.5', 'after=-1', 'after=x'])(
      'answers 400 for ?%s',
      async (query) => {
        expectError(await get(`/items?${query}`), 400);
      },
    );

    it.each([
      { count: 5, pages: '1,2 3,4 5' },
      { count: 4, pages: '1,2 3,4' },
    ])('pages through $count items by following the link header', async ({ count, pages }) => {
      await seed(count);
      const links: unknown[] = [];
      const seen: string[] = [];
      let url: string | undefined = '/items?limit=2';
      while (url !== undefined && seen.length < 10) {
        const res = await get(url);
        seen.push(ids(res).join(','));
        links.push(res.headers.link);
        url = /^<([^>]+)>; rel="next"$/.exec(String(res.headers.link))?.[1];
      }
      expect(seen.join(' ')).toBe(pages);
      expect(links.slice(0, 2)).toEqual([
        '</items?limit=2&after=2>; rel="next"',
        count > 4 ? '</items?limit=2&after=4>; rel="next"' : undefined,
      ]);
    });
  });

  describe('cache', () => {
    it('misses, then hits with the same body', async () => {
      await create('cached');
      const first = await get('/items');
      const second = await get('/items');
      expect(first.headers['x-cache']).toBe('miss');
      expect(second.headers['x-cache']).toBe('hit');
      expect({ status: second.statusCode, body: second.body }).toEqual({
        status: 200,
        body: first.body,
      });
      expect(second.headers.etag).toBe(first.headers.etag);
    });

    it('shows a new item in the first GET after a 201 POST', async () => {
      const before = await create('before');
      await get('/items');
      expect((await get('/items')).headers['x-cache']).toBe('hit');
      const after = await create('after');
      const res = await get('/items');
      expect({ cache: res.headers['x-cache'], body: res.json<unknown>() }).toEqual({
        cache: 'miss',
        body: [before, after],
      });
    });

    it('answers 304 to a matching If-None-Match and 200 to a stale one', async () => {
      await create('tagged');
      const first = await get('/items');
      const etag = first.headers.etag;
      expect(etag).toMatch(/^"[^"]+"$/);

      const notModified = await get('/items', { 'if-none-match': String(etag) });
      expect({ status: notModified.statusCode, body: notModified.body }).toEqual({
        status: 304,
        body: '',
      });

      await create('newer');
      const changed = await get('/items', { 'if-none-match': String(etag) });
      expect({
        status: changed.statusCode,
        names: changed.json<Item[]>().map((i) => i.name),
      }).toEqual({
        status: 200,
        names: ['tagged', 'newer'],
      });
      expect(changed.headers.etag).not.toBe(etag);

      const bogus = await get('/items', { 'if-none-match': '"not-the-tag"' });
      expect(bogus.statusCode).toBe(200);
    });
  });

  describe('x-request-id', () => {
    it('is on every response, generated when absent', async () => {
      const responses = [await post({ name: 'x' }), await get('/items'), await get('/items/999')];
      for (const res of responses) expect(res.headers['x-request-id']).toMatch(UUID);
    });

    it.each(['abc-123', 'a'.repeat(128)])('echoes the safe id %s', async (id) => {
      const res = await get('/items', { 'x-request-id': id });
      expect(res.headers['x-request-id']).toBe(id);
    });

    it.each(['abc 123', 'a'.repeat(129), '<script>'])('replaces the unsafe id %j', async (id) => {
      const res = await get('/items', { 'x-request-id': id });
      expect(res.headers['x-request-id']).toMatch(UUID);
    });
  });
});
