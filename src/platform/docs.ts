import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { version } from './version.js';

/** OpenAPI 3 generated from the route schemas, at `/docs/json`, with a browsable UI at `/docs`. */
export const docsPlugin = fp(
  async (app: FastifyInstance) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'shipshape',
          description: 'Items, a camera counter and birthdays, with the platform endpoints.',
          version,
        },
        tags: [
          { name: 'items', description: 'A list of named items; reads are cached' },
          { name: 'counter', description: 'Camera stock, sold one at a time' },
          { name: 'birthdays', description: 'Dates of birth and greetings' },
          { name: 'platform', description: 'Health, readiness, status and metrics' },
        ],
        components: {
          securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } },
        },
      },
    });
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      staticCSP: true,
      // No badge from the public validator: the page makes no requests outside this service.
      uiConfig: { docExpansion: 'list', deepLinking: true, validatorUrl: null },
    });
  },
  { name: 'docs' },
);
