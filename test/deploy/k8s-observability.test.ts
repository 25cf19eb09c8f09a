import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BURN_RATE_ALERTS, OBJECTIVES, alertName } from '../../slo/objectives.js';
import { sloRuleGroups, type RuleGroup } from '../../slo/prometheus.js';
import { DASHBOARDS_DIR, dashboardFiles } from '../helpers/grafana.js';
import { validateAgainstSchema } from '../helpers/kube-schema.js';
import { K8S_DIR, kustomize, kustomizeAvailable, type KubeObject } from '../helpers/kustomize.js';
import { PROMETHEUS_DIR } from '../helpers/prometheus.js';

const environments = [
  { name: 'staging', samplerRatio: '1' },
  { name: 'production', samplerRatio: '0.05' },
];

const causes = parse(readFileSync(join(PROMETHEUS_DIR, 'alerts.yml'), 'utf8')) as {
  groups: RuleGroup[];
};
const alertsOf = (groups: RuleGroup[]) =>
  groups.flatMap((group) =>
    group.rules.flatMap((rule) =>
      'alert' in rule ? [`${rule.alert} ${rule.labels.severity ?? ''}`] : [],
    ),
  );

interface Rule extends KubeObject {
  spec: { groups: RuleGroup[] };
}
interface ConfigMap extends KubeObject {
  data: Record<string, string>;
}
interface NetworkPolicy extends KubeObject {
  spec: { egress: object[] };
}

describe.runIf(kustomizeAvailable).each(environments)('$name overlay', (environment) => {
  const objects = kustomize(join(K8S_DIR, 'overlays', environment.name));
  const namespace = `shipshape-${environment.name}`;
  const named = (kind: string, name: string): KubeObject => {
    const found = objects.filter((o) => o.kind === kind && o.metadata.name.startsWith(name));
    if (found.length !== 1) throw new Error(`expected one ${kind} ${name}, got ${found.length}`);
    return found[0] as KubeObject;
  };

  it('ships the PrometheusRule: every cause alert and every SLO burn-rate alert', () => {
    const rule = named('PrometheusRule', 'shipshape') as Rule;
    expect(rule.metadata.namespace).toBe(namespace);
    expect(() => validateAgainstSchema(rule)).not.toThrow();
    expect(rule.spec.groups).toEqual([...causes.groups, ...sloRuleGroups()]);
    const alerts = alertsOf(rule.spec.groups);
    for (const cause of alertsOf(causes.groups)) expect(alerts).toContain(cause);
    for (const objective of OBJECTIVES)
      for (const { severity } of BURN_RATE_ALERTS)
        expect(alerts).toContain(`${alertName(objective)} ${severity}`);
  });

  it("checks the PrometheusRule against the operator's schema (the check is live)", () => {
    const broken = structuredClone(named('PrometheusRule', 'shipshape') as Rule);
    const [first] = broken.spec.groups[0]?.rules ?? [];
    if (first && 'alert' in first) first.for = 'two minutes';
    expect(() => validateAgainstSchema(broken)).toThrow(/for must match pattern/);
  });

  it("ships both dashboards byte for byte, for Grafana's sidecar, without a name hash", () => {
    const dashboards = named('ConfigMap', 'shipshape-grafana-dashboards') as ConfigMap;
    expect(dashboards.metadata).toMatchObject({
      name: 'shipshape-grafana-dashboards',
      namespace,
      labels: { grafana_dashboard: '1' },
    });
    expect(dashboards.data).toEqual(
      Object.fromEntries(
        dashboardFiles().map((file) => [file, readFileSync(new URL(file, DASHBOARDS_DIR), 'utf8')]),
      ),
    );
    expect(Object.keys(dashboards.data).sort()).toEqual(['shipshape-slo.json', 'shipshape.json']);
    // `kubectl apply` (and Argo CD) keep the object in an annotation of at most 256 KiB.
    expect(JSON.stringify(dashboards).length).toBeLessThan(256 * 1024);
  });

  it('sends traces to the collector, sampled for the environment, and may reach it', () => {
    const config = (named('ConfigMap', 'shipshape-config-') as ConfigMap).data;
    expect(config).toMatchObject({
      OTEL_SERVICE_NAME: 'shipshape',
      OTEL_EXPORTER_OTLP_ENDPOINT:
        'http://opentelemetry-collector.observability.svc.cluster.local:4318',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: environment.samplerRatio,
      OTEL_RESOURCE_ATTRIBUTES: `deployment.environment.name=${environment.name}`,
    });
    // The policy lets the pods reach exactly the namespace and port of the endpoint.
    const endpoint = new URL(config.OTEL_EXPORTER_OTLP_ENDPOINT ?? '');
    const [, collectorNamespace] = endpoint.hostname.split('.');
    expect((named('NetworkPolicy', 'shipshape') as NetworkPolicy).spec.egress).toContainEqual({
      to: [
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': collectorNamespace } },
        },
      ],
      ports: [{ port: Number(endpoint.port), protocol: 'TCP' }],
    });
  });
});
