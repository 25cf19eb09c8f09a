import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { headingAnchor, sections } from '../helpers/markdown.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const runbooks = sections(read('docs/runbooks.md'));

interface Rule {
  alert?: string;
  annotations?: { runbook_url?: string };
}
const alerts = ['alerts.yml', 'slo-rules.yml'].flatMap((file) =>
  (
    parse(read(`deploy/compose/prometheus/${file}`)) as { groups: { rules: Rule[] }[] }
  ).groups.flatMap((group) => group.rules.filter((rule) => rule.alert !== undefined)),
);

describe('the runbooks', () => {
  it('are linked from every Prometheus alert, by a link that resolves in the repository', () => {
    expect(alerts.length).toBeGreaterThan(0);
    for (const { alert, annotations } of alerts) {
      const [path, anchor] = (annotations?.runbook_url ?? '').split('#');
      expect(path, alert).toBe('docs/runbooks.md');
      expect(anchor, alert).toBe(headingAnchor(alert ?? ''));
      expect(runbooks.has(anchor ?? ''), `${alert}: no section #${anchor}`).toBe(true);
    }
  });

  it('say for every alert what it means, how to confirm, mitigate and escalate', () => {
    for (const { alert } of alerts) {
      const section = runbooks.get(headingAnchor(alert ?? '')) ?? '';
      for (const part of ['**What it means**', '**Confirm**', '**Mitigate**', '**Escalate**'])
        expect(section, `${alert}: ${part}`).toContain(part);
    }
  });

  it('link only to files that exist', () => {
    const text = read('docs/runbooks.md');
    for (const [, target] of text.matchAll(/\]\((?!https?:|#)([^)#]+)(#[^)]*)?\)/g))
      expect(() => read(`docs/${target ?? ''}`), target).not.toThrow();
  });
});
