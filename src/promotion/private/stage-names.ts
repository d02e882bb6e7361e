/**
 * The names both sides of a promotion derive from the pipeline's and the stage's names, so the pipeline's account and
 * a target account agree on them without a cross-account reference (CloudFormation has none): the role the pipeline's
 * runs assume in the target account, the stage's model role, its rollback alarms, its key alias and its endpoint.
 * The DAG package derives the names of what its runs create the same way (assets/dags/cdk_mwaa_mlops/naming.py).
 */

/** A stage's name: lowercase letters, digits and single hyphens (a registry lifecycle stage and part of SageMaker names). */
export const STAGE_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** `<pipeline>--<stage>-config-<12 hex>-t<try>` stays within SageMaker's 63 characters with a 24-character pipeline name. */
export const STAGE_NAME_MAX = 12;

/**
 * `<pipeline>--<stage>`: the stem of every name of the stage. Pipeline and stage names hold single hyphens only, so
 * the double hyphen keeps a stage's names apart from another pipeline's (`churn--dev` is no pipeline `churn-dev`'s).
 */
export function stageResourceName(pipelineName: string, stageName: string): string {
  return `${pipelineName}--${stageName}`;
}

/** The role the pipeline's deployment runs assume to deploy to the stage (in the stage's account). */
export function stageDeployRoleName(pipelineName: string, stageName: string): string {
  return `mlops-${stageResourceName(pipelineName, stageName)}-deploy`;
}

/** The role SageMaker runs the stage's models as (in the stage's account). */
export function stageModelRoleName(pipelineName: string, stageName: string): string {
  return `mlops-${stageResourceName(pipelineName, stageName)}-model`;
}

/** The stage's endpoint. */
export function stageEndpointName(pipelineName: string, stageName: string): string {
  return stageResourceName(pipelineName, stageName);
}

/** The prefix of every model and endpoint config the deployment runs create for the stage (`<prefix>model-<run key>`). */
export function stageResourcePrefix(pipelineName: string, stageName: string): string {
  return `${stageResourceName(pipelineName, stageName)}-`;
}

/** The alias of the key that encrypts the stage's endpoint storage (in the stage's account). */
export function stageKeyAlias(pipelineName: string, stageName: string): string {
  return `alias/mlops-${stageResourceName(pipelineName, stageName)}`;
}

/** The stage's rollback alarms (real-time endpoints): 5XX errors, then model latency. */
export function stageRollbackAlarmNames(pipelineName: string, stageName: string): string[] {
  return ['invocation-5xx', 'model-latency'].map((alarm) => `${stageResourceName(pipelineName, stageName)}-${alarm}`);
}
