import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

interface Service {
  image?: string;
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  read_only?: boolean;
  tmpfs?: string[];
  healthcheck?: { test?: string[] };
  restart?: string;
  depends_on?: Record<string, { condition: string }>;
}
const compose = parse(read('compose.yaml'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const alertmanager = compose.services.alertmanager ?? {};
const WEBHOOK_VARIABLES = ['ALERT_PAGE_WEBHOOK_URL', 'ALERT_TICKET_WEBHOOK_URL'];

describe('the alertmanager service in compose.yaml', () => {
  it('runs a pinned Alertmanager release, on loopback only, restarted like the others', () => {
    expect(alertmanager.image).toMatch(/^prom\/alertmanager:v0\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
    expect(alertmanager.ports).toEqual(['127.0.0.1:9093:9093']);
    expect(alertmanager.restart).toBe(compose.services.prometheus?.restart);
    expect(alertmanager.healthcheck?.test).toEqual([
      'CMD',
      'wget',
      '-q',
      '-O',
      '/dev/null',
      'http://127.0.0.1:9093/-/ready',
    ]);
  });

  it('passes both webhook URLs from .env, blank when unset, and .env.example lists them', () => {
    expect(alertmanager.environment).toEqual(
      Object.fromEntries(WEBHOOK_VARIABLES.map((name) => [name, `\${${name}:-}`])),
    );
    const example = read('.env.example');
    const composeOnly = example.slice(example.indexOf('# --- compose.yaml only'));
    for (const name of WEBHOOK_VARIABLES)
      expect(composeOnly).toMatch(new RegExp(`^${name}=$`, 'm'));
  });

  it('renders the mounted config to a tmpfs, then runs Alertmanager on it, alone', () => {
    expect(alertmanager.volumes).toEqual([
      './deploy/compose/alertmanager:/etc/alertmanager:ro',
      'alertmanager-data:/alertmanager',
    ]);
    expect(Object.keys(compose.volumes)).toContain('alertmanager-data');
    expect(alertmanager.read_only).toBe(true);
    expect(alertmanager.tmpfs).toEqual(['/tmp']);
    const [shell, flag, script, name] = alertmanager.entrypoint ?? [];
    expect([shell, flag, name]).toEqual(['/bin/sh', '-c', 'alertmanager']);
    // Rendered first; only a config that rendered is run, as PID 1 with compose's command.
    expect(script).toBe(
      '/bin/sh /etc/alertmanager/render-config.sh /etc/alertmanager/alertmanager.yml' +
        ' > /tmp/alertmanager.yml && exec /bin/alertmanager "$$@"',
    );
    expect(alertmanager.command).toEqual([
      '--config.file=/tmp/alertmanager.yml',
      '--storage.path=/alertmanager',
      '--cluster.listen-address=',
      '--web.external-url=http://localhost:9093',
    ]);
  });

  it('starts before Prometheus, which does not wait for it to be healthy', () => {
    expect(compose.services.prometheus?.depends_on).toEqual({
      alertmanager: { condition: 'service_started' },
    });
  });
});

describe('prometheus.yml', () => {
  it("sends alerts to compose's alertmanager service, on its port", () => {
    const config = parse(read('deploy/compose/prometheus/prometheus.yml')) as {
      alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    };
    expect(config.alerting.alertmanagers).toEqual([
      { static_configs: [{ targets: ['alertmanager:9093'] }] },
    ]);
  });
});
