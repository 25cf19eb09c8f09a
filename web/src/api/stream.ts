/** Whether live updates are flowing, being (re)established, or waiting to retry. */
export type StreamStatus = 'connecting' | 'live' | 'reconnecting';

interface StreamHandlers {
  onMessage: (data: string) => void;
  onStatus: (status: StreamStatus) => void;
}

const FIRST_RETRY_MS = 1000;
const LONGEST_RETRY_MS = 15_000;

/**
 * Subscribes to one event type of a Server-Sent Events stream and keeps it open. The
 * browser retries a dropped connection by itself, but gives up for good when an answer
 * is not a stream (a 502 from a proxy, a 503 while the database starts): then a new
 * EventSource is opened after a growing delay. Returns a function that ends it all.
 */
export function subscribe(
  EventSourceImpl: typeof EventSource,
  url: string,
  event: string,
  handlers: StreamHandlers,
): () => void {
  let source: EventSource | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let delay = FIRST_RETRY_MS;

  const open = () => {
    handlers.onStatus('connecting');
    const current = new EventSourceImpl(url);
    source = current;
    current.onopen = () => {
      delay = FIRST_RETRY_MS;
      handlers.onStatus('live');
    };
    current.addEventListener(event, (message) => handlers.onMessage(message.data as string));
    current.onerror = () => {
      handlers.onStatus('reconnecting');
      if (current.readyState !== EventSourceImpl.CLOSED) return;
      retryTimer = setTimeout(open, delay);
      delay = Math.min(delay * 2, LONGEST_RETRY_MS);
    };
  };

  open();
  return () => {
    clearTimeout(retryTimer);
    source?.close();
  };
}
