/** Whether a reply's payload is a stream (an event stream), which Fastify pipes as it goes. */
export const isStream = (payload: unknown): boolean =>
  typeof (payload as { pipe?: unknown } | null)?.pipe === 'function';
