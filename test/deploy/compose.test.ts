import { existsSync, readFileSync } from 'node:fs';
import { BlockList, isIPv4 } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EnvSchema, loadConfig } from '../../src/config.js';

const root = new URL('../../', import.meta.url);
const composeText = readFileSync(new URL('compose.yaml', root), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; target?: string };
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test?: string[] };
  'x-no-healthcheck'?: string;
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  ports?: string[];
  volumes?: string[];
  profiles?: string[];
  read_only?: boolean;
  restart?: string;
  stop_grace_period?: string;
  user?: string;
  cap_drop?: string[];
  cap_add?: string[];
  security_opt?: string[];
  networks?: Record<string, { ipv4_address?: string } | null>;
}
const compose = parse(composeText, { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
  networks?: Record<string, { ipam?: { config?: { subnet?: string; ip_range?: string }[] } }>;
};
const services = Object.entries(compose.services);
const service = (name: string): Service => {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`compose.yaml has no ${name} service`);
  return found;
};

describe('compose.yaml', () => {
  it('runs the stack the issue asks for', () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      'alertmanager',
      'app',
      'dev',
      'grafana',
      'loki',
      'migrate',
      'nginx',
      'postgres',
      'prometheus',
      'redis',
      'tempo',
      'vector',
    ]);
    expect(service('app').deploy?.replicas).toBe(2);
    expect(service('dev').profiles).toEqual(['dev']);
  });

  it('gives every service a health check, or a reason it has none', () => {
    const dockerfileChecks = /^HEALTHCHECK .*CMD \["node", "dist\/healthcheck\.js"\]/m.test(
      readFileSync(new URL('Dockerfile', root), 'utf8').replace(/\\\n\s*/g, ''),
    );
    for (const [name, definition] of services) {
      const reason = definition['x-no-healthcheck'];
      if (reason !== undefined) {
        expect(reason.length, name).toBeGreaterThan(20);
        expect(definition.healthcheck, name).toBeUndefined();
        continue;
      }
      expect(definition.healthcheck, name).toBeDefined();
      // Without a test of its own, a service built from our Dockerfile uses the image's.
      if (definition.healthcheck?.test === undefined) {
        expect(definition.build?.context, name).toBe('.');
        expect(dockerfileChecks, 'the Dockerfile has the HEALTHCHECK').toBe(true);
      }
    }
  });

  it('starts the app after a healthy database and cache and a finished migration', () => {
    expect(service('app').depends_on).toEqual({
      migrate: { condition: 'service_completed_successfully' },
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    expect(service('migrate')).toMatchObject({
      command: ['node', 'dist/migrate.js'],
      restart: 'no',
      depends_on: { postgres: { condition: 'service_healthy' } },
    });
    // nginx resolves the replicas once: it restarts when they are recreated.
    expect(service('nginx').depends_on).toEqual({
      app: { condition: 'service_healthy', restart: true },
    });
    // The migration runs the very image the replicas run.
    expect(service('migrate').image).toBe(service('app').image);
    expect(service('migrate').build).toEqual(service('app').build);
  });

  it('keeps PostgreSQL, Redis and the observability data on named volumes', () => {
    for (const [name, path] of [
      ['postgres', '/var/lib/postgresql'],
      ['redis', '/data'],
      ['prometheus', '/prometheus'],
      ['alertmanager', '/alertmanager'],
      ['loki', '/loki'],
      ['grafana', '/var/lib/grafana'],
    ] as const) {
      const volume = service(name).volumes?.find((entry) => entry.split(':')[1] === path);
      expect(volume, name).toBeDefined();
      expect(Object.keys(compose.volumes), name).toContain(volume?.split(':')[0]);
    }
  });

  it('gives replicas time to drain before they are killed, on a read-only root', () => {
    const app = service('app');
    const { SHUTDOWN_DRAIN_MS, SHUTDOWN_TIMEOUT_MS } = loadConfig({});
    const drainAndClose = (SHUTDOWN_DRAIN_MS + SHUTDOWN_TIMEOUT_MS) / 1000;
    expect(Number.parseInt(app.stop_grace_period ?? '0', 10)).toBeGreaterThan(drainAndClose);
    expect(app.read_only).toBe(true);
    expect(service('nginx').read_only).toBe(true);
  });

  it("takes client addresses from nginx's X-Forwarded-For only: a fixed address no replica can take", () => {
    const [pool] = compose.networks?.default?.ipam?.config ?? [];
    const cidr = (value = '') => {
      const [address = '', bits = ''] = value.split('/');
      expect(isIPv4(address), value).toBe(true);
      const list = new BlockList();
      list.addSubnet(address, Number(bits));
      return list;
    };
    const subnet = cidr(pool?.subnet);
    const dynamic = cidr(pool?.ip_range);
    const nginx = service('nginx').networks?.default?.ipv4_address ?? '';
    expect(isIPv4(nginx), 'nginx has a fixed IPv4 address').toBe(true);
    expect(subnet.check(nginx), 'in the subnet').toBe(true);
    expect(dynamic.check(nginx), 'outside the range containers are given').toBe(false);
    // The range lies inside the subnet, so the addresses it hands out do too.
    const [rangeStart = ''] = (pool?.ip_range ?? '').split('/');
    expect(subnet.check(rangeStart)).toBe(true);
    // Exactly nginx: no other container's X-Forwarded-For is believed.
    expect(service('app').environment?.TRUST_PROXY).toBe(nginx);
  });

  it('drops every capability and privilege gain, adding back only what an image needs to start', () => {
    // postgres and nginx start as root, hand their directories over, then switch user.
    const allowed: Record<string, string[]> = {
      postgres: ['CHOWN', 'DAC_READ_SEARCH', 'SETGID', 'SETUID'],
      nginx: ['CHOWN', 'SETGID', 'SETUID'],
    };
    for (const [name, definition] of services) {
      expect(definition.cap_drop, name).toEqual(['ALL']);
      expect(definition.security_opt, name).toContain('no-new-privileges:true');
      for (const capability of definition.cap_add ?? [])
        expect(allowed[name] ?? [], `${name} adds ${capability}`).toContain(capability);
    }
    // Its shell command skips the image's switch from root: it runs as its own user instead.
    expect(service('redis').user).toBe('redis');
  });

  it("sends every replica's traces to Tempo's OTLP port, and Prometheus keeps exemplars", () => {
    const tempo = parse(readFileSync(new URL('deploy/compose/tempo/tempo.yaml', root), 'utf8')) as {
      distributor: { receivers: { otlp: { protocols: { http: { endpoint: string } } } } };
    };
    const port = tempo.distributor.receivers.otlp.protocols.http.endpoint.split(':').pop();
    expect(service('app').environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(`http://tempo:${port}`);
    expect(service('tempo').volumes).toContain(
      './deploy/compose/tempo/tempo.yaml:/etc/tempo/tempo.yaml:ro',
    );
    expect(service('prometheus').command).toContain('--enable-feature=exemplar-storage');
  });

  it('pins every image it pulls to a version', () => {
    for (const [name, definition] of services) {
      if (definition.build !== undefined) continue;
      expect(definition.image, name).toMatch(
        /^[\w./-]+:v?\d+\.\d+(\.\d+)?(-[\w.]+)?(@sha256:[0-9a-f]{64})?$/,
      );
    }
    expect(composeText).not.toMatch(/:latest\b/);
  });

  // A tag can be moved to other bytes; a digest cannot. Each is the multi-platform index
  // published for that tag (docker-library/repo-info for the official images, agreeing public
  // pins for the others).
  it('pins every third-party image by digest', () => {
    const thirdParty = services.filter(([, definition]) => definition.build === undefined);
    expect(thirdParty.length).toBeGreaterThanOrEqual(9);
    for (const [name, definition] of thirdParty)
      expect(definition.image, name).toMatch(/:[\w.-]+@sha256:[0-9a-f]{64}$/);
  });

  it('holds no secret: each comes from .env, which must set it', () => {
    const secretish = /PASSWORD|TOKEN|SECRET|_AUTH$/;
    for (const [name, definition] of services) {
      for (const [key, value] of Object.entries(definition.environment ?? {})) {
        if (secretish.test(key)) expect(value, `${name}.${key}`).toMatch(/^\$\{[A-Z_]+:\?[^}]+\}$/);
        // A URL's password part, if any, is interpolated too.
        if (/^\w+:\/\/[^@]*@/.test(value)) {
          expect(value, `${name}.${key}`).toMatch(/^\w+:\/\/[^:]*:\$\{[A-Z_]+:\?[^}]+\}@/);
        }
      }
    }
  });

  it('reads from .env exactly the variables of its own that .env.example lists', () => {
    // Secrets it requires (`:?`), and settings that may stay blank (`:-`, the webhook URLs).
    const read = new Set(
      [...composeText.matchAll(/\$\{([A-Z_]+):[?-]/g)].map((match) => match[1] ?? ''),
    );
    const example = readFileSync(new URL('.env.example', root), 'utf8');
    const composeOnly = example.slice(example.indexOf('# --- compose.yaml only'));
    const listed = [...composeOnly.matchAll(/^([A-Z_]+)=/gm)].map((match) => match[1]);
    const serviceKeys = Object.keys(EnvSchema.properties);
    expect([...read].filter((key) => !serviceKeys.includes(key)).sort()).toEqual(listed.sort());
  });

  it('publishes only the proxy, Grafana, Prometheus, Alertmanager and dev servers, on loopback', () => {
    const published = services.flatMap(([name, definition]) =>
      (definition.ports ?? []).map((port) => `${name} ${port}`),
    );
    expect(published.sort()).toEqual([
      'alertmanager 127.0.0.1:9093:9093',
      'dev 127.0.0.1:3000:3000',
      'dev 127.0.0.1:5173:5173',
      'grafana 127.0.0.1:3001:3000',
      'nginx 127.0.0.1:8080:8080',
      'prometheus 127.0.0.1:9090:9090',
    ]);
  });

  it('mounts config files that exist, where each program reads them', () => {
    for (const [name, definition] of services) {
      for (const volume of definition.volumes ?? []) {
        const [source = '', target = ''] = volume.split(':');
        if (!source.startsWith('./')) continue;
        expect(existsSync(new URL(source, root)), `${name}: ${source}`).toBe(true);
        if (name === 'nginx') expect(target).toBe('/etc/nginx/nginx.conf');
      }
    }
    expect(service('loki').command).toEqual(['-config.file=/etc/loki/loki.yaml']);
    expect(service('vector').command).toEqual(['--config', '/etc/vector/vector.yaml']);
    const provider = parse(
      readFileSync(
        new URL('deploy/compose/grafana/provisioning/dashboards/dashboards.yaml', root),
        'utf8',
      ),
    ) as { providers: { options: { path: string } }[] };
    expect(service('grafana').volumes).toContain(
      `./deploy/compose/grafana/dashboards:${provider.providers[0]?.options.path}:ro`,
    );
  });
});
