import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { environments, resourcesOf, synthesize } from './synthesize';

const RUNBOOKS = join(__dirname, '..', '..', '..', 'docs', 'runbooks.md');

/** GitHub's anchor of a heading: lowercase, punctuation dropped, spaces to hyphens. */
function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Each heading's anchor and the text under it up to the next heading, fenced code left out. */
function sectionsOf(markdown: string): Map<string, string> {
  const outsideCode = markdown.replace(/^```[\s\S]*?^```/gm, '');
  const headings = [...outsideCode.matchAll(/^#{1,6} +(.+?) *#* *$/gm)];
  return new Map(
    headings.map((match, index) => [
      githubAnchor(match[1] ?? ''),
      outsideCode.slice(match.index + match[0].length, headings[index + 1]?.index),
    ]),
  );
}

const { template } = synthesize();
const sections = sectionsOf(readFileSync(RUNBOOKS, 'utf8'));
const anchors = [...sections.keys()];

describe('GitHub anchors', () => {
  it('are what GitHub makes of a heading', () => {
    expect(githubAnchor('ShipshapeReadItemsAvailabilityBudgetBurn')).toBe(
      'shipshapereaditemsavailabilitybudgetburn',
    );
    expect(githubAnchor('SLO burn-rate alerts')).toBe('slo-burn-rate-alerts');
    expect(githubAnchor('`ServiceCpu`: tasks over 80%!')).toBe('servicecpu-tasks-over-80');
    expect([...sectionsOf('# A\n```\n# not a heading\n```\n### B c\ntext\n')]).toEqual([
      ['a', '\n\n'],
      ['b-c', '\ntext\n'],
    ]);
  });
});

describe.each(environments)('$name alarms that notify someone', (config) => {
  const service = template(`${config.name}-service`);
  const notifying = [
    ...resourcesOf(service, 'AWS::CloudWatch::Alarm'),
    ...resourcesOf(service, 'AWS::CloudWatch::CompositeAlarm'),
  ].filter(([, alarm]) => ((alarm.AlarmActions as unknown[] | undefined) ?? []).length > 0);

  it('include the SLO composites, the probe and the cause alarms', () => {
    const ids = notifying.map(([id]) => id).join(' ');
    for (const kind of ['Slo', 'Probe', 'Causes']) expect(ids).toContain(`Observability${kind}`);
  });

  // The rollback alarms notify no one, but link their section too: a rollback needs reading.
  const linked = [...notifying, ...resourcesOf(service, 'AWS::CloudWatch::Alarm')]
    .map(([id, alarm]) => [id, String(alarm.AlarmDescription)] as const)
    .filter(([, description], index, all) => index === all.findIndex(([, d]) => d === description))
    .filter(([id]) => notifying.some(([notifyingId]) => notifyingId === id) || /Rollback/.test(id));

  it.each(linked)('%s links a section of docs/runbooks.md', (_id, description) => {
    const link = /docs\/runbooks\.md#([\w-]+)/.exec(description);
    expect(link, description).not.toBeNull();
    expect(anchors, `no heading in docs/runbooks.md for #${link?.[1]}`).toContain(link?.[1]);
    const section = sections.get(link?.[1] ?? '') ?? '';
    for (const label of ['**What it means**', '**Confirm**', '**Mitigate**', '**Escalate**'])
      expect(section, `#${link?.[1]}: ${label}`).toContain(label);
  });
});
