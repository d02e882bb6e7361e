import { Stack } from 'aws-cdk-lib';
import { Construct, IConstruct } from 'constructs';
import { acknowledge } from './acknowledge';

/** The finding on a function role that carries AWS's basic execution policy (aws-cdk-lib providers use it). */
export const BASIC_EXECUTION_ROLE_FINDING = 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';

/**
 * Renders an ARN (or any string token) the way cdk-nag prints it inside a finding id:
 * `{ Ref: X }` as `<X>`, `{ Fn::GetAtt: [X, Y] }` as `<X.Y>`, `${X}` in `Fn::Sub` as `<X>`, and `Fn::Join` parts concatenated.
 */
export function nagString(scope: IConstruct, value: unknown): string {
  return render(Stack.of(scope).resolve(value));
}

function render(value: any): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    if ('Ref' in value) return `<${value.Ref}>`;
    if ('Fn::GetAtt' in value) return `<${value['Fn::GetAtt'].join('.')}>`;
    if ('Fn::Sub' in value && typeof value['Fn::Sub'] === 'string') {
      return value['Fn::Sub'].replace(/\$\{([^}]+)\}/g, '<$1>');
    }
    if ('Fn::Join' in value) {
      const [separator, parts] = value['Fn::Join'];
      return (parts as any[]).map(render).join(separator);
    }
  }
  return JSON.stringify(value);
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
