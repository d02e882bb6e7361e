import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
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
    reason: 'aws-cdk-lib bucket-notifications provider: AWSLambdaBasicExecutionRole only lets it write its own CloudWatch logs.',
  });
}

/**
 * Acknowledges `AwsSolutions-IAM5` for each resource in `resources` that holds a wildcard, on `target` (the role or
 * policy that holds the grant), keyed by the exact ARN this library rendered and with a reason that names the actions
 * and that ARN. A bare `*` is refused: such actions belong in `addUnscopedPolicy`, where a `*` elsewhere stays reported.
 */
export function acknowledgeWildcardResources(target: IConstruct, actions: string[], resources: string[], why: string): void {
  for (const resource of resources) {
    const rendered = nagString(target, resource);
    if (!rendered.includes('*')) continue;
    if (rendered === '*') {
      throw new Error(`${target.node.path}: ${actions.join(', ')} on '*' must be granted through addUnscopedPolicy`);
    }
    acknowledge(target, { id: `AwsSolutions-IAM5[Resource::${rendered}]`, reason: `${actions.join(', ')} on ${rendered}: ${why}` });
  }
}

/**
 * Grants `statements`, whose actions AWS authorizes on `Resource: *` only (no resource-level permissions), to `role`
 * in a policy of their own, and acknowledges `AwsSolutions-IAM5[Resource::*]` on that policy alone, naming the
 * actions. A `*` added to any other policy of the role is still reported.
 */
export function addUnscopedPolicy(scope: Construct, id: string, role: iam.IRole, statements: iam.PolicyStatement[], why: string): iam.Policy {
  for (const statement of statements) {
    if (statement.resources.length !== 1 || statement.resources[0] !== '*' || statement.notActions.length > 0) {
      throw new Error(`${scope.node.path}/${id}: only statements of named actions on '*' belong here (got ${JSON.stringify(statement.toStatementJson())})`);
    }
  }
  const policy = new iam.Policy(scope, id, { statements });
  role.attachInlinePolicy(policy);
  const actions = statements.flatMap((statement) => statement.actions);
  acknowledge(policy, { id: 'AwsSolutions-IAM5[Resource::*]', reason: `${actions.join(', ')} on *: ${why}` });
  return policy;
}

/** Adds `statement` to `role`'s policy and acknowledges its wildcard resources (see acknowledgeWildcardResources). */
export function addWildcardStatement(role: iam.IRole, statement: iam.PolicyStatement, why: string): void {
  role.addToPrincipalPolicy(statement);
  acknowledgeWildcardResources(role, statement.actions, statement.resources, why);
}
