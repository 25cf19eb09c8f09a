import { describe, expect, it } from 'vitest';
import {
  BURN_RATE_ALERTS,
  MINIMUM_BAD_EVENTS,
  OBJECTIVES,
  alertName,
  errorBudget,
  windowSeconds,
} from '../../../slo/objectives';
import { runbookUrl } from '../../../slo/prometheus';
import { isRequestObjective, sliMetricNames, sliPatterns } from '../lib/slo-log-patterns';
import { environments, resourcesOf, synthesize } from './synthesize';

interface MetricQuery {
  Id: string;
  Expression?: string;
  MetricStat?: { Metric: { MetricName: string; Namespace: string }; Period: number; Stat: string };
}
interface Alarm {
  AlarmDescription: string;
  Threshold: number;
  ComparisonOperator: string;
  EvaluationPeriods: number;
  DatapointsToAlarm: number;
  TreatMissingData: string;
  EvaluationWindow?: unknown;
  Metrics?: MetricQuery[];
  MetricName?: string;
  Namespace?: string;
  Statistic?: string;
  Period?: number;
  AlarmActions?: unknown[];
}
interface Composite {
  AlarmName: string;
  AlarmDescription: string;
  AlarmRule: { 'Fn::Join': [string, (string | { 'Fn::GetAtt': [string, string] })[]] };
  AlarmActions: unknown[];
  OKActions: unknown[];
}

const { template } = synthesize();
const requestObjectives = OBJECTIVES.filter(isRequestObjective);

describe.each(environments)('$name SLO alarms', (config) => {
  const service = template(`${config.name}-service`);
  const namespace = `shipshape/${config.name}/slo`;
  const alarms = new Map(
    resourcesOf(service, 'AWS::CloudWatch::Alarm') as [string, unknown][],
  ) as Map<string, Alarm>;
  const composites = resourcesOf(service, 'AWS::CloudWatch::CompositeAlarm').map(
    ([id, composite]) => ({ id, ...(composite as unknown as Composite) }),
  );
  const topic = (name: string) =>
    resourcesOf(service, 'AWS::SNS::Topic').find(([id]) => id.includes(`Topics${name}`))?.[0];
  /** The alarms a composite's rule names, in order, and the text around them. */
  const ruleOf = (composite: Composite) => {
    const parts = composite.AlarmRule['Fn::Join'][1];
    const names = parts.flatMap((part) =>
      typeof part === 'string' ? [] : [part['Fn::GetAtt'][0]],
    );
    const text = parts.map((part) => (typeof part === 'string' ? part : 'X')).join('');
    return { names, text };
  };

  it('counts the events and bad events of each objective from the request log lines', () => {
    const filters = resourcesOf(service, 'AWS::Logs::MetricFilter').map(([, filter]) => filter);
    expect(filters).toHaveLength(2 * requestObjectives.length);
    const [[appLogs] = ['']] = resourcesOf(service, 'AWS::Logs::LogGroup').filter(([id]) =>
      /^AppTaskLogs/.test(id),
    );
    for (const objective of requestObjectives) {
      const patterns = sliPatterns(objective);
      const names = sliMetricNames(objective);
      for (const kind of ['events', 'bad'] as const)
        expect(filters).toContainEqual({
          LogGroupName: { Ref: appLogs },
          FilterPattern: patterns[kind].logPatternString,
          MetricTransformations: [
            {
              MetricNamespace: namespace,
              MetricName: names[kind],
              MetricValue: '1',
              DefaultValue: 0,
              Unit: 'Count',
            },
          ],
        });
    }
  });

  it('has no alarm for the event-delay objective, which has no data on AWS', () => {
    const skipped = OBJECTIVES.filter((objective) => !isRequestObjective(objective));
    expect(skipped.length).toBeGreaterThan(0);
    for (const objective of skipped)
      expect(JSON.stringify(service.toJSON())).not.toContain(objective.name);
  });

  it('has one composite per objective and burn-rate alert, named and described after it', () => {
    expect(composites).toHaveLength(requestObjectives.length * BURN_RATE_ALERTS.length);
    for (const objective of requestObjectives)
      for (const alert of BURN_RATE_ALERTS) {
        const name = `shipshape-${config.name}-service-${objective.name}-${alert.severity}-${alert.longWindow}`;
        const composite = composites.find(({ AlarmName }) => AlarmName === name);
        expect(composite, name).toBeDefined();
        expect(composite?.AlarmDescription).toContain(`SLO ${objective.name} `);
        expect(composite?.AlarmDescription).toContain(
          `${alert.burnRate}x over ${alert.longWindow} and ${alert.shortWindow}`,
        );
        // The section the Prometheus alert of the same objective links to.
        expect(composite?.AlarmDescription).toContain(
          `Runbook: ${runbookUrl(alertName(objective))}`,
        );
        expect(runbookUrl(alertName(objective))).toMatch(
          /^docs\/runbooks\.md#shipshape[a-z]+budgetburn$/,
        );
      }
  });

  it('pages through the page topic and opens tickets through the ticket topic', () => {
    for (const composite of composites) {
      const severity = /-(page|ticket)-[^-]+$/.exec(composite.AlarmName)?.[1];
      const expected = [{ Ref: topic(severity === 'page' ? 'Page' : 'Ticket') }];
      expect(composite.AlarmActions).toEqual(expected);
      expect(composite.OKActions).toEqual(expected);
    }
  });

  it('fires only while the long and the short window burn and the long one has enough bad events', () => {
    for (const objective of requestObjectives)
      for (const alert of BURN_RATE_ALERTS) {
        const composite = composites.find(({ AlarmName }) =>
          AlarmName.endsWith(`-${objective.name}-${alert.severity}-${alert.longWindow}`),
        );
        if (composite === undefined) throw new Error(`no composite for ${objective.name}`);
        const { names, text } = ruleOf(composite);
        const [long, short, enough] = names.map((id) => alarms.get(id));
        expect(text.startsWith('(ALARM("X") AND ALARM("X") AND ALARM("X")')).toBe(true);
        const budget = Number(errorBudget(objective).toPrecision(12));
        for (const [child, window] of [
          [long, alert.longWindow],
          [short, alert.shortWindow],
        ] as const) {
          const period = windowSeconds(window);
          expect(child).toMatchObject({
            Threshold: alert.burnRate,
            ComparisonOperator: 'GreaterThanThreshold',
          });
          const expression = child?.Metrics?.find((query) => query.Expression)?.Expression;
          expect(expression).toBe(
            `IF(events${window} > 0, FILL(bad${window}, 0) / events${window} / ${budget}, 0)`,
          );
          const stats = child?.Metrics?.flatMap((query) => query.MetricStat ?? []) ?? [];
          expect(
            stats.map((stat) => [stat.Metric.MetricName, stat.Period, stat.Stat]).sort(),
          ).toEqual([
            [`${objective.name}-bad-events`, period, 'Sum'],
            [`${objective.name}-events`, period, 'Sum'],
          ]);
        }
        expect(enough).toMatchObject({
          Namespace: namespace,
          MetricName: `${objective.name}-bad-events`,
          Statistic: 'Sum',
          Period: windowSeconds(alert.longWindow),
          Threshold: MINIMUM_BAD_EVENTS,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        });
      }
  });

  it('reads one sliding datapoint of each window, and no traffic is no alarm', () => {
    const children = composites.flatMap((composite) => ruleOf(composite).names.slice(0, 3));
    expect(new Set(children).size).toBe(3 * composites.length);
    for (const id of children) {
      const child = alarms.get(id);
      expect(child, id).toMatchObject({
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        TreatMissingData: 'notBreaching',
        EvaluationWindow: { SlidingWindow: {} },
      });
      // The composite notifies; its parts notify no one.
      expect(child?.AlarmActions).toBeUndefined();
    }
  });

  it('holds a ticket off while a page of the same objective fires', () => {
    for (const objective of requestObjectives) {
      const of = composites.filter(({ AlarmName }) => AlarmName.includes(`-${objective.name}-`));
      const pages = of.filter(({ AlarmName }) => /-page-/.test(AlarmName)).map(({ id }) => id);
      expect(pages).toHaveLength(BURN_RATE_ALERTS.filter((a) => a.severity === 'page').length);
      for (const ticket of of.filter(({ AlarmName }) => /-ticket-/.test(AlarmName))) {
        const { names, text } = ruleOf(ticket);
        expect(text).toContain(' AND (NOT (');
        expect(names.slice(3).sort()).toEqual([...pages].sort());
      }
    }
  });
});
