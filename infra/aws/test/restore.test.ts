import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { staging } from '../config/staging';
import type { EnvironmentConfig, RestoreConfig } from '../config/types';
import { buildApp, resourcesOf } from './synthesize';

const SNAPSHOT = 'shipshape-before-migration-042';
const SOURCE = 'shipshape-staging-data-databaseinstance-abc123';

/** Staging's data and service templates, with `restore` set if given. */
function restoring(restore?: RestoreConfig) {
  const config: EnvironmentConfig = { ...staging, database: { ...staging.database, restore } };
  const built = buildApp([config]).environments.get('staging');
  if (built === undefined) throw new Error('no staging stacks');
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
