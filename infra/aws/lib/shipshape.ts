import { Tags, type App } from 'aws-cdk-lib';
import type { EnvironmentConfig, PipelineConfig } from '../config/types';
import { validateConfig } from '../config/validate';
import { APP_PORT } from './constructs/app-task-definition';
import { BackupCopyStack } from './stacks/backup-copy-stack';
import { DataStack } from './stacks/data-stack';
import { NetworkStack } from './stacks/network-stack';
import { ServiceStack } from './stacks/service-stack';
import { SharedStack } from './stacks/shared-stack';

export interface ShipshapeProps {
  readonly pipeline: PipelineConfig;
  readonly environments: readonly EnvironmentConfig[];
  /** The git SHA the image was built from. */
  readonly imageTag: string;
  /** The image's digest: when set, the tasks run it rather than whatever the tag names. */
  readonly imageDigest?: string | undefined;
  /** Unset synthesizes account-agnostic templates; `cdk deploy` fills in the caller's. */
  readonly account?: string | undefined;
}

export interface EnvironmentStacks {
  readonly network: NetworkStack;
  readonly data: DataStack;
  readonly service: ServiceStack;
  /** The vault in a second region that the database's backups are copied to, if any. */
  readonly backupCopy: BackupCopyStack | undefined;
}

/** The whole deployment: one shared stack, then network, data and service per environment. */
export function createShipshape(app: App, props: ShipshapeProps) {
  for (const config of props.environments) validateConfig(config);
  Tags.of(app).add('app', 'shipshape');
  const shared = new SharedStack(app, 'shipshape-shared', {
    env: { account: props.account, region: props.pipeline.region },
    description: 'shipshape: the image repository and GitHub deploy access, for every environment',
    pipeline: props.pipeline,
    // The pipeline deploys each environment's region and the region its backups are copied to.
    deployRegions: [
      ...new Set(
        props.environments.flatMap((config) => [
          config.region,
          ...(config.database.backupPlan ? [config.database.backupPlan.copy.region] : []),
        ]),
      ),
    ],
  });
  const environments = new Map<string, EnvironmentStacks>();
  for (const config of props.environments) {
    const env = { account: props.account, region: config.region };
    const prefix = `shipshape-${config.name}`;
    const network = new NetworkStack(app, `${prefix}-network`, {
      env,
      description: `shipshape ${config.name}: VPC, subnets, security groups`,
      config,
      appPort: APP_PORT,
    });
    const data = new DataStack(app, `${prefix}-data`, {
      env,
      description: `shipshape ${config.name}: PostgreSQL and the cache`,
      config,
      vpc: network.vpc,
      traffic: network.traffic,
    });
    const copy = config.database.backupPlan?.copy;
    const backupCopy =
      copy === undefined
        ? undefined
        : new BackupCopyStack(app, `${prefix}-backup-copy`, {
            env: { account: props.account, region: copy.region },
            description: `shipshape ${config.name}: the vault in ${copy.region} that database backups are copied to`,
            copy,
          });
    if (backupCopy !== undefined)
      data.addStackDependency(backupCopy, 'the backup plan copies into its vault');
    const service = new ServiceStack(app, `${prefix}-service`, {
      env,
      description: `shipshape ${config.name}: load balancer, firewall, Fargate service, alarms`,
      config,
      vpc: network.vpc,
      traffic: network.traffic,
      data,
      repository: shared.registry.repository,
      imageTag: props.imageTag,
      imageDigest: props.imageDigest,
    });
    for (const stack of [network, data, service, backupCopy])
      if (stack !== undefined) Tags.of(stack).add('environment', config.name);
    environments.set(config.name, { network, data, service, backupCopy });
  }
  return { shared, environments };
}
