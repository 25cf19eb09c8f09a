import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { production } from '../config/production';
import { staging } from '../config/staging';
import type { EnvironmentConfig, RestoreConfig } from '../config/types';
import { buildApp, resourcesOf } from './synthesize';

const SNAPSHOT = 'shipshape-before-migration-042';
const SOURCE = 'shipshape-staging-data-databaseinstance-abc123';

/** An environment's data and service templates (staging's unless told), `restore` set if given. */
function restoring(restore?: RestoreConfig, base: EnvironmentConfig = staging) {
  const config: EnvironmentConfig = { ...base, database: { ...base.database, restore } };
  const built = buildApp([config]).environments.get(base.name);
  if (built === undefined) throw new Error(`no ${base.name} stacks`);
  return { data: Template.fromStack(built.data), service: Template.fromStack(built.service) };
}

const instances = (data: Template) => resourcesOf(data, 'AWS::RDS::DBInstance');
const restoredOf = (data: Template) => {
  const found = instances(data).find(([id]) => id.includes('Restored'));
  if (found === undefined) throw new Error('no restored instance');
  return found;
};
const exportNames = (template: Template) =>
  Object.values(template.toJSON().Outputs as Record<string, { Export?: { Name: string } }>)
    .map((output) => output.Export?.Name)
    .filter((name) => name !== undefined);
/** The logical IDs the service imports the database's endpoint from. */
const databaseImports = (service: Template) =>
  JSON.stringify(service.toJSON()).match(
    /DatabaseRestored[\w]*Endpoint|DatabaseInstance[\w]*Endpoint/g,
  ) ?? [];

/** The instances (logical IDs) that `Ref`s anywhere in `value` name. */
const refsTo = (value: unknown, ids: string[]) =>
  ids.filter((id) => JSON.stringify(value).includes(`{"Ref":"${id}"}`));

/**
 * The RDS instance whose secret each task definition (the app's and the Migrate task's)
 * reads DATABASE_PASSWORD from, followed through the templates: the import in the service
 * stack, the data stack's export of that name, the secret attachment it refers to, and the
 * instance that attachment targets.
 */
function passwordSources({ data, service }: { data: Template; service: Template }) {
  const outputs = data.toJSON().Outputs as Record<
    string,
    { Value: unknown; Export?: { Name: string } }
  >;
  const attachments = new Map(resourcesOf(data, 'AWS::SecretsManager::SecretTargetAttachment'));
  const instanceIds = instances(data).map(([id]) => id);
  const sources: Record<string, string[]> = {};
  for (const [id, definition] of resourcesOf(service, 'AWS::ECS::TaskDefinition')) {
    const containers = definition.ContainerDefinitions as {
      Name: string;
      Secrets?: { Name: string; ValueFrom: unknown }[];
    }[];
    const password = containers
      .find((container) => container.Name === 'app')
      ?.Secrets?.find((secret) => secret.Name === 'DATABASE_PASSWORD');
    const imported = /"Fn::ImportValue":"([^"]+)"/.exec(JSON.stringify(password?.ValueFrom))?.[1];
    const exported = Object.values(outputs).find((output) => output.Export?.Name === imported);
    const attachment = [...attachments.keys()].find(
      (attachmentId) => refsTo(exported?.Value, [attachmentId]).length > 0,
    );
    const name = id.startsWith('AppMigrate') ? 'migrate' : id.startsWith('AppTask') ? 'app' : id;
    sources[name] = refsTo(
      attachment === undefined ? undefined : attachments.get(attachment)?.TargetId,
      instanceIds,
    );
  }
  return sources;
}
const originalOf = (data: Template) => {
  const found = instances(data).find(([id]) => id.startsWith('DatabaseInstance'));
  if (found === undefined) throw new Error('no original instance');
  return found;
};

describe('a restore from a snapshot, beside the original', () => {
  const { data, service } = restoring({
    fromSnapshot: SNAPSHOT,
    serve: 'original',
    retireOriginal: false,
  });

  it('brings up a second instance from the snapshot, with a new password in a new secret', () => {
    expect(instances(data)).toHaveLength(2);
    const [, restored] = restoredOf(data);
    expect(restored).toMatchObject({ DBSnapshotIdentifier: SNAPSHOT, Engine: 'postgres' });
    // The snapshot decides the name, user and encryption.
    for (const key of ['DBName', 'MasterUsername', 'StorageEncrypted'])
      expect(restored).not.toHaveProperty(key);
    expect(JSON.stringify(restored.MasterUserPassword)).toMatch(/DatabaseRestoredSecret/);
    expect(restored.BackupRetentionPeriod).toBe(staging.database.backupRetention.toDays());
  });

  it('keeps the service on the original until the restored one is verified', () => {
    const imports = databaseImports(service);
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.every((id) => id.startsWith('DatabaseInstance'))).toBe(true);
    data.hasOutput('RestoredDatabaseEndpoint', {});
    // The password too: the original's secret, in the service and in the Migrate task.
    const [original] = originalOf(data);
    expect(passwordSources({ data, service })).toEqual({ app: [original], migrate: [original] });
  });
});

describe('a cutover to the restored instance', () => {
  const before = restoring({ fromSnapshot: SNAPSHOT, serve: 'original', retireOriginal: false });
  const switched = restoring({ fromSnapshot: SNAPSHOT, serve: 'restored', retireOriginal: false });
  const retired = restoring({ fromSnapshot: SNAPSHOT, serve: 'restored', retireOriginal: true });

  it('moves the service to the restored endpoint and secret', () => {
    const imports = databaseImports(switched.service);
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.every((id) => id.startsWith('DatabaseRestored'))).toBe(true);
    // The restored instance has a new password: the tasks must read it from its own secret,
    // the Migrate task (run by hand, docs/operations.md) as well as the service.
    const [restored] = restoredOf(switched.data);
    expect(passwordSources(switched)).toEqual({ app: [restored], migrate: [restored] });
    // Retiring the original changes nothing for the tasks.
    const [stillRestored] = restoredOf(retired.data);
    expect(passwordSources(retired)).toEqual({ app: [stillRestored], migrate: [stillRestored] });
  });

  it('keeps every export the running service imports, so the data stack can update first', () => {
    const after = exportNames(switched.data);
    for (const name of exportNames(restoring().data)) expect(after).toContain(name);
    for (const name of exportNames(before.data)) expect(after).toContain(name);
  });

  it('retires the original, leaving only the restored instance, still from its snapshot', () => {
    expect(instances(retired.data)).toHaveLength(1);
    const [id, restored] = restoredOf(retired.data);
    // The same logical ID: retiring the original never re-restores the one serving.
    expect(id).toBe(restoredOf(switched.data)[0]);
    expect(restored.DBSnapshotIdentifier).toBe(SNAPSHOT);
  });
});

describe('a point-in-time restore of another instance', () => {
  it.each([
    ['a time', { restoreTime: '2026-11-30T23:45:00Z' }, { RestoreTime: '2026-11-30T23:45:00Z' }],
    [
      'the latest restorable time',
      { latestRestorableTime: true },
      { UseLatestRestorableTime: true },
    ],
  ])('replays the source to %s', (_what, when, expected) => {
    const { data } = restoring({
      fromInstance: SOURCE,
      ...when,
      serve: 'restored',
      retireOriginal: true,
    });
    expect(instances(data)).toHaveLength(1);
    const [, restored] = restoredOf(data);
    expect(restored).toMatchObject({ SourceDBInstanceIdentifier: SOURCE, ...expected });
    for (const key of ['DBName', 'MasterUsername', 'StorageEncrypted', 'DBSnapshotIdentifier'])
      expect(restored).not.toHaveProperty(key);
    // CloudFormation sets the generated password once the restore is done.
    expect(JSON.stringify(restored.MasterUserPassword)).toMatch(/DatabaseRestoredSecret/);
  });
});

describe('a restore in production', () => {
  const restore = { fromSnapshot: SNAPSHOT, retireOriginal: false } as const;
  const steps = {
    restored: restoring({ ...restore, serve: 'original' }, production),
    switched: restoring({ ...restore, serve: 'restored' }, production),
    retired: restoring({ ...restore, serve: 'restored', retireOriginal: true }, production),
  };
  const subnetsOf = (data: Template, instance: Record<string, unknown>) => {
    const groups = new Map(resourcesOf(data, 'AWS::RDS::DBSubnetGroup'));
    const [group = ''] = refsTo(instance.DBSubnetGroupName, [...groups.keys()]);
    return groups.get(group)?.SubnetIds;
  };

  // docs/operations.md, "How the switch works": the same class, subnets, security group,
  // parameter group, Multi-AZ, deletion protection, backup retention and monitoring.
  it('brings up the restored instance as the original is: Multi-AZ, deletion protection and all', () => {
    const { data } = steps.restored;
    const [originalId, original] = originalOf(data);
    const [restoredId, restored] = restoredOf(data);
    expect(restored).toMatchObject({ MultiAZ: true, DeletionProtection: true });
    for (const key of [
      'DBInstanceClass',
      'VPCSecurityGroups',
      'DBParameterGroupName',
      'MultiAZ',
      'DeletionProtection',
      'BackupRetentionPeriod',
      'MonitoringInterval',
      'PreferredBackupWindow',
    ])
      expect(restored[key], key).toEqual(original[key]);
    expect(subnetsOf(data, restored)).toHaveLength(production.availabilityZones.length);
    expect(subnetsOf(data, restored)).toEqual(subnetsOf(data, original));
    // Deleting either leaves a final snapshot (step 5 retires the original so).
    const resources = data.toJSON().Resources as Record<string, { DeletionPolicy?: string }>;
    for (const id of [originalId, restoredId])
      expect(resources[id]?.DeletionPolicy, id).toBe('Snapshot');
  });

  it('keeps the restored instance Multi-AZ and protected once it serves and the original is gone', () => {
    for (const { data } of [steps.switched, steps.retired])
      expect(restoredOf(data)[1]).toMatchObject({ MultiAZ: true, DeletionProtection: true });
  });

  // Both are backed up while the original is still the way back (step 4); "AWS Backup now
  // selects only the restored instance" once it is retired (step 5).
  it.each([
    ['restored beside the original', 'restored', ['original', 'restored']],
    ['serving from the restored one', 'switched', ['original', 'restored']],
    ['after the original is retired', 'retired', ['restored']],
  ] as const)('AWS Backup selects the right instances: %s', (_when, step, expected) => {
    const { data } = steps[step];
    const ids = instances(data).map(([id]) => id);
    const [[, selection] = ['', {}], ...more] = resourcesOf(data, 'AWS::Backup::BackupSelection');
    expect(more).toEqual([]);
    const selected = refsTo(
      (selection.BackupSelection as { Resources: unknown[] }).Resources,
      ids,
    ).map((id) => (id === restoredOf(data)[0] ? 'restored' : 'original'));
    expect(selected.sort()).toEqual(expected);
    expect(ids).toHaveLength(expected.length);
  });
});
