import { Token } from 'aws-cdk-lib';
import { validateNumber } from '../../private/validate-number';

/** The DAG config's pipeline-name rule (config.py: PIPELINE_NAME and PIPELINE_NAME_MAX). */
export const PIPELINE_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** SageMaker names the DAGs derive (`<pipeline>-config-<12 hex>-t<try>`) must stay within 63 characters. */
export const PIPELINE_NAME_MAX = 24;
const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const INSTANCE_TYPE = /^ml\.[a-z0-9]+\.[a-z0-9]+$/;
const PREFIX = /^([\w!.*'()-]+\/)*$/;
const METRIC = /^[a-z0-9_]+$/;
/** The starter model's metrics, all in [0, 1]. */
const UNIT_METRICS = ['auc', 'accuracy', 'precision', 'recall', 'f1'];

export function validatePipelineName(name: string): void {
  if (Token.isUnresolved(name)) {
    throw new Error('pipelineName: must be a literal string (it names the DAGs, the Glue job and SageMaker resources at synth time)');
  }
  if (!PIPELINE_NAME.test(name) || name.length > PIPELINE_NAME_MAX) {
    throw new Error(
      `pipelineName: '${name}' is not allowed; use lowercase letters, digits and single hyphens, starting with a letter, ` +
      `at most ${PIPELINE_NAME_MAX} characters (DAG ids '<name>_training'/'<name>_deployment', and SageMaker names of ` +
      'at most 63 characters like \'<name>-config-<run key>-t<try>\', derive from it)',
    );
  }
}

export function validateSageMakerName(prop: string, name: string): void {
  if (Token.isUnresolved(name)) return;
  if (!SAGEMAKER_NAME.test(name)) {
    throw new Error(`${prop}: '${name}' is not a SageMaker name; use letters, digits and hyphens, starting with a letter or digit, at most 63 characters`);
  }
}

export function validateInstanceType(prop: string, instanceType: string): void {
  if (Token.isUnresolved(instanceType)) return;
  if (!INSTANCE_TYPE.test(instanceType)) {
    throw new Error(`${prop}: '${instanceType}' is not a SageMaker instance type; expected 'ml.<family>.<size>', e.g. 'ml.m5.large'`);
  }
}

export function validateDataPrefix(prop: string, prefix: string): void {
  if (Token.isUnresolved(prefix)) return;
  if (!PREFIX.test(prefix)) {
    throw new Error(`${prop}: '${prefix}' is not a key prefix; use '' or path segments each ending in '/', e.g. 'raw/' or 'team/raw/'`);
  }
}

export function validateMetric(metric: string, threshold: number): void {
  if (!METRIC.test(metric)) {
    throw new Error(`evaluation.metric: '${metric}' is not a metric name; use lowercase letters, digits and '_', e.g. 'auc'`);
  }
  if (UNIT_METRICS.includes(metric)) {
    validateNumber('evaluation.threshold', threshold, { min: 0, max: 1, note: `${metric} is a fraction` });
  } else {
    validateNumber('evaluation.threshold', threshold, {});
  }
}

export function validateSplit(train: number, validation: number): void {
  validateNumber('preprocessing.trainFraction', train, { min: 0.05, max: 0.95 });
  validateNumber('preprocessing.validationFraction', validation, { min: 0.01, max: 0.9 });
  if (train + validation >= 1) {
    throw new Error(
      `preprocessing.trainFraction + validationFraction: ${train} + ${validation} = ${train + validation}; ` +
      'the sum must be below 1 to leave a test split',
    );
  }
}

/** The stage words of the SageMaker names the DAGs create (`<pipeline>-<stage>-<run key>`; naming.py). */
export const RESOURCE_STAGES = ['train', 'eval', 'model', 'config', 'base', 'drift'];

/**
 * IAM scopes a pipeline's SageMaker resources by name prefix (`<pipeline>-train-*`). A pipeline whose name holds a
 * stage word (`churn-model`) would make names another pipeline's prefix covers (`churn-model-*`), so it is refused.
 */
export function validatePipelineNameSegments(name: string): void {
  const clash = name.split('-').slice(1).find((segment) => RESOURCE_STAGES.includes(segment));
  if (clash) {
    throw new Error(
      `pipelineName: '${name}' contains the segment '${clash}'; the DAGs name SageMaker resources '<pipeline>-${clash}-<run key>', ` +
      `so the grants of a pipeline named '${name.slice(0, name.indexOf(`-${clash}`))}' would cover this one's. Avoid the segments ${RESOURCE_STAGES.join(', ')}`,
    );
  }
}
