import { describe, expect, it } from 'vitest';
import { COLLECTOR_CONFIG, COLLECTOR_IMAGE } from '../lib/constructs/trace-collector';
import { environments, resourcesOf, synthesize } from './synthesize';

interface Container {
  Name: string;
  Image: unknown;
  Command?: string[];
  Essential?: boolean;
  User?: string;
  ReadonlyRootFilesystem?: boolean;
  Cpu?: number;
  Memory?: number;
  RestartPolicy?: { Enabled: boolean };
  DependsOn?: { ContainerName: string; Condition: string }[];
  Environment: { Name: string; Value: unknown }[];
  LogConfiguration: { LogDriver: string; Options: Record<string, unknown> };
}

const { template } = synthesize();

describe.each(environments)('$name tracing', (config) => {
  const service = template(`${config.name}-service`);
  const definitions = resourcesOf(service, 'AWS::ECS::TaskDefinition').map(([id, definition]) => ({
    id,
    containers: definition.ContainerDefinitions as Container[],
  }));
  const serving = definitions.find(({ id }) => /^AppTaskDefinition/.test(id));
  const migrate = definitions.find(({ id }) => /^AppMigrateDefinition/.test(id));
  const app = serving?.containers.find(({ Name }) => Name === 'app');
  const collector = serving?.containers.find(({ Name }) => Name === 'otel-collector');

  it("runs ADOT's collector beside the app, pinned, with its bundled ECS config for X-Ray", () => {
    expect(serving?.containers.map(({ Name }) => Name)).toEqual(['app', 'otel-collector']);
    expect(COLLECTOR_IMAGE).toMatch(
      /^public\.ecr\.aws\/aws-observability\/aws-otel-collector:v\d+\.\d+\.\d+$/,
    );
    expect(collector).toMatchObject({
      Image: COLLECTOR_IMAGE,
      Command: [`--config=${COLLECTOR_CONFIG}`],
      Essential: false,
      RestartPolicy: { Enabled: true },
    });
    expect(COLLECTOR_CONFIG).toBe('/etc/ecs/ecs-xray.yaml');
  });

  it('keeps the collector small, non-root and read-only, logging to CloudWatch', () => {
    expect(collector).toMatchObject({ User: '4317:4317', ReadonlyRootFilesystem: true });
    expect(collector?.Cpu).toBeLessThanOrEqual(config.service.cpu / 4);
    expect(collector?.Memory).toBeLessThanOrEqual(config.service.memoryMiB / 4);
    expect(collector?.LogConfiguration).toMatchObject({
      LogDriver: 'awslogs',
      Options: { 'awslogs-stream-prefix': 'otel', mode: 'non-blocking' },
    });
    const group = JSON.stringify(collector?.LogConfiguration.Options['awslogs-group']);
    expect(group).toMatch(/TracingLogs/);
  });

  it('starts the app after the collector has started, not after it is healthy', () => {
    expect(app?.DependsOn).toEqual([{ ContainerName: 'otel-collector', Condition: 'START' }]);
    expect(app).toMatchObject({ Essential: true });
  });

  it(`points the app at the collector with the standard variables, keeping ${config.tracing.samplingRatio} of traces`, () => {
    const environment = Object.fromEntries(
      (app?.Environment ?? []).map(({ Name, Value }) => [Name, Value]),
    );
    expect(environment).toMatchObject({
      OTEL_SERVICE_NAME: 'shipshape',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: String(config.tracing.samplingRatio),
      OTEL_RESOURCE_ATTRIBUTES: `deployment.environment.name=${config.name}`,
    });
    expect(Number(environment.OTEL_TRACES_SAMPLER_ARG)).toBe(
      config.name === 'production' ? 0.05 : 1,
    );
  });

  it('lets the task role write to X-Ray, and leaves the migration task untraced', () => {
    const statements = resourcesOf(service, 'AWS::IAM::Policy')
      .filter(([id]) => /^AppTaskDefinitionTaskRole/.test(id))
      .flatMap(([, policy]) => (policy.PolicyDocument as { Statement: unknown[] }).Statement);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Resource: '*',
        Action: expect.arrayContaining([
          'xray:PutTraceSegments',
          'xray:PutTelemetryRecords',
          'xray:GetSamplingRules',
          'xray:GetSamplingTargets',
          'xray:GetSamplingStatisticSummaries',
        ]) as unknown,
      }),
    );
    const migrateRole = resourcesOf(service, 'AWS::IAM::Policy').filter(([id]) =>
      /^AppMigrateDefinitionTaskRole/.test(id),
    );
    expect(JSON.stringify(migrateRole)).not.toContain('xray:');
    expect(migrate?.containers.map(({ Name }) => Name)).toEqual(['app']);
    const migrateVariables = migrate?.containers[0]?.Environment.map(({ Name }) => Name) ?? [];
    expect(migrateVariables.filter((name) => name.startsWith('OTEL_'))).toEqual([]);
  });
});
