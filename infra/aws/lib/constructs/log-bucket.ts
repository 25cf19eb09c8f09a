import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

/**
 * A private bucket for records a service writes about itself (access logs, canary runs):
 * S3-managed keys (the only kind ALB access logs accept), TLS only, no public access, kept
 * `days` and retained with the stack. Its own reads are not logged: `why` says why not.
 */
export function createLogBucket(
  scope: Construct,
  id: string,
  { days, why }: { days: number; why: string },
): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    lifecycleRules: [{ expiration: Duration.days(days) }],
    removalPolicy: RemovalPolicy.RETAIN,
  });
  Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason: why });
  return bucket;
}
