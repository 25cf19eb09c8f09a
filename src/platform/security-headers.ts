import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

/**
 * The security headers of every response, worked out once from helmet's policy (helmet's
 * own middleware would work them out again for each request). The security plugin's hook
 * sets them, and so do the paths that answer before any hook runs (a malformed URL, a
 * request that never finished arriving), so no response goes without.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = headersOf(
  helmet({
    // Everything from this origin only; the docs UI loosens this on its own routes.
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        // Material UI (Emotion) writes its styles into <style> elements at run time.
        styleSrc: ["'self'", "'unsafe-inline'"],
        // The service cannot tell whether it is reached over TLS (a local stack, a LAN
        // address); upgrading the page's requests there would leave it blank. HSTS does
        // the upgrading wherever HTTPS is in front.
        upgradeInsecureRequests: null,
      },
    },
  }),
);

/** The headers a helmet middleware sets, read by running it once against a recorder. */
function headersOf(middleware: ReturnType<typeof helmet>): Record<string, string> {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: unknown) => headers.set(name.toLowerCase(), String(value)),
    removeHeader: (name: string) => headers.delete(name.toLowerCase()),
  };
  // The policy is the same for every request: nothing in it reads the request.
  const noRequest = undefined as unknown as IncomingMessage;
  middleware(noRequest, recorder as unknown as ServerResponse, () => undefined);
  return Object.fromEntries(headers);
}
