/**
 * Bare Fastify: the service's routes and response schemas, the same one round trip each
 * (io.ts), and no plugins, hooks or logger. What the framework itself costs.
 */
import Fastify from 'fastify';
import { connectFloorIo, greetingBody, STATUS_BODY } from './io.js';

const io = await connectFloorIo(process.env);
const app = Fastify();
const json = 'application/json; charset=utf-8';

app.get(
  '/status',
  {
    schema: {
      response: {
        200: {
          type: 'object',
          properties: Object.fromEntries(
            Object.entries(STATUS_BODY).map(([key, value]) => [key, { type: typeof value }]),
          ),
        },
      },
    },
  },
  async () => STATUS_BODY,
);
app.get('/items', async (_request, reply) => reply.type(json).send(await io.cachedPage()));
app.get('/counter', async () => ({ counter: await io.counter() }));
app.get<{ Params: { username: string } }>('/hello/:username', async (request, reply) => {
  const date = await io.dateOfBirth(request.params.username);
  if (date === undefined) return reply.code(404).send({});
  return reply.type(json).send(greetingBody(request.params.username, date));
});
app.put<{ Params: { username: string }; Body: { dateOfBirth: string } }>(
  '/hello/:username',
  async (request, reply) => {
    await io.saveDateOfBirth(request.params.username, request.body.dateOfBirth);
    return reply.code(204).send();
  },
);

await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });

// Exit cleanly when stopped, so a run under `node --cpu-prof` writes its profile.
process.once('SIGTERM', () => process.exit(0));
