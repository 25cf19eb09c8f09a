/**
 * The I/O floor: bare node:http doing exactly the one Redis or PostgreSQL round trip each
 * endpoint needs (io.ts), and `/status` as a fixed JSON, the most one process serves here.
 * With FLOOR_HEADERS=security each answer also carries the headers every one of the
 * service's carries, its security headers and a request id, so the bench can tell what
 * they alone cost.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import { SECURITY_HEADERS } from '../../src/platform/security-headers.js';
import { connectFloorIo, greetingBody, STATUS_BODY } from './io.js';

const io = await connectFloorIo(process.env);
const status = JSON.stringify(STATUS_BODY);
const json = { 'content-type': 'application/json; charset=utf-8' };

const withServiceHeaders = process.env.FLOOR_HEADERS === 'security';

const send = (response: ServerResponse, statusCode: number, body?: string) => {
  const headers = withServiceHeaders
    ? { ...SECURITY_HEADERS, 'x-request-id': randomUUID(), ...json }
    : json;
  response.writeHead(statusCode, headers).end(body);
};
const fail = (response: ServerResponse) => () => send(response, 500, '{"error":"failed"}');

createServer((request, response) => {
  const url = request.url ?? '/';
  const hello = /^\/hello\/([^/?]+)$/.exec(url)?.[1];
  if (request.method === 'GET' && url.startsWith('/status')) send(response, 200, status);
  else if (request.method === 'GET' && url.startsWith('/items'))
    io.cachedPage().then((page) => send(response, 200, page ?? '[]'), fail(response));
  else if (request.method === 'GET' && url === '/counter')
    io.counter().then((value) => send(response, 200, `{"counter":${value}}`), fail(response));
  else if (request.method === 'GET' && hello !== undefined)
    io.dateOfBirth(hello).then(
      (date) =>
        date === undefined
          ? send(response, 404, '{}')
          : send(response, 200, greetingBody(hello, date)),
      fail(response),
    );
  else if (request.method === 'PUT' && hello !== undefined) {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const { dateOfBirth } = JSON.parse(Buffer.concat(chunks).toString()) as {
        dateOfBirth: string;
      };
      io.saveDateOfBirth(hello, dateOfBirth).then(() => send(response, 204), fail(response));
    });
  } else send(response, 404, '{}');
}).listen(Number(process.env.PORT), '127.0.0.1');

// Exit cleanly when stopped, so a run under `node --cpu-prof` writes its profile.
process.once('SIGTERM', () => process.exit(0));
