/**
 * Writes every file generated from slo/objectives.ts (`npm run slo`). Each starts with a line
 * saying so; test/slo/drift.test.ts fails when one differs from what this would write.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { parse, stringify } from 'yaml';
import { sloRuleGroups, type RuleGroup } from './prometheus.js';
import { sloRuleTests } from './rule-tests.js';

const ROOT = new URL('../', import.meta.url);
const yaml = (value: unknown, source = 'slo/objectives.ts') =>
  `# Generated from ${source} by \`npm run slo\`: edit that, not this.\n` +
  stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });

/** Every generated file: its path from the repository's root, and its content. */
export async function generatedFiles(): Promise<Record<string, string>> {
  const causes = parse(
    await readFile(new URL('deploy/compose/prometheus/alerts.yml', ROOT), 'utf8'),
  ) as { groups: RuleGroup[] };
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
  };
  return Object.fromEntries(
    await Promise.all(
      Object.entries(files).map(async ([path, content]) => {
        const filepath = fileURLToPath(new URL(path, ROOT));
        const options = await resolveConfig(filepath);
        return [path, await format(content, { ...options, filepath })] as const;
      }),
    ),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [path, content] of Object.entries(await generatedFiles())) {
    await writeFile(new URL(path, ROOT), content);
    console.log(`wrote ${path}`);
  }
}
