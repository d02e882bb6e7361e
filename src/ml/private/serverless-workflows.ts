import { Names, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DagResources, dagStatements } from './dag-grants';
import { grantWorkflowRuns } from './nag';
import { ServerlessOrchestrationOptions } from '../../serverless/orchestration';
import {
  checkServerlessLimits, deploymentDefinition, driftDefinition, SERVERLESS_CODE_DIRECTORY, SERVERLESS_CODE_EXCLUDE,
  trainingDefinition,
} from '../../serverless/private/definitions';
import { ServerlessWorkflow } from '../../serverless/serverless-workflow';
import { WorkflowCode, WorkflowDefinition } from '../../serverless/workflow-source';

export interface ServerlessWorkflowsProps {
  readonly options: ServerlessOrchestrationOptions;
  /** The pipeline config (pipelineConfig()), embedded in each definition. */
  readonly config: Record<string, any>;
  readonly resources: DagResources;
  readonly dataBucket: s3.IBucket;
  readonly encryptionKey: kms.IKey;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** The Glue job's timeout: the workflow's sensor must be able to wait that long. */
  readonly preprocessingTimeoutMinutes: number;
}

/**
 * A pipeline on MWAA Serverless: its training workflow, when it deploys its deployment workflow, and with drift
 * detection its drift workflow, each with the grants of its own DAG only. The definitions are written to the data bucket under `workflows/<pipeline>/`; the code
 * package is the DAGs' Python package, so both modes run the same task logic.
 */
export function createServerlessWorkflows(scope: Construct, props: ServerlessWorkflowsProps) {
  checkServerlessLimits(props.config, props.preprocessingTimeoutMinutes);
  const p = props.resources.pipelineName;
  const base = Names.uniqueResourceName(scope, { maxLength: 60, separator: '-' });
  const names = { training: `${base}-training`, deployment: `${base}-deployment`, drift: `${base}-drift` };
  const common = {
    code: WorkflowCode.fromAsset(SERVERLESS_CODE_DIRECTORY, { exclude: SERVERLESS_CODE_EXCLUDE }),
    encryptionKey: props.encryptionKey,
    logRetention: props.logRetention,
    logRemovalPolicy: props.removalPolicy,
    triggerMode: props.options.triggerMode,
  };
  const definitionIn = (document: Record<string, any>) =>
    WorkflowDefinition.fromObject(document, { bucket: props.dataBucket, keyPrefix: `workflows/${p}/` });

  const stages = props.resources.stages?.map((stage) => stage.name);
  const deploys = props.resources.endpointName !== undefined || stages !== undefined;
  const deployment = deploys ? new ServerlessWorkflow(scope, 'DeploymentWorkflow', {
    ...common,
    workflowName: names.deployment,
    description: stages
      ? `cdk-mwaa-mlops ${p}: deploy an approved model package to stage ${stages.join(', then ')}`
      : `cdk-mwaa-mlops ${p}: deploy an approved model package to endpoint ${props.resources.endpointName}`,
    definition: definitionIn(deploymentDefinition({
      config: props.config, trainingWorkflowName: names.training, deploymentWorkflowName: names.deployment,
    })),
  }) : undefined;
  const training = new ServerlessWorkflow(scope, 'TrainingWorkflow', {
    ...common,
    workflowName: names.training,
    description: `cdk-mwaa-mlops ${p}: preprocess, train, evaluate and register a model`,
    definition: definitionIn(trainingDefinition({
      config: props.config,
      trainingWorkflowName: names.training,
      deploymentWorkflowName: deployment ? names.deployment : undefined,
      deploymentWorkflowArn: deployment?.workflowArn,
    })),
  });

  const drift = props.config.drift ? new ServerlessWorkflow(scope, 'DriftWorkflow', {
    ...common,
    workflowName: names.drift,
    description: `cdk-mwaa-mlops ${p}: check the traffic of endpoint ${props.resources.endpointName} for drift from the deployed model's training data`,
    definition: definitionIn(driftDefinition({ config: props.config, trainingWorkflowName: names.training, driftWorkflowName: names.drift })),
  }) : undefined;

  grantWorkflowRuns(scope, 'TrainingUnscopedPolicy', training.role, dagStatements(scope, props.resources, 'training'));
  if (deployment) {
    grantWorkflowRuns(scope, 'DeploymentUnscopedPolicy', deployment.role, dagStatements(scope, props.resources, 'deployment'));
    // On automatic approval the training workflow starts the deployment of the package it registered.
    if (props.config.registry?.auto_approve) deployment.grantStartRun(training.role);
  }
  if (drift) grantWorkflowRuns(scope, 'DriftUnscopedPolicy', drift.role, dagStatements(scope, props.resources, 'drift'));
  return { training, deployment, drift };
}
