import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { production } from '../config/production';
import { staging } from '../config/staging';
import type { EnvironmentConfig, RestoreConfig } from '../config/types';
import { configProblems, connectionBudget } from '../config/validate';
import { buildApp } from './synthesize';

const withService = (
  config: EnvironmentConfig,
  service: Partial<EnvironmentConfig['service']>,
) => ({
  ...config,
  service: { ...config.service, ...service },
});
const withDatabase = (
  config: EnvironmentConfig,
  database: Partial<EnvironmentConfig['database']>,
): EnvironmentConfig => ({ ...config, database: { ...config.database, ...database } });
const restoring = (restore: Partial<RestoreConfig>) =>
  configProblems(
    withDatabase(staging, { restore: { serve: 'original', retireOriginal: false, ...restore } }),
  );

describe('the connection budget', () => {
  it.each([staging, production])('fits $name as committed', (config) => {
    const { worstCase, available } = connectionBudget(config);
    expect(worstCase).toBeLessThanOrEqual(available);
  });

  it('counts both sides of a deploy, the LISTEN and migration sessions and the migrate task', () => {
    expect(connectionBudget(withService(staging, { maxTasks: 4, databasePoolMax: 10 }))).toEqual({
      worstCase: 97,
      available: 70,
      explained:
        '4 tasks × 2 (a deploy runs old and new side by side) × ' +
        '(10 pooled + 1 LISTEN + 1 migrations) + 1 migrate task = 97',
    });
  });

  it('fails the synth of a config over budget, naming the numbers', () => {
    const over = withService(staging, { maxTasks: 4, databasePoolMax: 10 });
    const message =
      'service.databasePoolMax: 4 tasks × 2 (a deploy runs old and new side by side) × ' +
      '(10 pooled + 1 LISTEN + 1 migrations) + 1 migrate task = 97 connections, over the 70 the ' +
      'database allows ' +
      '(max_connections 80 − 10 reserved)';
    expect(configProblems(over)).toEqual([message]);
    expect(() => buildApp([over])).toThrow(message);
  });

  it('passes a config just under its budget and fails one just over', () => {
    // 2 tasks × 2 × (15 + 1 + 1) + 1 = 69 fits max_connections 80 − 10; a pool of 16 makes 73.
    expect(configProblems(withService(staging, { maxTasks: 2, databasePoolMax: 15 }))).toEqual([]);
    expect(configProblems(withService(staging, { maxTasks: 2, databasePoolMax: 16 }))).toEqual([
      expect.stringContaining('= 73 connections, over the 70'),
    ]);
  });
});

describe('the backup settings', () => {
  it('require production to copy its backups to another region', () => {
    const without = withDatabase(production, { backupPlan: undefined });
    expect(configProblems(without)).toEqual([
      'database.backupPlan: production needs daily backups copied to another region',
    ]);
  });

  it('reject a copy to the same region, an unusable vault name and empty retentions', () => {
    const bad = withDatabase(production, {
      backupPlan: {
        retention: Duration.hours(12),
        copy: { region: production.region, vaultName: 'copies here', retention: Duration.days(0) },
      },
    });
    expect(configProblems(bad)).toEqual([
      'database.backupPlan.retention: keep each backup at least 1 day',
      'database.backupPlan.copy.retention: keep each copy at least 1 day',
      "database.backupPlan.copy.region: eu-west-1 is the database's own region; copy to another",
      'database.backupPlan.copy.vaultName: "copies here" is not 2 to 50 letters, digits, - or _',
    ]);
  });

  it.each([0, 36])('reject %s days of automated backups', (days) => {
    expect(configProblems(withDatabase(staging, { backupRetention: Duration.days(days) }))).toEqual(
      [`database.backupRetention: ${days} days; point-in-time recovery needs 1 to 35`],
    );
  });
});

describe('the restore switch', () => {
  it.each<[string, Partial<RestoreConfig>]>([
    ['a snapshot', { fromSnapshot: 'shipshape-2026-12-01' }],
    ['a time', { fromInstance: 'shipshape-old', restoreTime: '2026-12-01T04:30:00Z' }],
    ['the latest time', { fromInstance: 'shipshape-old', latestRestorableTime: true }],
  ])('accepts %s', (_what, restore) => {
    expect(restoring(restore)).toEqual([]);
  });

  it.each<[string, Partial<RestoreConfig>, string[]]>([
    [
      'no source',
      {},
      [
        'database.restore: set fromSnapshot, or fromInstance with restoreTime or latestRestorableTime',
      ],
    ],
    [
      'both a snapshot and an instance',
      { fromSnapshot: 'snap', fromInstance: 'db', latestRestorableTime: true },
      ['database.restore: fromSnapshot and fromInstance contradict each other; restore from one'],
    ],
    [
      'a time without a source',
      { restoreTime: '2026-12-01T04:30:00Z' },
      ['database.restore: a point in time needs fromInstance, the instance to restore from'],
    ],
    [
      'a time with a snapshot',
      { fromSnapshot: 'snap', latestRestorableTime: true },
      [
        'database.restore: restoreTime and latestRestorableTime apply to fromInstance, not to a snapshot',
      ],
    ],
    [
      'an instance without a time',
      { fromInstance: 'db' },
      [
        'database.restore.fromInstance: say which point in time, restoreTime or latestRestorableTime',
      ],
    ],
    [
      'both a time and the latest time',
      { fromInstance: 'db', restoreTime: '2026-12-01T04:30:00Z', latestRestorableTime: true },
      ['database.restore: restoreTime and latestRestorableTime contradict each other; set one'],
    ],
    [
      'a local time',
      { fromInstance: 'db', restoreTime: '2026-12-01 04:30' },
      [
        'database.restore.restoreTime: "2026-12-01 04:30" is not a UTC time like 2026-01-31T23:45:00Z',
      ],
    ],
    [
      'an impossible date',
      { fromInstance: 'db', restoreTime: '2026-13-45T04:30:00Z' },
      [
        'database.restore.restoreTime: "2026-13-45T04:30:00Z" is not a UTC time like 2026-01-31T23:45:00Z',
      ],
    ],
    [
      'retiring the instance that serves',
      { fromSnapshot: 'snap', serve: 'original', retireOriginal: true },
      [
        "database.restore: retireOriginal with serve 'original' would delete the instance the service uses",
      ],
    ],
  ])('rejects %s', (_what, restore, problems) => {
    expect(restoring(restore)).toEqual(problems);
  });

  it('fails the synth with the file and every problem', () => {
    const contradictory = withDatabase(staging, {
      restore: {
        fromSnapshot: 'snap',
        fromInstance: 'db',
        serve: 'original',
        retireOriginal: true,
      },
    });
    expect(() => buildApp([contradictory])).toThrow(
      /infra\/aws\/config\/staging\.ts:\n {2}database\.restore: fromSnapshot and fromInstance contradict[^\n]*\n {2}database\.restore: retireOriginal/,
    );
  });
});
