import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledge } from '../../private/acknowledge';
import { nagString } from '../../private/nag-ids';

/** Acknowledges, with reasons, what cdk-nag reports on the trigger's own resources. */
export function acknowledgeTriggerFindings(trigger: Construct & { logGroup: { logGroupArn: string } }, options: { usesVpc: boolean }): void {
  const queue = trigger.node.tryFindChild('DeadLetterQueue');
  if (queue) {
    acknowledge(queue, {
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the trigger rules and function; a dead-letter queue has none of its own.',
    });
  }
  const role = trigger.node.findChild('Role');
  acknowledge(role, {
    id: `AwsSolutions-IAM5[Resource::${nagString(trigger, Stack.of(trigger).resolve(trigger.logGroup.logGroupArn))}]`,
    reason: "logs:CreateLogStream/PutLogEvents on the streams of the function's own log group; stream names are chosen by Lambda.",
  });
  if (options.usesVpc) {
    acknowledge(role, {
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
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: 'aws-cdk-lib bucket-notifications provider: the managed policy only lets it write its own CloudWatch logs.',
  });
}
