import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { ErrorSchema, HttpError } from '../../platform/errors.js';
import { CreateItemSchema, ItemParamsSchema, ItemSchema, ListItemsQuerySchema } from './schema.js';
import { createItemsService } from './service.js';
import { createItemsStore } from './store.js';

const tags = ['items'];

/** If-None-Match holds one or more (possibly weak) tags, or `*`. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const candidate = tag.trim().replace(/^W\//, '');
    return candidate === '*' || candidate === etag;
  });
}

/** `/items`: create, list (cached, paginated, ETag) and read one. */
export const itemsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const items = createItemsService(createItemsStore(app.database), app.cache);

  app.post(
    '/items',
    {
      schema: {
        tags,
        summary: 'Create an item',
        body: CreateItemSchema,
        response: { 201: ItemSchema, 400: ErrorSchema, 415: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request, reply) => {
      const item = await items.create(request.body.name);
      return reply.code(201).header('location', `/items/${item.id}`).send(item);
    },
  );

  app.get(
    '/items',
    {
      schema: {
        tags,
        summary: 'List items in creation order, a page at a time',
        description:
          'Follow the `Link: <...>; rel="next"` header for the next page. Answers 304 to a matching If-None-Match.',
        querystring: ListItemsQuerySchema,
        response: {
          200: Type.Array(ItemSchema),
          304: Type.Null(),
          400: ErrorSchema,
          503: ErrorSchema,
        },
      },
    },
    async (request, reply) => {
      const { page, hit } = await items.list(request.query);
      reply.header('x-cache', hit ? 'hit' : 'miss').header('etag', page.etag);
      if (page.nextAfter !== null) {
        reply.header(
          'link',
          `</items?limit=${request.query.limit}&after=${page.nextAfter}>; rel="next"`,
        );
      }
      if (matchesEtag(request.headers['if-none-match'], page.etag))
        return reply.code(304).send(null);
      // The page is already JSON (that is what the cache holds), so it is sent as it is.
      return reply.type('application/json; charset=utf-8').send(page.body as never);
    },
  );

  app.get(
    '/items/:id',
    {
      schema: {
        tags,
        summary: 'Read one item',
        params: ItemParamsSchema,
        response: { 200: ItemSchema, 400: ErrorSchema, 404: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request) => {
      const item = await items.get(request.params.id);
      if (item === undefined) throw new HttpError(404, `Item ${request.params.id} not found`);
      return item;
    },
  );
};
