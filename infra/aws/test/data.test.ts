import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { environments, resourcesOf, synthesize } from './synthesize';

const { template, stack } = synthesize();

/** A `{{resolve:secretsmanager:…}}` dynamic reference: CloudFormation reads the secret, the template never holds it. */
const secretReference = Match.objectLike({
  'Fn::Join': Match.arrayWith([
    Match.arrayWith([Match.stringLikeRegexp('\\{\\{resolve:secretsmanager:')]),
  ]),
});

describe.each(environments)('$name data', (config) => {
  const data = template(`${config.name}-data`);
  const production = config.name === 'production';

  it('lives in its own stack with termination protection', () => {
    expect(stack(`${config.name}-data`).terminationProtection).toBe(true);
    expect(stack(`${config.name}-service`).terminationProtection).toBe(false);
  });

  it('runs encrypted PostgreSQL 18 in the isolated subnets, never public', () => {
    data.hasResourceProperties('AWS::RDS::DBInstance', {
      Engine: 'postgres',
      EngineVersion: Match.stringLikeRegexp('^18'),
      StorageEncrypted: true,
      PubliclyAccessible: false,
      VPCSecurityGroups: [{ 'Fn::ImportValue': Match.stringLikeRegexp('TrafficDatabase') }],
    });
    const [[, subnetGroup] = ['', {}]] = resourcesOf(data, 'AWS::RDS::DBSubnetGroup');
    const subnetIds = JSON.stringify(subnetGroup.SubnetIds);
    expect(subnetIds).toMatch(/DataSubnet/);
    expect(subnetIds).not.toMatch(/TasksSubnet|LoadBalancerSubnet/);
  });

  it(`has Multi-AZ and deletion protection ${production ? 'on' : 'off'}`, () => {
    data.hasResourceProperties('AWS::RDS::DBInstance', {
      MultiAZ: config.database.multiAz,
      DeletionProtection: config.database.deletionProtection,
    });
    expect(config.database.multiAz).toBe(production);
    expect(config.database.deletionProtection).toBe(production);
  });

  it(`keeps ${config.database.backupRetention.toDays()} days of automated backups and a snapshot on removal`, () => {
    data.hasResource('AWS::RDS::DBInstance', {
      Properties: Match.objectLike({
        BackupRetentionPeriod: config.database.backupRetention.toDays(),
      }),
      DeletionPolicy: 'Snapshot',
      UpdateReplacePolicy: 'Snapshot',
    });
  });

  it('generates its credentials into Secrets Manager and references them', () => {
    data.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({
        SecretStringTemplate: JSON.stringify({ username: 'shipshape' }),
        GenerateStringKey: 'password',
      }),
    });
    data.hasResourceProperties('AWS::RDS::DBInstance', {
      MasterUsername: 'shipshape',
      MasterUserPassword: secretReference,
    });
  });

  it('accepts TLS connections only', () => {
    data.hasResourceProperties('AWS::RDS::DBParameterGroup', {
      Parameters: Match.objectLike({ 'rds.force_ssl': '1' }),
    });
  });

  it('runs Valkey with TLS in transit, encryption at rest and an AUTH token from Secrets Manager', () => {
    data.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      Engine: 'valkey',
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
      AtRestEncryptionEnabled: true,
      AuthToken: secretReference,
    });
    const [[, subnetGroup] = ['', {}]] = resourcesOf(data, 'AWS::ElastiCache::SubnetGroup');
    expect(JSON.stringify(subnetGroup.SubnetIds)).toMatch(/DataSubnet/);
    expect(JSON.stringify(subnetGroup.SubnetIds)).not.toMatch(/TasksSubnet|LoadBalancerSubnet/);
  });

  it(
    production ? 'fails over automatically to a replica in another AZ' : 'runs one cache node',
    () => {
      data.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
        NumCacheClusters: production ? 2 : 1,
        AutomaticFailoverEnabled: production,
        MultiAZEnabled: production,
      });
    },
  );
});
