import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { DagResources, dagRunStatements } from './dag-grants';
import { acknowledge } from '../../private/acknowledge';
import { acknowledgeBucketNotificationsHandler, nagString } from '../../private/nag-ids';

/** Why each kind of wildcard resource in this construct's policies is as narrow as the service allows. */
const REASONS: Array<[RegExp, string]> = [
  [/^\*$/, 'The action has no resource-level permissions (ecr:GetAuthorizationToken, SageMaker List calls, cloudwatch:PutMetricData with a namespace condition).'],
  [/sagemaker:.*:(training-job|processing-job|model|endpoint-config)\//, 'The DAGs name the SageMaker resources of each run <pipeline>-<stage>-<run key>: the pattern covers this pipeline\'s stage only.'],
  [/model-package\//, 'Model package ARNs end in a version number SageMaker assigns: the pattern covers this pipeline\'s group only.'],
  [/:log-group:/, 'SageMaker and Glue name their log streams (and Glue its log groups) per job run: the pattern covers their log groups only.'],
  [/./, 'Object keys below this pipeline\'s own prefix of the data bucket (or the staged-code prefix), which each run names at run time.'],
];

function reasonFor(rendered: string): string {
  return REASONS.find(([pattern]) => pattern.test(rendered))![1];
}

/** Acknowledges the wildcard resources of `statements` on `target` (where cdk-nag reports them), with their reasons. */
function acknowledgeWildcards(target: Construct, statements: any[]): void {
  const seen = new Set<string>();
  for (const statement of statements) {
    for (const resource of [statement.Resource].flat()) {
      const rendered = nagString(target, resource);
      if (!rendered.includes('*') || seen.has(rendered)) continue;
      seen.add(rendered);
      acknowledge(target, { id: `AwsSolutions-IAM5[Resource::${rendered}]`, reason: reasonFor(rendered) });
    }
  }
}

function policyStatements(role: iam.IRole): any[] {
  const policies = role.node.findAll().filter((c): c is iam.Policy => c instanceof iam.Policy);
  return policies.flatMap((p) => Stack.of(p).resolve(p.document.toJSON())?.Statement ?? []);
}

/** Acknowledges, with reasons, the findings on the roles ModelWorkflow creates and the grants it adds. */
export function acknowledgeWorkflowFindings(scope: Construct, dagResources: DagResources, environmentRole?: iam.IRole): void {
  for (const role of scope.node.findAll().filter((c): c is iam.Role => c instanceof iam.Role)) {
    acknowledgeWildcards(role, policyStatements(role));
  }
  if (environmentRole) {
    const dagStatements = dagRunStatements(scope, dagResources).map((s) => Stack.of(scope).resolve(s.toStatementJson()));
    acknowledgeWildcards(environmentRole as unknown as Construct, dagStatements);
  }
  acknowledgeBucketNotificationsHandler(scope);
}
