import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxAvailable, startNginx, type RunningNginx } from '../helpers/nginx.js';
import { freePort } from '../helpers/ports.js';

const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe.runIf(nginxAvailable)('nginx and W3C trace context', () => {
  // What reached the replica: an upstream that answers with the headers it was sent.
  const received: IncomingHttpHeaders[] = [];
  const upstream = createServer((request, response) => {
    received.push(request.headers);
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  let proxy: RunningNginx;

  beforeAll(async () => {
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    proxy = await startNginx(await freePort(), [(upstream.address() as AddressInfo).port]);
  });
  afterAll(async () => {
    await proxy.stop();
    await new Promise((resolve) => upstream.close(resolve));
  });

  it("passes the caller's traceparent and tracestate on, and logs the traceparent", async () => {
    const from = proxy.accessLog().length;
    const response = await fetch(`${proxy.baseUrl}/items`, {
      headers: { traceparent: TRACEPARENT, tracestate: 'vendor=opaque' },
    });
    expect(response.status).toBe(200);
    expect(received.at(-1)).toMatchObject({
      traceparent: TRACEPARENT,
      tracestate: 'vendor=opaque',
    });
    const [line] = await proxy.logLinesAfter(from, 1);
    expect(line).toMatchObject({ path: '/items', traceparent: TRACEPARENT });
  });

  it('adds none of its own when the caller sent none', async () => {
    const from = proxy.accessLog().length;
    expect((await fetch(`${proxy.baseUrl}/items`)).status).toBe(200);
    expect(received.at(-1)).not.toHaveProperty('traceparent');
    const [line] = await proxy.logLinesAfter(from, 1);
    expect(line).toMatchObject({ traceparent: '' });
  });
});
