import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { OBJECTIVES, errorBudget } from '../../../slo/objectives';
import { isRequestObjective } from '../lib/slo-log-patterns';
import { environments, resourcesOf, synthesize } from './synthesize';

const { template } = synthesize();

interface Alarm {
  MetricName?: string;
  Namespace?: string;
  ExtendedStatistic?: string;
  Threshold: number;
  ComparisonOperator: string;
  Metrics?: { Expression?: string; MetricStat?: { Metric: { MetricName: string } } }[];
  AlarmActions?: unknown[];
  OKActions?: unknown[];
  Dimensions?: { Name: string; Value: unknown }[];
}

describe.each(environments)('$name alarms and dashboard', (config) => {
  const service = template(`${config.name}-service`);
  const production = config.name === 'production';
  const alarms = resourcesOf(service, 'AWS::CloudWatch::Alarm').map(([id, alarm]) => ({
    id,
    ...(alarm as unknown as Alarm),
  }));
  const alarm = (idPattern: RegExp) => {
    const found = alarms.filter((candidate) => idPattern.test(candidate.id));
    if (found.length === 0) throw new Error(`no alarm ${idPattern}`);
    return found;
  };

  const topicId = (name: 'Page' | 'Ticket') => {
    const [found] = resourcesOf(service, 'AWS::SNS::Topic').filter(([id]) =>
      new RegExp(`Topics${name}`).test(id),
    );
    if (found === undefined) throw new Error(`no ${name} topic`);
    return found[0];
  };

  it('has a page and a ticket topic, both encrypted and TLS-only, with their ARNs as outputs', () => {
    service.resourceCountIs('AWS::SNS::Topic', 2);
    service.allResourcesProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('TopicsKey'), 'Arn'] },
    });
    for (const name of ['Page', 'Ticket'] as const) {
      service.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: topicId(name) }],
        PolicyDocument: Match.objectLike({
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        }),
      });
      service.hasOutput(`${name}TopicArn`, { Value: { Ref: topicId(name) } });
    }
  });

  it('subscribes what the config names to each topic', () => {
    const subscriptions = resourcesOf(service, 'AWS::SNS::Subscription').map(([, each]) => each);
    const expected = (['page', 'ticket'] as const).flatMap((severity) => {
      const topic = { Ref: topicId(severity === 'page' ? 'Page' : 'Ticket') };
      const { emails, httpsEndpoints } = config.alarms[severity];
      return [
        ...emails.map((Endpoint) => ({ Protocol: 'email', Endpoint, TopicArn: topic })),
        ...httpsEndpoints.map((Endpoint) => ({ Protocol: 'https', Endpoint, TopicArn: topic })),
      ];
    });
    expect(subscriptions).toHaveLength(expected.length);
    for (const each of expected)
      expect(subscriptions).toContainEqual(expect.objectContaining(each));
    if (production) expect(expected.length).toBeGreaterThan(0);
  });

  it('sends every cause alarm, and its recovery, to the ticket topic', () => {
    const causes = alarms.filter(({ id }) => /Causes/.test(id));
    expect(causes).toHaveLength(5 + config.cache.nodes * 2 + (production ? 2 : 1));
    for (const { AlarmActions, OKActions } of causes) {
      expect(AlarmActions).toEqual([{ Ref: topicId('Ticket') }]);
      expect(OKActions).toEqual([{ Ref: topicId('Ticket') }]);
    }
  });

  it('keeps ErrorRate and LatencyP99 as rollback alarms only: they notify no one', () => {
    for (const pattern of [/ErrorRate/, /LatencyP99/]) {
      const [rollback] = alarm(pattern);
      expect(rollback?.AlarmActions).toBeUndefined();
      expect(rollback?.OKActions).toBeUndefined();
    }
    service.hasResourceProperties('AWS::ECS::Service', {
      DeploymentConfiguration: Match.objectLike({
        Alarms: Match.objectLike({
          AlarmNames: [
            { Ref: Match.stringLikeRegexp('RollbackErrorRate') },
            { Ref: Match.stringLikeRegexp('RollbackLatencyP99') },
          ],
        }),
      }),
    });
  });

  it('watches the 5xx rate of the whole load balancer, ELB and targets together', () => {
    const [errorRate] = alarm(/ErrorRate/);
    expect(errorRate?.Threshold).toBe(1);
    const names = errorRate?.Metrics?.flatMap(
      (metric) => metric.MetricStat?.Metric.MetricName ?? [],
    ).sort();
    expect(names).toEqual(['HTTPCode_ELB_5XX_Count', 'HTTPCode_Target_5XX_Count', 'RequestCount']);
    expect(errorRate?.Metrics?.find((metric) => metric.Expression)?.Expression).toMatch(
      /100 \* .* \/ requests/,
    );
  });

  it('watches p99 latency, unhealthy targets, and service CPU and memory', () => {
    expect(alarm(/LatencyP99/)[0]).toMatchObject({
      MetricName: 'TargetResponseTime',
      ExtendedStatistic: 'p99',
      Threshold: 1,
    });
    const unhealthy = alarm(/UnhealthyTargets/);
    expect(unhealthy).toHaveLength(production ? 2 : 1);
    for (const each of unhealthy)
      expect(each).toMatchObject({ MetricName: 'UnHealthyHostCount', Threshold: 1 });
    expect(alarm(/ServiceCpu/)[0]).toMatchObject({
      Namespace: 'AWS/ECS',
      MetricName: 'CPUUtilization',
      Threshold: 80,
    });
    expect(alarm(/ServiceMemory/)[0]).toMatchObject({
      Namespace: 'AWS/ECS',
      MetricName: 'MemoryUtilization',
      Threshold: 80,
    });
  });

  it('watches RDS CPU, free storage and connections against the instance maximum', () => {
    expect(alarm(/DatabaseCpu/)[0]).toMatchObject({
      Namespace: 'AWS/RDS',
      MetricName: 'CPUUtilization',
      Threshold: 80,
    });
    expect(alarm(/DatabaseFreeStorage/)[0]).toMatchObject({
      MetricName: 'FreeStorageSpace',
      Threshold: 2 * 1024 ** 3,
      ComparisonOperator: 'LessThanThreshold',
    });
    expect(alarm(/DatabaseConnections/)[0]).toMatchObject({
      MetricName: 'DatabaseConnections',
      Threshold: Math.floor(0.8 * config.database.maxConnections),
    });
    // Every task at its full pool still fits under the alarm.
    expect(config.service.maxTasks * config.service.databasePoolMax).toBeLessThan(
      0.8 * config.database.maxConnections,
    );
  });

  it('watches engine CPU and evictions on every cache node', () => {
    for (const pattern of [/CacheCpu/, /CacheEvictions/]) {
      const perNode = alarm(pattern);
      expect(perNode).toHaveLength(config.cache.nodes);
      for (const [index, each] of perNode.entries())
        expect(JSON.stringify(each.Dimensions)).toContain(`-00${index + 1}`);
    }
    expect(alarm(/CacheCpu/)[0]).toMatchObject({
      Namespace: 'AWS/ElastiCache',
      MetricName: 'EngineCPUUtilization',
    });
    expect(alarm(/CacheEvictions/)[0]).toMatchObject({ MetricName: 'Evictions', Threshold: 0 });
  });

  it('draws the same metrics on a dashboard, after a row of the SLOs and the outside probe', () => {
    const [[, dashboard] = ['', {}]] = resourcesOf(service, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(dashboard.DashboardBody);
    for (const metric of [
      'RequestCount',
      'TargetResponseTime',
      'UnHealthyHostCount',
      'CPUUtilization',
      'MemoryUtilization',
      'DatabaseConnections',
      'FreeStorageSpace',
      'EngineCPUUtilization',
      'Evictions',
      'SuccessPercent',
    ])
      expect(body).toContain(metric);
    // The body is JSON joined around references (alarm ARNs, the load balancer's name).
    const { widgets } = JSON.parse(
      (dashboard.DashboardBody as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]
        .map((part) => (typeof part === 'string' ? part : 'ref'))
        .join(''),
    ) as { widgets: { y: number; properties: Record<string, unknown> }[] };
    const titled = (title: string) => {
      const found = widgets.find(({ properties }) => properties.title === title);
      if (found === undefined) throw new Error(`no widget ${title}`);
      return found;
    };
    const objectives = OBJECTIVES.filter(isRequestObjective);
    for (const objective of objectives) {
      const widget = titled(`${objective.name}: % bad vs budget`);
      const metrics = JSON.stringify(widget.properties.metrics);
      expect(metrics).toContain(`"${objective.name}-bad-events"`);
      expect(metrics).toContain(`"${objective.name}-events"`);
      for (const [window, seconds] of [
        ['1h', 3600],
        ['1d', 86_400],
      ] as const) {
        expect(metrics).toContain(`"label":"% bad over ${window}"`);
        expect(metrics).toContain(`"period":${seconds}`);
      }
      expect(widget.properties.annotations).toEqual({
        horizontal: [expect.objectContaining({ value: 100 * errorBudget(objective) })],
      });
    }
    const probe = titled('Outside probe: birthday journey success %');
    expect(JSON.stringify(probe.properties.metrics)).toContain('SuccessPercent');
    // The SLO row comes first.
    const sloRows = new Set(
      [...objectives.map(({ name }) => `${name}: % bad vs budget`), probe.properties.title].map(
        (title) => titled(String(title)).y,
      ),
    );
    expect(Math.max(...sloRows)).toBeLessThan(titled('Requests and 5xx').y);
  });
});
