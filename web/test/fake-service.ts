import { act, render } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { createElement, type ReactElement, type ReactNode } from 'react';
import { vi } from 'vitest';
import { createApiClient, type ApiClient } from '../src/api/client.js';
import { ApiProvider } from '../src/api/context.js';

/** One request the client sent, as the service would have seen it. */
export interface RecordedRequest {
  method: string;
  /** The URL exactly as passed to fetch: path and query string. */
  url: string;
  /** Header names in lower case, as the Fetch API normalises them. */
  headers: Record<string, string>;
  /** A JSON body parsed, any other body as its text, or undefined. */
  body: unknown;
  cache: RequestCache | undefined;
}

/** Answers one request; may return a promise to hold the answer back. */
export type Handler = (request: RecordedRequest) => Response | Promise<Response>;

/** A JSON answer with the content type the service sends. */
export function json(body: unknown, init: ResponseInit = {}): Response {
  const headers = new Headers(init.headers);
  headers.set('content-type', 'application/json; charset=utf-8');
  return new Response(JSON.stringify(body), { ...init, headers });
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  409: 'Conflict',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The service's error body `{statusCode, error, message}` with that status. */
export function serviceError(statusCode: number, message: string): Response {
  return json(
    { statusCode, error: REASONS[statusCode] ?? 'Error', message },
    { status: statusCode },
  );
}

/** A handler for a service that answers this error. */
export const failWith =
  (statusCode: number, message: string): Handler =>
  () =>
    serviceError(statusCode, message);

/** A handler that answers this JSON body with 200. */
export const answer =
  (body: unknown, init?: ResponseInit): Handler =>
  () =>
    json(body, init);

/** A handler for a network that is down: fetch rejects, as browsers do, with a TypeError. */
export const networkDown: Handler = () => Promise.reject(new TypeError('Failed to fetch'));

/**
 * A handler that holds every answer back until the test releases it, so a test can
 * order answers against each other and against stream events.
 */
export function heldAnswers() {
  const waiting: ((response: Response) => void)[] = [];
  const handler: Handler = () => new Promise<Response>((resolve) => waiting.push(resolve));
  return {
    handler,
    /** Answers the request sent n-th (from 0) to this handler. */
    release(n: number, response: Response): void {
      const resolve = waiting[n];
      if (resolve === undefined) throw new Error(`request ${String(n)} was not sent yet`);
      resolve(response);
    },
  };
}

/**
 * Lets answers already given reach the view. They travel on promise callbacks only, and
 * all of those run before a timer does, so after this nothing is still on its way.
 */
export async function settle(): Promise<void> {
  await act(() => new Promise<void>((resolve) => setTimeout(resolve, 0)));
}

/**
 * An EventSource the test drives: nothing happens until it calls open, emit or fail.
 * It is a real EventTarget, so listeners see real MessageEvents.
 */
export class FakeEventSource extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;
  readonly url: string;
  readyState: number = FakeEventSource.CONNECTING;
  onopen: ((event: Event) => unknown) | null = null;
  onerror: ((event: Event) => unknown) | null = null;
  /** Whether the code under test called close(). */
  closedByClient = false;

  constructor(url: string | URL) {
    super();
    this.url = String(url);
  }

  close(): void {
    this.closedByClient = true;
    this.readyState = FakeEventSource.CLOSED;
  }

  // Each step runs inside act, so React has applied its updates when the step returns.

  /** The service answered with a stream. */
  open(): void {
    act(() => {
      this.readyState = FakeEventSource.OPEN;
      this.onopen?.(new Event('open'));
    });
  }

  /** One `event: <type>` with this data line. */
  emit(type: string, data: string): void {
    act(() => {
      this.dispatchEvent(new MessageEvent(type, { data }));
    });
  }

  /**
   * The connection failed. `closed`: the browser gave up for good (the answer was not a
   * stream); otherwise it is retrying by itself and stays CONNECTING.
   */
  fail(closed: boolean): void {
    act(() => {
      this.readyState = closed ? FakeEventSource.CLOSED : FakeEventSource.CONNECTING;
      this.onerror?.(new Event('error'));
    });
  }
}

function bodyOf(init: RequestInit | undefined, headers: Headers): unknown {
  if (typeof init?.body !== 'string') return init?.body ?? undefined;
  return headers.get('content-type')?.includes('json') ? JSON.parse(init.body) : init.body;
}

const pathOf = (url: string) => url.split('?')[0] ?? url;

/**
 * The real API client over a fake service: `fetch` routes "METHOD /path?query" (or, when
 * no route has the query, "METHOD /path") to a handler and records every request;
 * unrouted requests get the service's own 404. EventSources are kept for the test to drive.
 */
export function createFakeService(routes: Record<string, Handler> = {}) {
  const handlers = new Map(Object.entries(routes));
  const requests: RecordedRequest[] = [];
  const streams: FakeEventSource[] = [];

  const fetch = vi.fn<typeof globalThis.fetch>(async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = init?.method ?? 'GET';
    const headers = new Headers(init?.headers);
    const request: RecordedRequest = {
      method,
      url,
      headers: Object.fromEntries(headers.entries()),
      body: bodyOf(init, headers),
      cache: init?.cache,
    };
    requests.push(request);
    const path = pathOf(url);
    const handler = handlers.get(`${method} ${url}`) ?? handlers.get(`${method} ${path}`);
    if (handler === undefined) return serviceError(404, `Route ${method} ${path} not found`);
    return handler(request);
  });

  // A class per service, so each test sees only the streams its own client opened.
  class TrackedEventSource extends FakeEventSource {
    constructor(url: string | URL) {
      super(url);
      streams.push(this);
    }
  }

  const client: ApiClient = createApiClient({
    fetch,
    // The fake has what stream.ts uses (the constants, readyState, onopen, onerror,
    // addEventListener, close), not all of EventSource's typed overloads.
    EventSource: TrackedEventSource as unknown as typeof EventSource,
  });

  return {
    client,
    fetch,
    requests,
    streams,
    /** Routes "METHOD /path" (or "METHOD /path?query") to a handler, replacing any before. */
    on(route: string, handler: Handler): void {
      handlers.set(route, handler);
    },
    /** The requests sent to "METHOD /path" (any query) or exactly "METHOD /path?query". */
    sent(route: string): RecordedRequest[] {
      return requests.filter(
        ({ method, url }) => `${method} ${url}` === route || `${method} ${pathOf(url)}` === route,
      );
    },
    /** The EventSource opened last. */
    stream(): FakeEventSource {
      const latest = streams.at(-1);
      if (latest === undefined) throw new Error('no EventSource was opened');
      return latest;
    },
  };
}

export type FakeService = ReturnType<typeof createFakeService>;

/**
 * Renders a view below an ApiProvider holding the fake service's client. `strict`: in
 * StrictMode, as main.tsx renders it, which runs every effect twice.
 */
export function renderWithApi(ui: ReactElement, service: FakeService, { strict = false } = {}) {
  const wrapper = ({ children }: { children: ReactNode }) =>
    createElement(ApiProvider, { client: service.client, children });
  return { user: userEvent.setup(), ...render(ui, { wrapper, reactStrictMode: strict }) };
}
