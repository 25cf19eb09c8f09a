import { join } from 'node:path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as synthetics from 'aws-cdk-lib/aws-synthetics';
import { Construct } from 'constructs';
import type { AlarmTopics } from './alarm-topics';
import { createLogBucket } from './log-bucket';
import { runbookLink } from './runbook';

export interface JourneyCanaryProps {
  /** The public HTTPS entrance, as users reach it. */
  readonly baseUrl: string;
  readonly topics: AlarmTopics;
}

/** The user the canary saves a birthday for: letters only, as the API requires. */
export const CANARY_USERNAME = 'shipshapecanary';
/** How often the canary walks the journey. */
export const CANARY_EVERY = Duration.minutes(5);
/** Requests the journey sends per run: one PUT, one GET. */
export const CANARY_REQUESTS_PER_RUN = 2;
const REQUEST_TIMEOUT = Duration.seconds(10);

/**
 * A probe from outside: every few minutes a CloudWatch Synthetics canary saves and reads a
 * birthday through the public HTTPS entrance (DNS, WAF, ALB, a task, the database), and pages
 * when it fails. It sees what users see when no user is around to see it.
 */
export class JourneyCanary extends Construct {
  readonly canary: synthetics.Canary;
  readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: JourneyCanaryProps) {
    super(scope, id);
    // A run's report (logs, HAR) matters for a few weeks at most.
    const artifacts = createLogBucket(this, 'Artifacts', {
      days: 30,
      why: "It holds only the canary's own run reports, written by its role; access logs of them would log the canary.",
    });

    this.canary = new synthetics.Canary(this, 'Canary', {
      runtime: synthetics.Runtime.SYNTHETICS_NODEJS_PUPPETEER_13_0,
      test: synthetics.Test.custom({
        code: synthetics.Code.fromAsset(join(__dirname, '..', '..', 'canary')),
        handler: 'index.handler',
      }),
      schedule: synthetics.Schedule.rate(CANARY_EVERY),
      timeout: Duration.minutes(1),
      environmentVariables: {
        BASE_URL: props.baseUrl,
        CANARY_USERNAME,
        REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT.toMilliseconds()),
      },
      artifactsBucketLocation: { bucket: artifacts },
      provisionedResourceCleanup: true,
    });
    this.acknowledgeCanaryRole(artifacts);

    const [failed, runs] = [2, 3];
    this.alarm = new cloudwatch.Alarm(this, 'JourneyCanary', {
      // One run per period: each datapoint is one run's result.
      metric: this.canary.metricSuccessPercent({ period: CANARY_EVERY }),
      threshold: 100,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: runs,
      datapointsToAlarm: failed,
      // A canary that stops running is itself an outage: of the only view from outside.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmDescription: `The outside probe could not save and read a birthday through the public entrance in ${failed} of its last ${runs} runs. ${runbookLink('JourneyCanary')}`,
    });
    props.topics.notify(this.alarm, 'page');
  }

  /** The role CDK gives a canary, scoped as far as Synthetics' names allow. */
  private acknowledgeCanaryRole(artifacts: s3.Bucket) {
    const stack = Stack.of(this);
    const bucket = String(
      stack.resolve(stack.getLogicalId(artifacts.node.defaultChild as s3.CfnBucket)),
    );
    const acknowledge = (resource: string, reason: string) =>
      Validations.of(this.canary.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${resource}]`,
        reason,
      });
    acknowledge(
      '*',
      's3:ListAllMyBuckets has no resource, and PutMetricData is held to the CloudWatchSynthetics namespace by a condition.',
    );
    acknowledge(
      `<${bucket}.Arn>/*`,
      'The canary writes each run report as new objects, named by run, in its own artifacts bucket only.',
    );
    acknowledge(
      `arn:<AWS::Partition>:logs:${stack.region}:<AWS::AccountId>:log-group:/aws/lambda/cwsyn-*`,
      'Synthetics names the canary function (cwsyn-<name>-<id>) itself; this is that function writing its own log group.',
    );
  }
}
