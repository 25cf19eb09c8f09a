import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  ALERTMANAGER_DIR,
  alertmanagerAvailable,
  amtool,
  renderConfig,
  writeConfig,
} from '../helpers/alertmanager.js';
import { PROMETHEUS_DIR } from '../helpers/prometheus.js';

interface Route {
  receiver: string;
  matchers?: string[];
  group_by?: string[];
  group_wait: string;
  group_interval: string;
  repeat_interval: string;
  routes?: Route[];
}
interface InhibitRule {
  source_matchers: string[];
  target_matchers: string[];
  equal: string[];
}
interface Receiver {
  name: string;
  webhook_configs?: { url: string; send_resolved: boolean }[];
}
interface AlertmanagerConfig {
  route: Route;
  inhibit_rules: InhibitRule[];
  receivers: Receiver[];
}

const committed = readFileSync(join(ALERTMANAGER_DIR, 'alertmanager.yml'), 'utf8');
const config = parse(committed) as AlertmanagerConfig;
// A URL with what YAML or sed could trip on: a quote, an ampersand, a slash, a percent.
const PAGE_URL = "https://pager.example.com/hook?token=a'b&x=%2F";
const TICKET_URL = 'https://tickets.example.com/alertmanager';
const withUrls = renderConfig({
  ALERT_PAGE_WEBHOOK_URL: PAGE_URL,
  ALERT_TICKET_WEBHOOK_URL: TICKET_URL,
});
const withoutUrls = renderConfig({});

/** Go durations as the config writes them (`10s`, `5m`, `24h`), in seconds. */
const seconds = (duration: string) => {
  const match = /^(\d+)([smh])$/.exec(duration);
  if (match === null) throw new Error(`not a simple duration: ${duration}`);
  return Number(match[1]) * { s: 1, m: 60, h: 3600 }[match[2] as 's' | 'm' | 'h'];
};
const childRoute = (receiver: string) => {
  const found = config.route.routes?.find((route) => route.receiver === receiver);
  if (found === undefined) throw new Error(`no ${receiver} route`);
  return found;
};

describe('render-config.sh, as the container runs it at start', () => {
  it('without webhook URLs, keeps both receivers null and says so, one line each', () => {
    expect(withoutUrls.status).toBe(0);
    expect(withoutUrls.config).toBe(committed);
    expect(config.receivers).toEqual([{ name: 'page' }, { name: 'ticket' }]);
    expect(withoutUrls.log).toEqual([
      'alertmanager: ALERT_PAGE_WEBHOOK_URL is not set: receiver "page" is a null receiver; its alerts show at http://localhost:9093 and reach nobody',
      'alertmanager: ALERT_TICKET_WEBHOOK_URL is not set: receiver "ticket" is a null receiver; its alerts show at http://localhost:9093 and reach nobody',
    ]);
  });

  it('with webhook URLs, gives each receiver its own, exactly, and never logs a URL', () => {
    expect(withUrls.status).toBe(0);
    const rendered = parse(withUrls.config) as AlertmanagerConfig;
    expect(rendered.receivers).toEqual([
      { name: 'page', webhook_configs: [{ url: PAGE_URL, send_resolved: true }] },
      { name: 'ticket', webhook_configs: [{ url: TICKET_URL, send_resolved: true }] },
    ]);
    // Everything but the receivers is the committed file.
    expect({ ...rendered, receivers: [] }).toEqual({ ...config, receivers: [] });
    expect(withUrls.log).toEqual([
      'alertmanager: receiver "page" posts to the webhook in ALERT_PAGE_WEBHOOK_URL',
      'alertmanager: receiver "ticket" posts to the webhook in ALERT_TICKET_WEBHOOK_URL',
    ]);
  });

  it('with one URL, leaves only the other receiver null', () => {
    const { status, config: text, log } = renderConfig({ ALERT_TICKET_WEBHOOK_URL: TICKET_URL });
    expect(status).toBe(0);
    expect((parse(text) as AlertmanagerConfig).receivers.map((r) => r.webhook_configs)).toEqual([
      undefined,
      [{ url: TICKET_URL, send_resolved: true }],
    ]);
    expect(log.map((line) => line.includes('null receiver'))).toEqual([true, false]);
  });
});

describe('the routing tree', () => {
  it('sends severity page to the page receiver and ticket to the ticket one, by matchers', () => {
    expect(config.route.receiver).toBe('ticket');
    expect(config.route.routes?.map(({ matchers, receiver }) => ({ matchers, receiver }))).toEqual([
      { matchers: ['severity="page"'], receiver: 'page' },
      { matchers: ['severity="ticket"'], receiver: 'ticket' },
    ]);
    expect(config.route.group_by).toEqual(['alertname', 'slo', 'namespace']);
  });

  it('sends a page within seconds, and holds a ticket long enough for its page to arrive', () => {
    const page = childRoute('page');
    const ticket = childRoute('ticket');
    const { global } = parse(readFileSync(join(PROMETHEUS_DIR, 'prometheus.yml'), 'utf8')) as {
      global: { evaluation_interval: string };
    };
    expect(seconds(page.group_wait)).toBeLessThanOrEqual(10);
    // A page and its ticket can start one rule evaluation apart.
    expect(seconds(ticket.group_wait)).toBeGreaterThanOrEqual(
      seconds(page.group_wait) + seconds(global.evaluation_interval),
    );
    expect(seconds(page.repeat_interval)).toBeLessThanOrEqual(4 * 3600);
    expect(seconds(ticket.repeat_interval)).toBeGreaterThanOrEqual(24 * 3600);
  });

  it('lets a page silence only the tickets of its own alert, and a service down its replicas', () => {
    expect(config.inhibit_rules).toEqual([
      {
        source_matchers: ['severity="page"'],
        target_matchers: ['severity="ticket"'],
        equal: ['alertname', 'slo', 'namespace'],
      },
      {
        source_matchers: ['alertname="ShipshapeServiceDown"'],
        target_matchers: ['alertname=~"ShipshapeReplicaDown|ShipshapeReplicaNotReady"'],
        equal: ['namespace'],
      },
    ]);
  });
});

describe.runIf(alertmanagerAvailable)('amtool (Alertmanager 0.25)', () => {
  let files: ReturnType<typeof writeConfig>[] = [];
  beforeAll(() => {
    files = [withoutUrls, withUrls].map((rendered) => writeConfig(rendered.config));
  });
  afterAll(() => {
    for (const file of files) file.remove();
  });

  it('accepts the config the container renders, with and without webhook URLs', () => {
    for (const { file } of files) {
      expect(amtool(['check-config', file])).toEqual({
        status: 0,
        output: expect.stringMatching(/SUCCESS[\s\S]*2 inhibit rules\n - 2 receivers/) as string,
      });
    }
  });

  /** The receivers `labels` are routed to, one per line, as amtool prints them. */
  const routeOf = (labels: string[]) =>
    amtool(['config', 'routes', 'test', `--config.file=${files[1]?.file ?? ''}`, ...labels]);

  it('routes a page to the page receiver, a ticket to the ticket one, and the rest to tickets', () => {
    const page = ['alertname=ShipshapeReadItemsAvailabilityBudgetBurn', 'severity=page'];
    expect(routeOf([...page, 'slo=read-items-availability'])).toMatchObject({
      status: 0,
      output: expect.stringMatching(/^page$/m) as string,
    });
    expect(routeOf(['alertname=ShipshapeReplicaDown', 'severity=ticket'])).toMatchObject({
      status: 0,
      output: expect.stringMatching(/^ticket$/m) as string,
    });
    // No severity at all: the root's receiver.
    expect(routeOf(['alertname=SomethingNew'])).toMatchObject({
      status: 0,
      output: expect.stringMatching(/^ticket$/m) as string,
    });
    expect(routeOf(['--verify.receivers=page', 'severity=ticket']).status).toBe(1);
  });

  it('routes every shipped alert to the receiver named by its severity', () => {
    const rules = ['alerts.yml', 'slo-rules.yml'].flatMap((file) =>
      (
        parse(readFileSync(join(PROMETHEUS_DIR, file), 'utf8')) as {
          groups: { rules: { alert?: string; labels?: Record<string, string> }[] }[];
        }
      ).groups.flatMap((group) => group.rules.filter((rule) => rule.alert !== undefined)),
    );
    expect(rules.length).toBeGreaterThan(5);
    for (const rule of rules) {
      const labels = Object.entries({ alertname: rule.alert, ...rule.labels });
      const severity = rule.labels?.severity ?? '';
      expect(['page', 'ticket'], rule.alert).toContain(severity);
      const args = [`--verify.receivers=${severity}`, ...labels.map(([k, v]) => `${k}=${v}`)];
      expect(routeOf(args).status, `${rule.alert} ${severity}`).toBe(0);
    }
  });
});
