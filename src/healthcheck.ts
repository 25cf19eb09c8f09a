import { loadConfig } from './config.js';

// The container's HEALTHCHECK: asks this replica's /healthz with Node itself, so the
// runtime image needs no curl or wget. Exit 0 when alive, 1 otherwise.
const PROBE_TIMEOUT_MS = 2000;

try {
  const { HOST, PORT } = loadConfig();
  // A wildcard address is not one to connect to; the process is on this host's loopback.
  const host = HOST === '0.0.0.0' || HOST === '::' ? '127.0.0.1' : HOST;
  const url = new URL(`http://${host.includes(':') ? `[${host}]` : host}:${PORT}/healthz`);
  const response = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`${url.href} answered ${response.status}`);
} catch (error) {
  console.error(`healthcheck: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
