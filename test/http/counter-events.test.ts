import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { backends, startApp, testConfig, useApp } from '../helpers/app.js';
import { openStream, WAIT_MS, type CounterStream } from '../helpers/sse.js';

const STOCK = 50;

describe.each(backends)('GET /counter/events on $name', (backend) => {
  const ctx = useApp(backend, { COUNTER_INITIAL_STOCK: String(STOCK) });
  let url: string;
  const open: CounterStream[] = [];

  const subscribe = async (headers?: Record<string, string>, at = url) => {
    const stream = await openStream(at, headers);
    open.push(stream);
    return stream;
  };
  const decrement = () => ctx.app.inject({ method: 'POST', url: '/decrement' });

  beforeAll(async () => {
    await ctx.app.listen({ host: '127.0.0.1', port: 0 });
    const address = ctx.app.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening on TCP');
    url = `http://127.0.0.1:${address.port}/counter/events`;
  });

  // Streams end before the ctx.app closes (after-hooks run in reverse order).
  afterAll(async () => {
    await Promise.all(open.map((stream) => stream.close()));
  });

  beforeEach(async () => {
    await Promise.all(open.splice(0).map((stream) => stream.close()));
  });

  it('answers 200 with event-stream headers and the request id', async () => {
    const stream = await subscribe({ 'x-request-id': 'sse-test-0001' });
    const { headers, status } = stream.response;
    expect({
      status,
      contentType: headers.get('content-type'),
      cacheControl: headers.get('cache-control'),
      buffering: headers.get('x-accel-buffering'),
      requestId: headers.get('x-request-id'),
    }).toEqual({
      status: 200,
      contentType: expect.stringMatching(/^text\/event-stream/) as string,
      cacheControl: expect.stringContaining('no-cache') as string,
      buffering: 'no',
      requestId: 'sse-test-0001',
    });
    expect(await stream.waitFor(STOCK)).toBe(0);
  });

  it('answers HEAD with the stream headers at once, not an open stream', async () => {
    const res = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(WAIT_MS) });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  });

  it('generates a request id when the client sends none', async () => {
    const stream = await subscribe();
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('x-request-id')).toMatch(/^[\w.:-]{1,128}$/);
  });

  it('sends the current value first', async () => {
    expect((await decrement()).statusCode).toBe(200);
    expect((await decrement()).statusCode).toBe(200);
    const stream = await subscribe();
    await stream.waitFor(STOCK - 2);
    expect(stream.values[0]).toBe(STOCK - 2);
  });

  it('delivers the new value after a sale', async () => {
    const stream = await subscribe();
    await stream.waitFor(STOCK);
    const res = await decrement();
    expect({ status: res.statusCode, body: res.json<unknown>() }).toEqual({
      status: 200,
      body: { counter: STOCK - 1 },
    });
    await stream.waitFor(STOCK - 1, 1);
  });

  it('delivers the stock after a reset', async () => {
    const stream = await subscribe();
    await stream.waitFor(STOCK);
    await decrement();
    // Change notifications arrive in commit order: a later STOCK can only come from the reset.
    const sold = await stream.waitFor(STOCK - 1, 1);
    const res = await ctx.app.inject({ method: 'PUT', url: '/reset' });
    expect({ status: res.statusCode, body: res.json<unknown>() }).toEqual({
      status: 200,
      body: { counter: STOCK },
    });
    await stream.waitFor(STOCK, sold + 1);
  });

  it('counts a stream once it opens, and how long each change took to reach it', async () => {
    const metric = async (pattern: RegExp) =>
      Number(pattern.exec((await ctx.app.inject({ method: 'GET', url: '/metrics' })).body)?.[1]);
    const opened =
      /^http_requests_total\{method="GET",route="\/counter\/events",status_code="200"\} (\d+)$/m;
    const delivered = /^counter_event_delay_seconds_count (\d+)$/m;
    const [openedBefore, deliveredBefore] = [await metric(opened), await metric(delivered)];
    const { counter } = (await ctx.app.inject({ method: 'GET', url: '/counter' })).json<{
      counter: number;
    }>();
    const stream = await subscribe();
    await stream.waitFor(counter);
    // Open for minutes, an event stream is a request the SLIs count at its start.
    expect((await metric(opened)) - (Number.isNaN(openedBefore) ? 0 : openedBefore)).toBe(1);
    await decrement();
    await stream.waitFor(counter - 1, 1);
    await expect
      .poll(() => metric(delivered), { timeout: WAIT_MS })
      .toBeGreaterThan(deliveredBefore);
  });

  it('delivers a sale to every subscriber', async () => {
    const [first, second] = await Promise.all([subscribe(), subscribe()]);
    await Promise.all([first.waitFor(STOCK), second.waitFor(STOCK)]);
    await decrement();
    await decrement();
    await Promise.all([first.waitFor(STOCK - 2, 1), second.waitFor(STOCK - 2, 1)]);
    for (const stream of [first, second]) {
      const sales = stream.values.filter((value) => value < STOCK);
      expect(sales).toEqual([STOCK - 1, STOCK - 2]);
    }
  });

  it('app.close() completes while a stream is open, ending the stream', async () => {
    // An ctx.app of its own (a second replica on the same database), so closing it ends nothing else.
    const replica = await startApp(
      testConfig({ ...ctx.env, COUNTER_INITIAL_STOCK: String(STOCK) }),
    );
    let closing: Promise<undefined> | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      await replica.listen({ host: '127.0.0.1', port: 0 });
      const address = replica.server.address();
      if (address === null || typeof address === 'string') throw new Error('not listening');
      const stream = await subscribe({}, `http://127.0.0.1:${address.port}/counter/events`);
      await stream.waitFor(STOCK);
      closing = replica.close();
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          reject(new Error('app.close() did not complete while a stream was open'));
        }, WAIT_MS);
      });
      await Promise.race([closing, timeout]);
      await stream.ended();
    } finally {
      clearTimeout(timer);
      if (closing === undefined) await replica.close();
    }
  });
});
