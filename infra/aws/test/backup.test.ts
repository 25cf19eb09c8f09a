import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { production } from '../config/production';
import { environments, resourcesOf, synthesize } from './synthesize';

const { stack, template } = synthesize();
const plan = production.database.backupPlan;
if (plan === undefined) throw new Error('production has no backup plan');

describe.each(environments)('$name point-in-time recovery', (config) => {
  const data = template(`${config.name}-data`);

  it(`replays to any second of the last ${config.database.backupRetention.toDays()} days`, () => {
    const days = config.database.backupRetention.toDays();
    expect(days).toBeGreaterThan(0);
    data.hasResourceProperties('AWS::RDS::DBInstance', {
      BackupRetentionPeriod: days,
      PreferredBackupWindow: Match.stringLikeRegexp('^\\d\\d:\\d\\d-\\d\\d:\\d\\d$'),
    });
  });

  it(`sets max_connections to ${config.database.maxConnections}, the figure the budget uses`, () => {
    data.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Parameters: Match.objectLike({ max_connections: String(config.database.maxConnections) }),
    });
  });
});

describe('staging backups', () => {
  it('are RDS automated backups only: no AWS Backup plan, no copy stack', () => {
    const data = template('staging-data');
    data.resourceCountIs('AWS::Backup::BackupPlan', 0);
    data.resourceCountIs('AWS::Backup::BackupVault', 0);
    expect(() => stack('staging-backup-copy')).toThrow(/no stack/);
  });
});

describe('production AWS Backup', () => {
  const data = template('production-data');
  const copies = template('production-backup-copy');

  it('runs a daily plan that keeps each backup for the configured days', () => {
    data.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: {
        BackupPlanName: 'shipshape-production-data-database',
        BackupPlanRule: [
          Match.objectLike({
            ScheduleExpression: 'cron(0 5 * * ? *)',
            Lifecycle: { DeleteAfterDays: plan.retention.toDays() },
            TargetBackupVault: {
              'Fn::GetAtt': [Match.stringLikeRegexp('BackupVault'), 'BackupVaultName'],
            },
          }),
        ],
      },
    });
  });

  it(`copies each backup to the ${plan.copy.vaultName} vault in ${plan.copy.region}`, () => {
    const [[, resource] = ['', {}]] = resourcesOf(data, 'AWS::Backup::BackupPlan');
    const rule = JSON.stringify(resource.BackupPlan);
    expect(rule).toContain(`:backup:${plan.copy.region}:`);
    expect(rule).toContain(`:backup-vault:${plan.copy.vaultName}`);
    data.hasResourceProperties('AWS::Backup::BackupPlan', {
      BackupPlan: Match.objectLike({
        BackupPlanRule: [
          Match.objectLike({
            CopyActions: [
              Match.objectLike({ Lifecycle: { DeleteAfterDays: plan.copy.retention.toDays() } }),
            ],
          }),
        ],
      }),
    });
  });

  it('selects the database instance', () => {
    const [[instanceId] = ['']] = resourcesOf(data, 'AWS::RDS::DBInstance');
    const [[, selection] = ['', {}]] = resourcesOf(data, 'AWS::Backup::BackupSelection');
    expect(JSON.stringify(selection.BackupSelection)).toContain(instanceId);
  });

  it.each([
    ['in its own region', 'production-data'],
    ['in the copy region', 'production-backup-copy'],
  ])(
    'encrypts the vault %s with a rotated key and denies deleting recovery points',
    (_where, key) => {
      const vaults = template(key);
      vaults.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      vaults.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Retain' });
      vaults.hasResource('AWS::Backup::BackupVault', {
        Properties: Match.objectLike({
          EncryptionKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('Key'), 'Arn'] },
          AccessPolicy: Match.objectLike({
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: 'Deny',
                Action: Match.arrayWith(['backup:DeleteRecoveryPoint']),
              }),
            ]),
          }),
        }),
        DeletionPolicy: 'Retain',
      });
    },
  );

  it(`keeps the copy vault in a stack of its own in ${plan.copy.region}, made before the plan`, () => {
    const copyStack = stack('production-backup-copy');
    expect(copyStack.region).toBe(plan.copy.region);
    expect(copyStack.region).not.toBe(production.region);
    expect(copyStack.terminationProtection).toBe(true);
    copies.hasResourceProperties('AWS::Backup::BackupVault', {
      BackupVaultName: plan.copy.vaultName,
    });
    expect(stack('production-data').dependencies).toContain(copyStack);
  });

  it('lets the pipeline deploy the copy region', () => {
    const shared = JSON.stringify(template('shared').toJSON());
    expect(shared).toMatch(new RegExp(`deploy-role-",\\{[^}]+\\},"-${plan.copy.region}"`));
  });
});
