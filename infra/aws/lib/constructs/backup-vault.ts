import { RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface EncryptedBackupVaultProps {
  /** Set where another region's plan must name the vault before it exists; else generated. */
  readonly vaultName?: string | undefined;
  readonly description: string;
}

/**
 * A backup vault under a key of its own, rotated yearly, that no one may empty: recovery points
 * leave only when their retention ends. Vault and key outlive the stack that made them.
 */
export class EncryptedBackupVault extends Construct {
  readonly vault: backup.BackupVault;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: EncryptedBackupVaultProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: props.description,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.vault = new backup.BackupVault(this, 'Vault', {
      backupVaultName: props.vaultName,
      encryptionKey: this.key,
      // A deny on deleting or shortening recovery points, for every principal: a stolen
      // credential cannot erase the backups along with the database.
      blockRecoveryPointDeletion: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
