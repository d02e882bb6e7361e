import * as events from 'aws-cdk-lib/aws-events';

/**
 * State-change events the monitoring matches, as the services document them.
 *
 * CodePipeline documents only `PipelineDuration` and `FailedPipelineExecutions` as CloudWatch metrics, without their
 * namespace or dimensions (https://docs.aws.amazon.com/codepipeline/latest/userguide/metrics-dimensions.html), and no
 * metric for started or succeeded executions; its execution events are documented in "Monitoring CodePipeline
 * events", https://docs.aws.amazon.com/codepipeline/latest/userguide/detect-state-changes-cloudwatch-events.html.
 */
export function pipelineExecution(pipelineName: string, state: 'STARTED' | 'SUCCEEDED' | 'FAILED'): events.EventPattern {
  return {
    source: ['aws.codepipeline'],
    detailType: ['CodePipeline Pipeline Execution State Change'],
    detail: { pipeline: [pipelineName], state: [state] },
  };
}

export function pipelineFailedMessage(buildPath: string): events.RuleTargetInput {
  const field = (name: string) => events.EventField.fromPath(`$.detail.${name}`);
  return events.RuleTargetInput.fromText(
    `[${buildPath}] Model build pipeline ${field('pipeline')} failed: execution ${field('execution-id')}`,
  );
}

/**
 * Glue publishes job-run metrics only when the job turns them on (`--enable-metrics`,
 * `--enable-observability-metrics`), which the job's owner decides; its `Glue Job State Change` events are always
 * sent ("Automating AWS Glue with EventBridge", https://docs.aws.amazon.com/glue/latest/dg/automating-awscwe.html;
 * abnormal end states in https://docs.aws.amazon.com/glue/latest/dg/job-run-statuses.html).
 */
export const GLUE_FAILED_STATES = ['FAILED', 'TIMEOUT', 'ERROR'];

export function glueJobFailed(jobName: string): events.EventPattern {
  return {
    source: ['aws.glue'],
    detailType: ['Glue Job State Change'],
    detail: { jobName: [jobName], state: GLUE_FAILED_STATES },
  };
}

export function glueJobFailedMessage(pipelineName: string): events.RuleTargetInput {
  const field = (name: string) => events.EventField.fromPath(`$.detail.${name}`);
  return events.RuleTargetInput.fromText(
    `[${pipelineName}] Glue job ${field('jobName')} run ${field('jobRunId')} ended ${field('state')}: ${field('message')}`,
  );
}

/** SageMaker jobs whose state changes are matched: the event's `detail` is the job's Describe* response. */
export interface SageMakerJobKind {
  readonly label: string;
  readonly detailType: string;
  readonly nameField: string;
  readonly statusField: string;
}

/**
 * "SageMaker Training Job State Change" and "SageMaker Processing Job State Change", documented in "Automating
 * SageMaker AI with Amazon EventBridge", https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html;
 * end states Failed and Stopped as in the DescribeTrainingJob/DescribeProcessingJob API reference.
 */
export const TRAINING_JOB: SageMakerJobKind = {
  label: 'Training',
  detailType: 'SageMaker Training Job State Change',
  nameField: 'TrainingJobName',
  statusField: 'TrainingJobStatus',
};

export const PROCESSING_JOB: SageMakerJobKind = {
  label: 'Processing',
  detailType: 'SageMaker Processing Job State Change',
  nameField: 'ProcessingJobName',
  statusField: 'ProcessingJobStatus',
};

export const SAGEMAKER_FAILED_STATES = ['Failed', 'Stopped'];

export function sageMakerJobFailed(kind: SageMakerJobKind, namePrefix: string): events.EventPattern {
  return {
    source: ['aws.sagemaker'],
    detailType: [kind.detailType],
    detail: { [kind.nameField]: [{ prefix: namePrefix }], [kind.statusField]: SAGEMAKER_FAILED_STATES },
  };
}

export function sageMakerJobFailedMessage(kind: SageMakerJobKind, pipelineName: string): events.RuleTargetInput {
  const field = (name: string) => events.EventField.fromPath(`$.detail.${name}`);
  return events.RuleTargetInput.fromText(
    `[${pipelineName}] SageMaker ${kind.label.toLowerCase()} job ${field(kind.nameField)} ended ${field(kind.statusField)}: ${field('FailureReason')}`,
  );
}

/**
 * MWAA Serverless workflow runs: source `aws.airflow-serverless`, detail-types `MWAA Serverless Workflow Run
 * Started|Queued|Running|Succeeded|Failed|Stopped|Timeout` ("Amazon MWAA Serverless events",
 * https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-airflow-serverless.html). The service publishes no
 * CloudWatch metrics of its own, and ignores DAG callbacks, so these events are the only signal of a failed run.
 */
export const SERVERLESS_SOURCE = 'aws.airflow-serverless';
export const SERVERLESS_RUN_FAILED = ['MWAA Serverless Workflow Run Failed', 'MWAA Serverless Workflow Run Timeout'];
export const SERVERLESS_RUN_SUCCEEDED = ['MWAA Serverless Workflow Run Succeeded'];

/**
 * Runs of one workflow that ended with one of `detailTypes`.
 *
 * ASSUMPTION, the one place to fix it: AWS documents the detail-types but no sample event, so the `detail` fields are
 * unknown (research/mwaa-serverless.md §6). We assume the service fills the envelope's `resources` with the workflow's
 * ARN, as AWS services do for the resource an event is about, and match it by prefix so that a versioned or run ARN
 * under the workflow's (`<workflowArn>/...`, `<workflowArn>:<version>`) matches too. Workflow ARNs end in a
 * 10-character suffix the service appends (`workflow/<name>-<suffix>`), so the prefix does not reach another workflow.
 * If a real event shows the ARN only in `detail` (e.g. `detail.workflowArn`), match that field here instead.
 */
export function serverlessWorkflowRuns(workflowArn: string, detailTypes: string[]): events.EventPattern {
  return {
    source: [SERVERLESS_SOURCE],
    detailType: detailTypes,
    resources: events.Match.prefix(workflowArn),
  };
}

/**
 * What the topic is told of a failed or timed-out run. Only envelope fields, which every EventBridge event has: the
 * `detail` fields are unknown (see `serverlessWorkflowRuns`), and a missing path would leave the message empty.
 */
export function serverlessRunFailedMessage(
  pipelineName: string, label: string, workflow: { workflowName: string; workflowArn: string },
): events.RuleTargetInput {
  return events.RuleTargetInput.fromText(
    `[${pipelineName}] MWAA Serverless ${label} workflow ${workflow.workflowName}: ${events.EventField.detailType} at ${events.EventField.time} `
    + `(event ${events.EventField.eventId}). The run's error and its tasks: ListWorkflowRuns and GetWorkflowRun on ${workflow.workflowArn}; `
    + 'task logs in the workflow\'s log group',
  );
}
