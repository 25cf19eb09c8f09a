import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import type * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import type { BackupPlanConfig } from '../../config/types';
import { EncryptedBackupVault } from './backup-vault';

export interface DatabaseBackupProps {
  readonly instances: readonly rds.IDatabaseInstance[];
  readonly plan: BackupPlanConfig;
}

/**
 * AWS Backup on top of RDS's own automated backups: a daily snapshot kept in this region's
 * vault and copied to a vault in another region, which a regional outage cannot take.
 */
export class DatabaseBackup extends Construct {
  readonly vault: EncryptedBackupVault;
  readonly plan: backup.BackupPlan;
  /** The copy vault's ARN, built from config: the copy stack in that region makes it. */
  readonly copyVaultArn: string;

  constructor(scope: Construct, id: string, props: DatabaseBackupProps) {
    super(scope, id);
    const { copy } = props.plan;
    this.vault = new EncryptedBackupVault(this, 'Vault', {
      description: 'shipshape: encrypts the database backups in this region',
    });
    this.copyVaultArn = Stack.of(this).formatArn({
      service: 'backup',
      region: copy.region,
      resource: 'backup-vault',
      resourceName: copy.vaultName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.plan = new backup.BackupPlan(this, 'Plan', {
      backupPlanName: `${Stack.of(this).stackName}-database`,
      backupVault: this.vault.vault,
      backupPlanRules: [
        new backup.BackupPlanRule({
          ruleName: 'DailyWithCopy',
          // 05:00 UTC: after RDS's own backup window and the Sunday maintenance window.
          scheduleExpression: events.Schedule.cron({ minute: '0', hour: '5' }),
          deleteAfter: props.plan.retention,
          copyActions: [
            {
              destinationBackupVault: backup.BackupVault.fromBackupVaultArn(
                this,
                'CopyVault',
                this.copyVaultArn,
              ),
              deleteAfter: copy.retention,
            },
          ],
        }),
      ],
    });
    const selection = this.plan.addSelection('Database', {
      resources: props.instances.map((instance) =>
        backup.BackupResource.fromRdsDatabaseInstance(instance),
      ),
    });
    const role = selection.node.tryFindChild('Role');
    if (role !== undefined)
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
        reason:
          'AWS Backup snapshots and copies RDS with the managed policy made for its service role; AWS keeps it in step with the services.',
      });
  }
}
