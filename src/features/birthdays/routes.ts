import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Config } from '../../config.js';
import { ErrorSchema } from '../../platform/errors.js';
import { GreetingSchema, SaveBirthdaySchema, UsernameParamsSchema } from './schema.js';
import { createBirthdaysService } from './service.js';
import { createBirthdaysStore } from './store.js';

const tags = ['birthdays'];

/** `/hello/:username`: save a date of birth, read the greeting. */
export const birthdaysRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (
  app,
  { config },
) => {
  const birthdays = createBirthdaysService(createBirthdaysStore(app.database), config.TIME_ZONE);

  // One person, one spelling: "é" typed as one code point or as e + accent is the same name.
  app.addHook('preValidation', (request, _reply, done) => {
    const params = request.params as { username?: unknown };
    if (typeof params.username === 'string') params.username = params.username.normalize('NFC');
    done();
  });

  app.put(
    '/hello/:username',
    {
      schema: {
        tags,
        summary: "Save or update a user's date of birth",
        params: UsernameParamsSchema,
        body: SaveBirthdaySchema,
        response: { 204: Type.Null(), 400: ErrorSchema, 415: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request, reply) => {
      await birthdays.save(request.params.username, request.body.dateOfBirth);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/hello/:username',
    {
      schema: {
        tags,
        summary: 'Greet a user with the days left to their birthday',
        params: UsernameParamsSchema,
        response: { 200: GreetingSchema, 400: ErrorSchema, 404: ErrorSchema, 503: ErrorSchema },
      },
    },
    async (request) => ({ message: await birthdays.greet(request.params.username) }),
  );
};
