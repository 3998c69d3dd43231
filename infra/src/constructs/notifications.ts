import { KmsAlias } from '@cdktf/provider-aws/lib/kms-alias';
import { KmsKey } from '@cdktf/provider-aws/lib/kms-key';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { Construct } from 'constructs';
import { policyDocument } from '../iam';
import type { ResourceNames } from '../names';

export interface NotificationsProps {
  names: ResourceNames;
  alertEmail?: string;
  resultsEmail?: string;
}

/**
 * Two SNS topics: the pipeline's results (`topic`, the functions' NOTIFY_TOPIC_ARN, e-mailed to RESULTS_EMAIL)
 * and the CloudWatch alarms (`alarmsTopic`, e-mailed to ALERT_EMAIL). Kept apart so that nothing a pipeline publishes can reach
 * the operators' alarm inbox. Both are encrypted with one customer-managed key, the one CMK here: CloudWatch
 * alarms cannot publish to a topic under the AWS-managed `aws/sns` key, whose policy no one can extend to the
 * CloudWatch service.
 */
export class Notifications extends Construct {
  readonly topic: SnsTopic;
  readonly alarmsTopic: SnsTopic;
  readonly key: KmsKey;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    const { names } = props;
    const root = `arn:aws:iam::${names.account}:root`;
    this.key = new KmsKey(this, 'key', {
      description: `Encrypts the ${names.topic} and ${names.alarmsTopic} topics`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: policyDocument([
        {
          // Delegates to IAM: roles in this account use the key when their own policy allows it.
          Sid: 'AccountAdministersAndDelegates',
          Effect: 'Allow',
          Principal: { AWS: root },
          // Alias changes need the action on the key too, not only on the alias.
          Action: [
            'kms:CancelKeyDeletion',
            'kms:CreateAlias',
            'kms:Decrypt',
            'kms:DeleteAlias',
            'kms:DescribeKey',
            'kms:DisableKeyRotation',
            'kms:EnableKeyRotation',
            'kms:GenerateDataKey',
            'kms:GetKeyPolicy',
            'kms:GetKeyRotationStatus',
            'kms:ListResourceTags',
            'kms:PutKeyPolicy',
            'kms:ScheduleKeyDeletion',
            'kms:TagResource',
            'kms:UntagResource',
            'kms:UpdateAlias',
            'kms:UpdateKeyDescription',
          ],
          Resource: '*',
        },
        {
          Sid: 'CloudWatchAlarmsPublish',
          Effect: 'Allow',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
          Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          Resource: '*',
          Condition: { StringEquals: { 'aws:SourceAccount': names.account } },
        },
      ]),
    });
    new KmsAlias(this, 'alias', { name: `alias/${names.topic}`, targetKeyId: this.key.keyId });
    this.topic = new SnsTopic(this, 'topic', { name: names.topic, kmsMasterKeyId: this.key.arn });
    this.alarmsTopic = new SnsTopic(this, 'alarms-topic', {
      name: names.alarmsTopic,
      kmsMasterKeyId: this.key.arn,
    });
    // Each pending until the recipient follows the confirmation link AWS e-mails them.
    if (props.alertEmail) {
      new SnsTopicSubscription(this, 'email', {
        topicArn: this.alarmsTopic.arn,
        protocol: 'email',
        endpoint: props.alertEmail,
      });
    }
    if (props.resultsEmail) {
      new SnsTopicSubscription(this, 'results-email', {
        topicArn: this.topic.arn,
        protocol: 'email',
        endpoint: props.resultsEmail,
      });
    }
  }
}
