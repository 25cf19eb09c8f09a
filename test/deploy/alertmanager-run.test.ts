import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  alertmanagerAvailable,
  renderConfig,
  startAlertmanager,
  startWebhookServer,
  type Notification,
  type RunningAlertmanager,
} from '../helpers/alertmanager.js';
import { PROMETHEUS_DIR } from '../helpers/prometheus.js';
import { waitFor } from '../helpers/wait.js';

type Labels = Record<string, string>;
const shippedRules = ['alerts.yml', 'slo-rules.yml'].flatMap((file) =>
  (
    parse(readFileSync(join(PROMETHEUS_DIR, file), 'utf8')) as {
      groups: { rules: { alert?: string; labels?: Labels }[] }[];
    }
  ).groups.flatMap((group) => group.rules),
);
/** The labels Prometheus sends for a shipped rule, plus those its series add. */
function firing(alertname: string, severity: string, seriesLabels: Labels = {}): Labels {
  const rule = shippedRules.find((r) => r.alert === alertname && r.labels?.severity === severity);
  if (rule === undefined) throw new Error(`no ${severity} rule ${alertname} is shipped`);
  return { alertname, ...rule.labels, ...seriesLabels };
}
const replica = { job: 'shipshape', instance: '172.18.0.5:3000' };

// Posted together, as one outage might fire them.
const alerts = {
  readItemsPage: firing('ShipshapeReadItemsAvailabilityBudgetBurn', 'page'),
  readItemsTicket: firing('ShipshapeReadItemsAvailabilityBudgetBurn', 'ticket'),
  buyACameraTicket: firing('ShipshapeBuyACameraAvailabilityBudgetBurn', 'ticket'),
  serviceDown: firing('ShipshapeServiceDown', 'page'),
  replicaDown: firing('ShipshapeReplicaDown', 'ticket', replica),
  replicaNotReady: firing('ShipshapeReplicaNotReady', 'ticket', replica),
  redisFallback: firing('ShipshapeRedisFallbackActive', 'ticket', { instance: replica.instance }),
};
type Name = keyof typeof alerts;
const nameOf = (labels: Labels) =>
  (Object.keys(alerts) as Name[]).find(
    (name) =>
      JSON.stringify(Object.entries(alerts[name]).sort()) ===
      JSON.stringify(Object.entries(labels).sort()),
  );

/** Who got what: each notification as its receiver, status and the alerts' names, sorted. */
const summary = (notifications: Notification[]) =>
  notifications
    .map(({ receiver, status, alerts: sent }) => ({
      receiver,
      status,
      alerts: sent.map((alert) => nameOf(alert.labels)),
    }))
    .sort((a, b) => String(a.alerts).localeCompare(String(b.alerts)));

interface ApiAlert {
  labels: Labels;
  fingerprint: string;
  status: { state: string; inhibitedBy: string[]; silencedBy: string[] };
}

describe.runIf(alertmanagerAvailable)('Alertmanager 0.25 running the shipped config', () => {
  let webhooks: Awaited<ReturnType<typeof startWebhookServer>> | undefined;
  let alertmanager: RunningAlertmanager | undefined;
  let postedAt = 0;
  const received = (path: string) => webhooks?.received(path) ?? [];

  beforeAll(async () => {
    webhooks = await startWebhookServer();
    const rendered = renderConfig({
      ALERT_PAGE_WEBHOOK_URL: webhooks.url('/page'),
      ALERT_TICKET_WEBHOOK_URL: webhooks.url('/ticket'),
    });
    expect(rendered.status).toBe(0);
    alertmanager = await startAlertmanager(rendered.config);
    postedAt = Date.now();
    const response = await fetch(`${alertmanager.baseUrl}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(Object.values(alerts).map((labels) => ({ labels }))),
    });
    expect(response.status).toBe(200);
  });

  afterAll(async () => {
    await alertmanager?.stop();
    await webhooks?.close();
  });

  it('inhibits the ticket of a paging SLO and the replicas of a service down, nothing else', async () => {
    /** Each alert's state, and the alerts that inhibit it, by the names above. */
    const states = async (): Promise<Record<string, { state: string; inhibitedBy: string[] }>> => {
      const response = await fetch(`${alertmanager?.baseUrl ?? ''}/api/v2/alerts`);
      const list = (await response.json()) as ApiAlert[];
      const name = (labels: Labels) => nameOf(labels) ?? JSON.stringify(labels);
      const byFingerprint = new Map(list.map((alert) => [alert.fingerprint, name(alert.labels)]));
      return Object.fromEntries(
        list.map(({ labels, status }) => [
          name(labels),
          {
            state: status.state,
            inhibitedBy: status.inhibitedBy.map((id) => byFingerprint.get(id) ?? id),
          },
        ]),
      );
    };
    // The inhibitor takes in new alerts on its own goroutine: a moment, never forever.
    await waitFor(
      'the inhibitions',
      async () => Object.values(await states()).filter((s) => s.state === 'suppressed').length >= 3,
      5_000,
    );
    const active = { state: 'active', inhibitedBy: [] };
    expect(await states()).toEqual({
      readItemsPage: active,
      readItemsTicket: { state: 'suppressed', inhibitedBy: ['readItemsPage'] },
      buyACameraTicket: active,
      serviceDown: active,
      replicaDown: { state: 'suppressed', inhibitedBy: ['serviceDown'] },
      replicaNotReady: { state: 'suppressed', inhibitedBy: ['serviceDown'] },
      redisFallback: active,
    });
  });

  it('pages within seconds, one notification per alert, before any ticket goes out', async () => {
    await waitFor('two pages', async () => received('/page').length >= 2, 20_000);
    expect(received('/ticket')).toEqual([]);
    expect(summary(received('/page'))).toEqual([
      { receiver: 'page', status: 'firing', alerts: ['readItemsPage'] },
      { receiver: 'page', status: 'firing', alerts: ['serviceDown'] },
    ]);
    for (const page of received('/page')) expect(page.at - postedAt).toBeLessThan(20_000);
  });

  it('opens tickets only for what no page covers', { timeout: 60_000 }, async () => {
    await waitFor('two tickets', async () => received('/ticket').length >= 2, 45_000);
    // The inhibited tickets' groups started as early: had they gone out, they would be here.
    await sleep(2_000);
    expect(summary(received('/ticket'))).toEqual([
      { receiver: 'ticket', status: 'firing', alerts: ['buyACameraTicket'] },
      { receiver: 'ticket', status: 'firing', alerts: ['redisFallback'] },
    ]);
    expect(received('/page')).toHaveLength(2);
    expect(alertmanager?.output()).not.toMatch(/level=(error|warn)/);
  });
});
