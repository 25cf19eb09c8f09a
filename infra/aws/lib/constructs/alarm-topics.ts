import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { Subscribers } from '../../config/types';

export interface AlarmTopicsProps {
  readonly page: Subscribers;
  readonly ticket: Subscribers;
}

export type Severity = 'page' | 'ticket';

/**
 * Where alarms go: `page` wakes someone now, `ticket` waits for working hours. Two topics, so
 * each can reach a different tool (a pager, a team's queue), both encrypted and TLS-only.
 */
export class AlarmTopics extends Construct {
  readonly page: sns.Topic;
  readonly ticket: sns.Topic;

  constructor(scope: Construct, id: string, props: AlarmTopicsProps) {
    super(scope, id);
    const key = new kms.Key(this, 'Key', {
      description: 'Encrypts shipshape alarm notifications',
      enableKeyRotation: true,
    });
    // CloudWatch publishes to an encrypted topic only if the key lets it.
    key.grant(
      new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
      'kms:Decrypt',
      'kms:GenerateDataKey*',
    );
    this.page = topic(this, 'Page', key, props.page);
    this.ticket = topic(this, 'Ticket', key, props.ticket);
  }

  /** Sends the alarm, and its recovery, to the topic of the severity. */
  notify(alarm: cloudwatch.AlarmBase, severity: Severity): void {
    const action = new actions.SnsAction(this[severity]);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
  }
}

function topic(scope: Construct, id: string, key: kms.IKey, subscribers: Subscribers) {
  const created = new sns.Topic(scope, id, { masterKey: key, enforceSSL: true });
  for (const email of subscribers.emails)
    created.addSubscription(new subscriptions.EmailSubscription(email));
  for (const url of subscribers.httpsEndpoints)
    created.addSubscription(new subscriptions.UrlSubscription(url));
  return created;
}
