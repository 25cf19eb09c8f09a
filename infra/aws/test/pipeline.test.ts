import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { pipeline } from '../config/pipeline';
import { resourcesOf, synthesize } from './synthesize';

const { template } = synthesize();
const shared = template('shared');
const repo = `repo:${pipeline.githubOwner}/${pipeline.githubRepository}`;

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const role = (descriptionPattern: RegExp) => {
  const found = resourcesOf(shared, 'AWS::IAM::Role').find(([, candidate]) =>
    descriptionPattern.test(String(candidate.Description)),
  );
  if (found === undefined) throw new Error(`no role ${descriptionPattern}`);
  const [id, properties] = found;
  const policies = resourcesOf(shared, 'AWS::IAM::Policy').filter(([, policy]) =>
    JSON.stringify(policy.Roles).includes(id),
  );
  const statements = policies.flatMap(
    ([, policy]) => (policy.PolicyDocument as { Statement: Statement[] }).Statement,
  );
  return {
    trust: (properties.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement,
    statements,
  };
};
const actionsOf = (statements: Statement[]) =>
  statements.flatMap(({ Action }) => (Array.isArray(Action) ? Action : [Action])).sort();

describe('the image repository shared by every environment', () => {
  it('keeps tags immutable, scans on push and expires old images', () => {
    shared.hasResourceProperties('AWS::ECR::Repository', {
      ImageTagMutability: 'IMMUTABLE',
      ImageScanningConfiguration: { ScanOnPush: true },
      LifecyclePolicy: { LifecyclePolicyText: Match.anyValue() },
    });
    const [[, repository] = ['', {}]] = resourcesOf(shared, 'AWS::ECR::Repository');
    const rules = (
      JSON.parse(
        (repository.LifecyclePolicy as { LifecyclePolicyText: string }).LifecyclePolicyText,
      ) as { rules: { selection: Record<string, unknown> }[] }
    ).rules;
    // Never an untagged rule: a multi-arch image's platform manifests and its signature are
    // untagged, and would expire under the tagged index that needs them.
    expect(rules.map((rule) => rule.selection)).toEqual([
      {
        tagStatus: 'tagged',
        tagPatternList: ['*'],
        countType: 'imageCountMoreThan',
        countNumber: 200,
      },
    ]);
    shared.hasResource('AWS::ECR::Repository', { DeletionPolicy: 'Retain' });
  });
});

describe('GitHub Actions access through OIDC', () => {
  it("trusts GitHub's token issuer for AWS STS only", () => {
    shared.hasResourceProperties('AWS::IAM::OIDCProvider', {
      Url: 'https://token.actions.githubusercontent.com',
      ClientIdList: ['sts.amazonaws.com'],
    });
    shared.resourceCountIs('AWS::IAM::User', 0);
    shared.resourceCountIs('AWS::IAM::AccessKey', 0);
  });

  const trustOf = (subjects: string[]): unknown[] => [
    expect.objectContaining({
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: {
        StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
        StringLike: { 'token.actions.githubusercontent.com:sub': subjects },
      },
    }),
  ];

  it('lets main and version tags push images to the one repository, and do nothing else', () => {
    const { trust, statements } = role(/image pushes of/);
    expect(trust).toEqual(trustOf([`${repo}:ref:refs/heads/main`, `${repo}:ref:refs/tags/v*`]));
    expect(actionsOf(statements)).toEqual(
      [
        'ecr:BatchCheckLayerAvailability',
        'ecr:BatchGetImage',
        'ecr:CompleteLayerUpload',
        'ecr:GetAuthorizationToken',
        'ecr:GetDownloadUrlForLayer',
        'ecr:InitiateLayerUpload',
        'ecr:PutImage',
        'ecr:UploadLayerPart',
      ].sort(),
    );
    const pushTo = statements.find(
      ({ Action }) => Array.isArray(Action) && Action.includes('ecr:PutImage'),
    );
    expect(JSON.stringify(pushTo?.Resource)).toMatch(/RegistryRepository/);
  });

  it("lets only this repository's staging and production environments deploy, through CDK's roles", () => {
    const { trust, statements } = role(/deploys of/);
    expect(trust).toEqual(
      trustOf([`${repo}:environment:staging`, `${repo}:environment:production`]),
    );
    expect(actionsOf(statements)).toEqual(['sts:AssumeRole']);
    const assumed = JSON.stringify(statements[0]?.Resource);
    for (const kind of ['deploy', 'file-publishing', 'lookup'])
      expect(assumed).toContain(`cdk-hnb659fds-${kind}-role-`);
    expect(assumed).not.toContain('*');
  });

  it('lets pull requests only look, through the lookup role', () => {
    const { trust, statements } = role(/pull requests/);
    expect(trust).toEqual(trustOf([`${repo}:pull_request`]));
    expect(actionsOf(statements)).toEqual(['sts:AssumeRole']);
    const assumed = JSON.stringify(statements[0]?.Resource);
    expect(assumed).toContain('cdk-hnb659fds-lookup-role-');
    expect(assumed).not.toMatch(/deploy-role|publishing-role/);
  });
});
