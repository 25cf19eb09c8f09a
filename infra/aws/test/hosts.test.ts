import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildApp, environments } from './synthesize';

// Every stack in the app's construct tree, so a stack added later is checked too.
const { app } = buildApp();
const stacks = app.node
  .findAll()
  .filter((construct): construct is Stack => Stack.isStack(construct))
  .map((stack) => [stack.stackName, Template.fromStack(stack)] as const);

describe.each(environments)('$name hosts', (config) => {
  it('are checked in every one of its stacks', () => {
    expect(stacks.map(([name]) => name)).toEqual(
      expect.arrayContaining(
        ['network', 'data', 'service'].map((kind) => `shipshape-${config.name}-${kind}`),
      ),
    );
  });
});

describe.each(stacks)('%s', (_name, template) => {
  it('runs no EC2 instance: no bastion host, nothing to patch or SSH into', () => {
    template.resourceCountIs('AWS::EC2::Instance', 0);
  });

  it('has no auto scaling group, launch template or fleet that would start one', () => {
    for (const type of [
      'AWS::AutoScaling::AutoScalingGroup',
      'AWS::EC2::LaunchTemplate',
      'AWS::EC2::EC2Fleet',
      'AWS::EC2::SpotFleet',
    ])
      template.resourceCountIs(type, 0);
  });
});

describe('shared hosts', () => {
  it('are checked in the shared stack too', () => {
    expect(stacks.map(([name]) => name)).toContain('shipshape-shared');
  });
});
