import { Aws, Duration, Validations } from 'aws-cdk-lib';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface GitHubDeployAccessProps {
  readonly repository: ecr.IRepository;
  readonly githubOwner: string;
  readonly githubRepository: string;
  /** Regions the environments live in: the bootstrap roles the pipeline may assume. */
  readonly deployRegions: readonly string[];
}

const GITHUB_ISSUER = 'token.actions.githubusercontent.com';

/**
 * GitHub Actions reaches AWS through OIDC: short-lived credentials for one repository's
 * workflows, no access keys stored anywhere. Two roles, each the least its job needs.
 */
export class GitHubDeployAccess extends Construct {
  /** For the release workflow on main and on version tags: push images, nothing else. */
  readonly publishRole: iam.Role;
  /** For the deploy workflow's `staging` and `production` environments: `cdk deploy`. */
  readonly deployRole: iam.Role;
  /** For pull requests: `cdk diff` against what is deployed, nothing more. */
  readonly diffRole: iam.Role;

  constructor(scope: Construct, id: string, props: GitHubDeployAccessProps) {
    super(scope, id);
    const provider = new iam.OidcProviderNative(this, 'Provider', {
      url: `https://${GITHUB_ISSUER}`,
      clientIds: ['sts.amazonaws.com'],
    });
    const repo = `repo:${props.githubOwner}/${props.githubRepository}`;
    // StringLike, so a pattern may name every version tag; the others are exact.
    const trustedFor = (subjects: string[]) =>
      new iam.WebIdentityPrincipal(provider.oidcProviderArn, {
        StringEquals: { [`${GITHUB_ISSUER}:aud`]: 'sts.amazonaws.com' },
        StringLike: { [`${GITHUB_ISSUER}:sub`]: subjects },
      });

    this.publishRole = new iam.Role(this, 'PublishRole', {
      description: `GitHub Actions image pushes of ${props.githubOwner}/${props.githubRepository}`,
      assumedBy: trustedFor([`${repo}:ref:refs/heads/main`, `${repo}:ref:refs/tags/v*`]),
      maxSessionDuration: Duration.hours(1),
    });
    props.repository.grantPullPush(this.publishRole);
    Validations.of(this.publishRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken has no resource to scope to; pushes are limited to one repository.',
    });

    this.deployRole = new iam.Role(this, 'DeployRole', {
      description: `GitHub Actions deploys of ${props.githubOwner}/${props.githubRepository}`,
      assumedBy: trustedFor([`${repo}:environment:staging`, `${repo}:environment:production`]),
      maxSessionDuration: Duration.hours(1),
    });
    this.deployRole.addToPolicy(
      assumeBootstrapRoles(['deploy', 'file-publishing', 'lookup'], props.deployRegions),
    );

    this.diffRole = new iam.Role(this, 'DiffRole', {
      description: `Read-only cdk diff for pull requests of ${props.githubOwner}/${props.githubRepository}`,
      assumedBy: trustedFor([`${repo}:pull_request`]),
      maxSessionDuration: Duration.hours(1),
    });
    this.diffRole.addToPolicy(assumeBootstrapRoles(['lookup'], props.deployRegions));
  }
}

/** CDK deploys by assuming the roles `cdk bootstrap` made; that is all the pipeline needs. */
function assumeBootstrapRoles(kinds: string[], regions: readonly string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: ['sts:AssumeRole'],
    resources: kinds.flatMap((kind) =>
      regions.map(
        (region) =>
          `arn:${Aws.PARTITION}:iam::${Aws.ACCOUNT_ID}:role/cdk-hnb659fds-${kind}-role-${Aws.ACCOUNT_ID}-${region}`,
      ),
    ),
  });
}
