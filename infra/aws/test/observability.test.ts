import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { environments, resourcesOf, synthesize } from './synthesize';

const { template } = synthesize();

interface Alarm {
  MetricName?: string;
  Namespace?: string;
  ExtendedStatistic?: string;
  Threshold: number;
  ComparisonOperator: string;
  Metrics?: { Expression?: string; MetricStat?: { Metric: { MetricName: string } } }[];
  AlarmActions: unknown[];
  OKActions: unknown[];
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

  it('sends every alarm, and its recovery, to one encrypted SNS topic', () => {
    service.resourceCountIs('AWS::SNS::Topic', 1);
    service.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    const [[topic] = ['']] = resourcesOf(service, 'AWS::SNS::Topic');
    for (const { AlarmActions, OKActions } of alarms) {
      expect(AlarmActions).toEqual([{ Ref: topic }]);
      expect(OKActions).toEqual([{ Ref: topic }]);
    }
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

  it('draws the same metrics on a dashboard', () => {
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
    ])
      expect(body).toContain(metric);
  });
});
