/**
 * Writes every file generated from slo/objectives.ts (`npm run slo`). Each says so: a YAML
 * file on its first line, the dashboard in its description, docs/slo.md around the part
 * written here. test/slo/generated.test.ts fails
 * when one differs from what this would write.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { parse, stringify } from 'yaml';
import { withSloTables } from './docs.js';
import { sloDashboard } from './grafana.js';
import { sloRuleGroups, type RuleGroup } from './prometheus.js';
import { sloRuleTests } from './rule-tests.js';

const ROOT = new URL('../', import.meta.url);
const DASHBOARDS = 'deploy/compose/grafana/dashboards/';
const yaml = (value: unknown, source = 'slo/objectives.ts') =>
  `# Generated from ${source} by \`npm run slo\`: edit that, not this.\n` +
  stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });

/** Formatted as Prettier formats the file at `path`, so `prettier --check` agrees. */
async function formatted(path: string, content: string): Promise<string> {
  const filepath = fileURLToPath(new URL(path, ROOT));
  const options = await resolveConfig(filepath);
  return format(content, { ...options, filepath });
}

/**
 * Both dashboards for the Grafana sidecar of kube-prometheus-stack (or the Grafana chart),
 * which loads every ConfigMap labelled `grafana_dashboard: "1"`. A plain resource, not a
 * kustomize configMapGenerator: no name hash, and the copies are the compose files verbatim.
 */
const dashboardsConfigMap = (dashboards: Record<string, string>) =>
  yaml(
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'shipshape-grafana-dashboards', labels: { grafana_dashboard: '1' } },
      data: dashboards,
    },
    `slo/objectives.ts and ${DASHBOARDS}`,
  );

/** Every generated file: its path from the repository's root, and its content. */
export async function generatedFiles(): Promise<Record<string, string>> {
  const causes = parse(
    await readFile(new URL('deploy/compose/prometheus/alerts.yml', ROOT), 'utf8'),
  ) as { groups: RuleGroup[] };
  const sloDashboardPath = `${DASHBOARDS}shipshape-slo.json`;
  const dashboards = {
    'shipshape.json': await readFile(new URL(`${DASHBOARDS}shipshape.json`, ROOT), 'utf8'),
    'shipshape-slo.json': await formatted(sloDashboardPath, JSON.stringify(sloDashboard())),
  };
  const files: Record<string, string> = {
    'deploy/compose/prometheus/slo-rules.yml': yaml({ groups: sloRuleGroups() }),
    'deploy/compose/prometheus/slo-rules.test.yml': yaml(sloRuleTests('slo-rules.yml')),
    // The compose stack's rules, cause alerts and SLOs alike, for the Prometheus Operator.
    'deploy/k8s/base/prometheus-rule.yaml': yaml(
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PrometheusRule',
        metadata: { name: 'shipshape' },
        spec: { groups: [...causes.groups, ...sloRuleGroups()] },
      },
      'slo/objectives.ts and deploy/compose/prometheus/alerts.yml',
    ),
    [sloDashboardPath]: dashboards['shipshape-slo.json'],
    'deploy/k8s/base/grafana-dashboards.yaml': dashboardsConfigMap(dashboards),
    'docs/slo.md': withSloTables(await readFile(new URL('docs/slo.md', ROOT), 'utf8')),
  };
  return Object.fromEntries(
    await Promise.all(
      Object.entries(files).map(
        async ([path, content]) => [path, await formatted(path, content)] as const,
      ),
    ),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [path, content] of Object.entries(await generatedFiles())) {
    await writeFile(new URL(path, ROOT), content);
    console.log(`wrote ${path}`);
  }
}
