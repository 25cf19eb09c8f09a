import { isIP } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { K8S_DIR, kustomize, kustomizeAvailable, type KubeObject } from '../helpers/kustomize.js';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access,
   @typescript-eslint/no-unsafe-assignment --
   rendered YAML has no static type; each assertion checks the shape it reads, and the
   schema test (k8s-render.test.ts) checks the whole object. */
type Any = any;

const ANNOTATION = 'nginx.ingress.kubernetes.io/';
const settingsOf = (objects: KubeObject[]) =>
  (
    objects.find(
      ({ kind, metadata }) => kind === 'ConfigMap' && metadata.name.startsWith('shipshape-config-'),
    ) as Any
  ).data as Record<string, string>;
/** The app's defaults, which the edge limits are set against. */
const app = loadConfig({});

describe.runIf(kustomizeAvailable).each(['staging', 'production'])(
  '%s overlay at the edge',
  (name) => {
    const objects = kustomize(join(K8S_DIR, 'overlays', name));
    const ingress = (ingressName: string): Any => {
      const found = objects.filter(
        ({ kind, metadata }) => kind === 'Ingress' && metadata.name === ingressName,
      );
      if (found.length !== 1) throw new Error(`expected one Ingress ${ingressName}`);
      return found[0];
    };
    /** An Ingress's ingress-nginx annotation, as the number it must be. */
    const setting = (ingressName: string, key: string) =>
      Number(ingress(ingressName).metadata.annotations?.[`${ANNOTATION}${key}`]);

    it('believes X-Forwarded-For only from a list of CIDRs, never from any client', () => {
      const trusted = settingsOf(objects).TRUST_PROXY ?? '';
      const entries = trusted.split(',').map((entry) => entry.trim());
      expect(entries.length).toBeGreaterThan(0);
      for (const entry of entries) {
        const [address = '', bits = ''] = entry.split('/');
        expect(isIP(address), entry).not.toBe(0);
        expect(bits, `${entry} is a CIDR`).toMatch(/^\d{1,3}$/);
      }
      expect(trusted).not.toMatch(/^(true|\d+)$/);
    });

    it("limits each client's requests at the ingress, a little above the app's own limit", () => {
      const appPerSecond = app.RATE_LIMIT_MAX / (app.RATE_LIMIT_WINDOW_MS / 1000);
      for (const name of ['shipshape', 'shipshape-events']) {
        const rps = setting(name, 'limit-rps');
        expect(rps, name).toBeGreaterThan(appPerSecond);
        expect(rps, name).toBeLessThanOrEqual(3 * appPerSecond);
        expect(setting(name, 'limit-burst-multiplier'), name).toBeGreaterThanOrEqual(1);
        expect(setting(name, 'limit-connections'), name).toBeGreaterThan(0);
      }
    });

    it('serves event streams on an Ingress of their own, capped per client as the app caps them', () => {
      const events = ingress('shipshape-events');
      const main = ingress('shipshape');
      expect(events.spec.ingressClassName).toBe(main.spec.ingressClassName);
      expect(events.spec.rules).toEqual([
        {
          host: main.spec.rules[0].host,
          http: {
            paths: [
              {
                path: '/counter/events',
                pathType: 'Exact',
                backend: { service: { name: 'shipshape', port: { name: 'http' } } },
              },
            ],
          },
        },
      ]);
      expect(setting('shipshape-events', 'limit-connections')).toBe(app.EVENT_STREAMS_PER_CLIENT);
      // The stream cap is for streams: ordinary requests may have more in flight.
      expect(setting('shipshape', 'limit-connections')).toBeGreaterThan(
        setting('shipshape-events', 'limit-connections'),
      );
      // An open stream is not an idle one: the app sends a heartbeat every 15 s.
      expect(setting('shipshape-events', 'proxy-read-timeout')).toBeGreaterThan(15);
    });
  },
);

describe.runIf(kustomizeAvailable)('the base', () => {
  it("leaves TRUST_PROXY to the overlays: a cluster's pod network is its own", () => {
    expect(settingsOf(kustomize(join(K8S_DIR, 'base')))).not.toHaveProperty('TRUST_PROXY');
  });
});
