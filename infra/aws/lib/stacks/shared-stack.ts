import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { PipelineConfig } from '../../config/types';
import { ContainerRegistry } from '../constructs/container-registry';
import { GitHubDeployAccess } from '../constructs/github-deploy-access';

export interface SharedStackProps extends StackProps {
  readonly pipeline: PipelineConfig;
  readonly deployRegions: readonly string[];
}

/** What every environment shares: the image repository and the pipeline's way in. */
export class SharedStack extends Stack {
  readonly registry: ContainerRegistry;

  constructor(scope: Construct, id: string, props: SharedStackProps) {
    super(scope, id, props);
    this.registry = new ContainerRegistry(this, 'Registry');
    const access = new GitHubDeployAccess(this, 'GitHub', {
      repository: this.registry.repository,
      githubOwner: props.pipeline.githubOwner,
      githubRepository: props.pipeline.githubRepository,
      deployRegions: props.deployRegions,
    });
    new CfnOutput(this, 'RepositoryUri', { value: this.registry.repository.repositoryUri });
    new CfnOutput(this, 'PublishRoleArn', { value: access.publishRole.roleArn });
    new CfnOutput(this, 'DeployRoleArn', { value: access.deployRole.roleArn });
    new CfnOutput(this, 'DiffRoleArn', { value: access.diffRole.roleArn });
  }
}
