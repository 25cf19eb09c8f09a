import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { pipeline } from '../config/pipeline';
import { production } from '../config/production';
import { staging } from '../config/staging';
import type { EnvironmentConfig } from '../config/types';
import { createShipshape } from '../lib/shipshape';

export const IMAGE_TAG = '0123456789abcdef0123456789abcdef01234567';
export const IMAGE_DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

/** The feature flags `cdk synth` runs with, so tests see the same templates. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(__dirname, '..', 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return cdkJson.context;
}

/** Builds the whole app as bin/app.ts does, with a fixed image tag and digest. */
export function buildApp(environments: readonly EnvironmentConfig[] = [staging, production]) {
  const app = new App({ context: cdkJsonContext() });
  const built = createShipshape(app, {
    pipeline,
    environments,
    imageTag: IMAGE_TAG,
    imageDigest: IMAGE_DIGEST,
  });
  return { app, ...built };
}

/** Every stack and its template, keyed `shared` and `<environment>-<network|data|service|backup-copy>`. */
export function synthesize(environments: readonly EnvironmentConfig[] = [staging, production]) {
  const { shared, environments: built } = buildApp(environments);
  const stacks = new Map<string, Stack>([['shared', shared]]);
  for (const [name, { network, data, service, backupCopy }] of built) {
    for (const [kind, stack] of Object.entries({ network, data, service }))
      stacks.set(`${name}-${kind}`, stack);
    if (backupCopy !== undefined) stacks.set(`${name}-backup-copy`, backupCopy);
  }
  const templates = new Map<string, Template>();
  const stack = (key: string): Stack => {
    const found = stacks.get(key);
    if (found === undefined) throw new Error(`no stack ${key}`);
    return found;
  };
  const template = (key: string): Template => {
    const cached = templates.get(key) ?? Template.fromStack(stack(key));
    templates.set(key, cached);
    return cached;
  };
  return { stack, template };
}

export const environments = [staging, production] as const;

/** Resources of one type, as [logicalId, properties] pairs. */
export function resourcesOf(template: Template, type: string): [string, Record<string, unknown>][] {
  return Object.entries(template.findResources(type)).map(([id, resource]) => [
    id,
    (resource as { Properties?: Record<string, unknown> }).Properties ?? {},
  ]);
}

/** What every log bucket from `createLogBucket` holds: encrypted, private, expiring. */
export function logBucketProperties(expirationInDays: number) {
  return {
    BucketEncryption: {
      ServerSideEncryptionConfiguration: [
        { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
      ],
    },
    PublicAccessBlockConfiguration: {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    },
    LifecycleConfiguration: {
      // Plain values match partially both in CDK's assertions and in toMatchObject.
      Rules: [{ ExpirationInDays: expirationInDays, Status: 'Enabled' }],
    },
  };
}
