import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { BackupPlanConfig } from '../../config/types';
import { EncryptedBackupVault } from '../constructs/backup-vault';

export interface BackupCopyStackProps extends StackProps {
  readonly copy: BackupPlanConfig['copy'];
}

/**
 * The vault the database's backups are copied to, in a second region. A stack of its own: a
 * stack lives in one region, and this one must outlast the loss of the database's.
 */
export class BackupCopyStack extends Stack {
  readonly vault: EncryptedBackupVault;

  constructor(scope: Construct, id: string, props: BackupCopyStackProps) {
    super(scope, id, { ...props, terminationProtection: true });
    this.vault = new EncryptedBackupVault(this, 'Copies', {
      // Named in config: the plan in the database's region builds this vault's ARN from it,
      // since CloudFormation cannot pass references between regions.
      vaultName: props.copy.vaultName,
      description: 'shipshape: encrypts the copies of the database backups',
    });
    new CfnOutput(this, 'VaultArn', { value: this.vault.vault.backupVaultArn });
  }
}
