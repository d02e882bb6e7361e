import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledge } from '../../private/acknowledge';
import { BASIC_EXECUTION_ROLE_FINDING } from '../../private/nag-ids';

/** Acknowledges, with reasons, what cdk-nag reports on the trigger's own resources. */
export function acknowledgeTriggerFindings(trigger: Construct, options: { usesVpc: boolean }): void {
  const queue = trigger.node.tryFindChild('DeadLetterQueue');
  if (queue) {
    acknowledge(queue, {
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the trigger rules and function; a dead-letter queue has none of its own.',
    });
  }
  if (options.usesVpc) {
    acknowledge(trigger.node.findChild('Role'), {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      reason: 'aws-cdk-lib attaches this managed policy to a function placed in a VPC; it only manages the network interfaces Lambda needs there.',
    });
  }
}

/** aws-cdk-lib's singleton that writes bucket notification settings (here: EventBridge on). */
const BUCKET_NOTIFICATIONS_HANDLER = 'BucketNotificationsHandler050a0587b7544547bf325f094a3db834';

/** Acknowledges the findings on aws-cdk-lib's bucket-notifications provider, which `enableEventBridgeNotification` adds. */
export function acknowledgeBucketNotificationsHandler(scope: Construct): void {
  const handler = Stack.of(scope).node.tryFindChild(BUCKET_NOTIFICATIONS_HANDLER);
  if (!handler) return;
  acknowledge(handler, {
    id: BASIC_EXECUTION_ROLE_FINDING,
    reason: 'aws-cdk-lib bucket-notifications provider: the managed policy only lets it write its own CloudWatch logs.',
  });
}
