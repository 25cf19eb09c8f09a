import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { environments, synthesize } from './synthesize';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
}

const root = join(__dirname, '..');
const policy = JSON.parse(
  readFileSync(join(root, 'bootstrap', 'cloudformation-execution-policy.json'), 'utf8'),
) as { Statement: Statement[] };
const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);
const actions = policy.Statement.flatMap((statement) => list(statement.Action));

// The IAM prefix whose actions create each CloudFormation namespace's resources. A stack
// that starts using another service fails here until the policy and this table allow it.
const IAM_PREFIX: Record<string, string> = {
  ApplicationAutoScaling: 'application-autoscaling',
  Backup: 'backup',
  CertificateManager: 'acm',
  CloudWatch: 'cloudwatch',
  EC2: 'ec2',
  ECR: 'ecr',
  ECS: 'ecs',
  ElastiCache: 'elasticache',
  ElasticLoadBalancingV2: 'elasticloadbalancing',
  IAM: 'iam',
  KMS: 'kms',
  Lambda: 'lambda',
  Logs: 'logs',
  RDS: 'rds',
  Route53: 'route53',
  S3: 's3',
  SecretsManager: 'secretsmanager',
  SNS: 'sns',
  Synthetics: 'synthetics',
  WAFv2: 'wafv2',
};

const { stack, template } = synthesize();
const stackKeys = [
  'shared',
  ...environments.flatMap(({ name }) => ['network', 'data', 'service'].map((k) => `${name}-${k}`)),
  'production-backup-copy',
];
const resources = stackKeys.flatMap((key) =>
  Object.values(
    template(key).toJSON().Resources as Record<
      string,
      { Type: string; Properties?: Record<string, unknown> }
    >,
  ),
);

describe('the CloudFormation execution policy (infra/aws/bootstrap/)', () => {
  it('allows each AWS service the stacks create resources with, and no other', () => {
    const used = new Set(
      resources
        .map(({ Type }) => /^AWS::([A-Za-z0-9]+)::/.exec(Type)?.[1])
        .filter((namespace): namespace is string => namespace !== undefined),
    );
    const needed = [...used].map((namespace) => {
      expect(IAM_PREFIX[namespace], `the IAM prefix of AWS::${namespace}`).toBeDefined();
      return IAM_PREFIX[namespace];
    });
    const granted = new Set(actions.map((action) => action.split(':')[0]));
    for (const prefix of needed) expect(granted, prefix).toContain(prefix);
    // ssm: CloudFormation reads CDK's bootstrap version parameter through this role.
    // backup-storage: creating a backup vault also mounts its storage (MountCapsule).
    const besides: (string | undefined)[] = ['ssm', 'backup-storage'];
    expect(
      [...granted].filter((prefix) => !needed.includes(prefix) && !besides.includes(prefix)),
    ).toEqual([]);
  });

  it('grants nothing on everything, and IAM only over its own roles and GitHub sign-in', () => {
    expect(actions).not.toContain('*');
    expect(actions).not.toContain('iam:*');
    for (const statement of policy.Statement) {
      expect(statement.Effect).toBe('Allow');
      if (!list(statement.Action).some((action) => action.startsWith('iam:'))) continue;
      for (const resource of list(statement.Resource))
        expect(resource).toMatch(
          /^arn:aws:iam::\*:(role\/shipshape-\*|role\/aws-service-role\/\*|oidc-provider\/token\.actions\.githubusercontent\.com)$/,
        );
    }
  });

  it("scopes roles, functions and buckets by the stacks' names, which CloudFormation gives them", () => {
    for (const key of stackKeys) expect(stack(key).stackName).toMatch(/^shipshape-/);
    const named = resources.filter(
      ({ Type, Properties = {} }) =>
        ['AWS::IAM::Role', 'AWS::Lambda::Function', 'AWS::S3::Bucket'].includes(Type) &&
        ['RoleName', 'FunctionName', 'BucketName'].some((name) => name in Properties),
    );
    expect(named).toEqual([]);
  });

  it('is the policy operations.md tells cdk bootstrap to use', () => {
    const operations = readFileSync(join(root, '..', '..', 'docs', 'operations.md'), 'utf8');
    expect(operations).toContain('infra/aws/bootstrap/cloudformation-execution-policy.json');
    expect(operations).toMatch(/cdk bootstrap[^`]*--cloudformation-execution-policies/);
  });
});
