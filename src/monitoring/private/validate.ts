import { Duration, Token } from 'aws-cdk-lib';
import type { IServerlessWorkflow } from '../../serverless/serverless-workflow-ref';
import { DAG_ID_PATTERN } from '../../trigger/dag-id';
import type { PipelineJobsMonitoringOptions, ServerlessWorkflowMonitoringOptions, WorkflowMonitoringOptions } from '../workflow-monitoring-options';

/** What the library's DAGs accept as a pipeline name (`assets/dags/cdk_mwaa_mlops/config.py`). */
const PIPELINE_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const ENVIRONMENT_NAME = /^[a-zA-Z][0-9a-zA-Z_-]{0,79}$/;
const GLUE_JOB_NAME = /^[\u0020-\uD7FF\uE000-\uFFFD\t]{1,255}$/;
const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const SAGEMAKER_PREFIX = /^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$/;
const DASHBOARD_NAME = /^[A-Za-z0-9_-]{1,255}$/;
/** `arn:<partition>:airflow-serverless:<region>:<account>:workflow/<name>-<suffix>` (botocore's `WorkflowArn`). */
const WORKFLOW_ARN = /^arn:aws[a-z-]*:airflow-serverless:[a-z0-9-]+:[0-9]{12}:workflow\/[a-zA-Z0-9][a-zA-Z0-9._-]*$/;

export function validatePeriod(prop: string, period: Duration): void {
  const seconds = period.toSeconds();
  if (Token.isUnresolved(seconds)) return;
  if (seconds < 60 || seconds > 86_400 || seconds % 60 !== 0) {
    throw new Error(`${prop}: ${seconds} seconds is not allowed; use whole minutes from 1 minute to 1 day`);
  }
}

export function validatePositive(prop: string, value: number): void {
  if (Token.isUnresolved(value)) return;
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${prop}: ${value} is not allowed; use a number greater than 0`);
  }
}

export function validateDashboardName(name: string | undefined): void {
  if (name === undefined || Token.isUnresolved(name)) return;
  if (!DASHBOARD_NAME.test(name)) {
    throw new Error(`dashboardName: '${name}' is not allowed; use 1 to 255 letters, digits, '-' or '_'`);
  }
}

export function validateWorkflow(options: WorkflowMonitoringOptions): void {
  validatePipelineName(options);
  check('environmentName', options.environmentName, ENVIRONMENT_NAME,
    'use an MWAA environment name: a letter, then up to 79 letters, digits, \'-\' or \'_\'');
  check('trainingDagId', options.trainingDagId, DAG_ID_PATTERN, 'use 1 to 50 letters, digits, \'_\', \'.\' or \'-\'');
  if (options.deploymentDagId !== undefined) {
    check('deploymentDagId', options.deploymentDagId, DAG_ID_PATTERN, 'use 1 to 50 letters, digits, \'_\', \'.\' or \'-\'');
  }
  if (options.driftDagId !== undefined) {
    check('driftDagId', options.driftDagId, DAG_ID_PATTERN, 'use 1 to 50 letters, digits, \'_\', \'.\' or \'-\'');
  }
  if (options.trainingDagId === options.deploymentDagId && !Token.isUnresolved(options.trainingDagId)) {
    throw new Error(`deploymentDagId: '${options.deploymentDagId}' is also the trainingDagId; the two DAGs have different ids`);
  }
  validateJobs(options);
}

export function validateServerlessWorkflows(options: ServerlessWorkflowMonitoringOptions): void {
  validatePipelineName(options);
  checkWorkflow('trainingWorkflow', options.trainingWorkflow);
  if (options.deploymentWorkflow !== undefined) {
    checkWorkflow('deploymentWorkflow', options.deploymentWorkflow);
    const trainingArn = options.trainingWorkflow.workflowArn;
    const same = options.deploymentWorkflow === options.trainingWorkflow
      || (!Token.isUnresolved(trainingArn) && trainingArn === options.deploymentWorkflow.workflowArn);
    if (same) {
      throw new Error(`deploymentWorkflow: ${options.deploymentWorkflow.node.path} is also the trainingWorkflow; training and deployment run as two workflows`);
    }
  }
  validateJobs(options);
}

function checkWorkflow(prop: string, workflow: IServerlessWorkflow | undefined): void {
  if (workflow === undefined || workflow === null) {
    throw new Error(`${prop}: is required; pass the pipeline's IServerlessWorkflow (e.g. ServerlessWorkflow.fromWorkflowArn)`);
  }
  check(`${prop} (workflowArn)`, workflow.workflowArn, WORKFLOW_ARN,
    'use an MWAA Serverless workflow ARN, arn:<partition>:airflow-serverless:<region>:<account>:workflow/<name>-<suffix>');
}

function validatePipelineName(options: PipelineJobsMonitoringOptions): void {
  if (Token.isUnresolved(options.pipelineName)) {
    throw new Error('pipelineName: must be a literal name, not a token; it names the dashboard section and the alarms');
  }
  check('pipelineName', options.pipelineName, PIPELINE_NAME,
    'use lowercase letters, digits and single hyphens, starting with a letter (the DAGs\' pipeline name)');
}

/** The jobs and endpoint both modes watch alike. */
function validateJobs(options: PipelineJobsMonitoringOptions): void {
  check('glueJobName', options.glueJobName, GLUE_JOB_NAME, 'use a Glue job name of 1 to 255 characters');
  check('sagemakerJobNamePrefix', options.sagemakerJobNamePrefix, SAGEMAKER_PREFIX,
    'use 1 to 63 letters, digits or \'-\', starting with a letter or digit (a SageMaker job name prefix, e.g. \'churn-\')');
  if (options.endpointName !== undefined) {
    check('endpointName', options.endpointName, SAGEMAKER_NAME,
      'use a SageMaker endpoint name (1 to 63 letters, digits and \'-\', starting and ending with a letter or digit), or leave it out when no endpoint is deployed');
  }
}

function check(prop: string, value: string, pattern: RegExp, allowed: string): void {
  if (Token.isUnresolved(value)) return;
  if (!pattern.test(value)) {
    throw new Error(`${prop}: '${value}' is not allowed; ${allowed}`);
  }
}
