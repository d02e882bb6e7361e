import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { DagResources, dagRunStatements, isUnscoped, wildcardReason } from './dag-grants';
import { IAirflowEnvironment } from '../../airflow/airflow-environment-base';
import { acknowledgeBucketNotificationsHandler, acknowledgeWildcardResources, addUnscopedPolicy } from '../../private/nag-ids';

/**
 * Grants the environment's execution role what this pipeline's DAGs call: the scoped statements through the
 * environment, the calls without resource-level permissions (UNSCOPED_CALLS) in a policy of its own.
 * Each wildcard resource is acknowledged on the role by its exact ARN, with the reason its statement gives.
 * Returns whether the role took the grants (false when the environment's role is unknown to this app).
 */
export function grantDagRuns(scope: Construct, environment: IAirflowEnvironment, dagResources: DagResources): boolean {
  const role = (environment as { executionRole?: iam.IRole }).executionRole;
  const statements = dagRunStatements(scope, dagResources);
  const granted = statements.filter((s) => !isUnscoped(s)).map((s) => environment.addToRolePolicy(s).statementAdded);
  if (!role || !granted.every(Boolean)) return false;
  const unscoped = statements.filter(isUnscoped);
  addUnscopedPolicy(scope, 'DagRunUnscopedPolicy', role, unscoped, unscopedReason(unscoped, 'DAG'));
  for (const statement of statements.filter((s) => !isUnscoped(s))) {
    const why = wildcardReason(statement);
    if (why) acknowledgeWildcardResources(role, statement.actions, statement.resources, why);
  }
  return true;
}

/**
 * Grants a serverless workflow's role what its own DAG calls, as `grantDagRuns` does for an environment's role: the
 * scoped statements on the role, an action without resource-level permissions in a policy of its own.
 */
export function grantWorkflowRuns(scope: Construct, id: string, role: iam.IRole, statements: iam.PolicyStatement[]): void {
  for (const statement of statements.filter((s) => !isUnscoped(s))) {
    role.addToPrincipalPolicy(statement);
    const why = wildcardReason(statement);
    if (why) acknowledgeWildcardResources(role, statement.actions, statement.resources, why);
  }
  const unscoped = statements.filter(isUnscoped);
  if (unscoped.length > 0) {
    addUnscopedPolicy(scope, id, role, unscoped, unscopedReason(unscoped, 'workflow'));
  }
}

/** Why each call the runs make on `*` is there: SageMaker has no resource-level permissions for any of them. */
const UNSCOPED_CALLS: Record<string, (runner: string) => string> = {
  'sagemaker:ListModelPackages': (runner) => `the deployment ${runner} lists the packages of this pipeline's group (the call filters by ModelPackageGroupName)`,
  'sagemaker:ListTrainingJobs': (runner) => `the training ${runner}'s drift cool-down lists this pipeline's recent training jobs (NameContains <pipeline>-train-)`,
};

function unscopedReason(statements: iam.PolicyStatement[], runner: 'DAG' | 'workflow'): string {
  const reasons = statements.flatMap((statement) => statement.actions).map((action) => {
    const reason = UNSCOPED_CALLS[action];
    if (!reason) throw new Error(`${action} on '*' has no reason in UNSCOPED_CALLS: scope it, or say why it cannot be`);
    return reason(runner);
  });
  return `${reasons.join('; ')}; SageMaker has no resource-level permissions for ${reasons.length > 1 ? 'these calls' : 'it'}.`;
}

/** Acknowledges, with reasons, the findings of aws-cdk-lib's own providers that ModelWorkflow causes. */
export function acknowledgeWorkflowFindings(scope: Construct): void {
  acknowledgeBucketNotificationsHandler(scope);
}
