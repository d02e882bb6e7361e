import { Construct } from 'constructs';
import { acknowledge } from '../../private/acknowledge';

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
      reason: 'aws-cdk-lib attaches AWSLambdaVPCAccessExecutionRole to a function placed in a VPC; it only manages the network interfaces Lambda needs there.',
    });
  }
}
