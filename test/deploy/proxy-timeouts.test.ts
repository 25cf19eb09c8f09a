import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { NGINX_CONFIG } from '../helpers/nginx.js';
import { K8S_DIR, kustomize, kustomizeAvailable } from '../helpers/kustomize.js';

/*
 * Every proxy in front of the app must give up last, and close idle connections first:
 * - an idle upstream connection is closed by the proxy before the app's keep-alive ends
 *   (HTTP_KEEP_ALIVE_TIMEOUT_MS), or the proxy may send a request on a connection the app
 *   is closing, and the client gets a 502;
 * - the proxy waits for an answer longer than the app's own DATABASE_TIMEOUT_MS, so a slow
 *   query ends in the app's error, not the proxy's.
 */
const { HTTP_KEEP_ALIVE_TIMEOUT_MS: keepAliveMs, DATABASE_TIMEOUT_MS: databaseTimeoutMs } =
  loadConfig({});

/** An nginx time (`30s`, `1h`, `500ms`, a bare number of seconds), in milliseconds. */
function nginxTime(value: string): number {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(value);
  if (match === null) throw new Error(`not an nginx time: ${value}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? 's'] ?? Number.NaN;
  return Number(match[1]) * unit;
}

/** The value of the one `name …;` directive in `text`. */
function directive(text: string, name: string): string {
  const values = [...text.matchAll(new RegExp(`^\\s*${name} ([^;]+);`, 'gm'))].map((m) => m[1]);
  if (values.length !== 1) throw new Error(`expected one ${name}, found ${values.length}`);
  return values[0] ?? '';
}

describe("the proxies' timeouts against the app's", () => {
  it('compose nginx: idle upstream connections close first, answers are awaited longer', () => {
    const config = readFileSync(NGINX_CONFIG, 'utf8');
    const upstream = /\n {2}upstream shipshape \{([^}]*)\}/.exec(config)?.[1] ?? '';
    expect(nginxTime(directive(upstream, 'keepalive_timeout'))).toBeLessThan(keepAliveMs);
    // The server-wide read timeout (event streams have their own, for an open stream).
    const server = config.slice(config.indexOf('\n  server {'));
    const readTimeouts = [...server.matchAll(/^ {4}proxy_read_timeout ([^;]+);/gm)];
    expect(readTimeouts).toHaveLength(1);
    expect(nginxTime(readTimeouts[0]?.[1] ?? '')).toBeGreaterThan(databaseTimeoutMs);
  });

  it("AWS: the load balancer's idle timeout sits between the two", () => {
    // The CDK source: the synthesized value is this one (public-entrance.ts is the only
    // load balancer, and the infra tests synthesize it).
    const source = readFileSync(
      new URL('../../infra/aws/lib/constructs/public-entrance.ts', import.meta.url),
      'utf8',
    );
    const seconds = [...source.matchAll(/idleTimeout: Duration\.seconds\((\d+)\)/g)];
    expect(seconds).toHaveLength(1);
    // One timeout for both sides: how long it waits for an answer, and keeps an idle
    // connection to a task.
    const idleMs = Number(seconds[0]?.[1]) * 1000;
    expect(idleMs).toBeLessThan(keepAliveMs);
    expect(idleMs).toBeGreaterThan(databaseTimeoutMs);
  });

  describe.runIf(kustomizeAvailable).each(['staging', 'production'])('Kubernetes %s', (name) => {
    const ingresses = kustomize(join(K8S_DIR, 'overlays', name)).filter(
      ({ kind }) => kind === 'Ingress',
    );

    it("ingress-nginx: its upstream keep-alive (60 s unless the controller's ConfigMap changes it) closes first", () => {
      // https://kubernetes.github.io/ingress-nginx/user-guide/nginx-configuration/configmap/#upstream-keepalive-timeout
      // A controller setting, not an Ingress annotation: the repository leaves it alone.
      const upstreamKeepAliveMs = 60_000;
      expect(upstreamKeepAliveMs).toBeLessThan(keepAliveMs);
    });

    it('ingress-nginx: waits for an answer longer than the app waits for its database', () => {
      const main = ingresses.find(({ metadata }) => metadata.name === 'shipshape');
      const seconds =
        main?.metadata.annotations?.['nginx.ingress.kubernetes.io/proxy-read-timeout'];
      expect(Number(seconds) * 1000).toBeGreaterThan(databaseTimeoutMs);
    });
  });
});
