import { App, CfnOutput, Duration, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  AirflowEnvironment, AirflowVersion, EndpointDeployment, ModelApproval, MwaaMlopsPipeline, Orchestration, PipelineSource,
  PromotionGate, PromotionTarget, TrafficShifting,
} from '../src';

/**
 * A placeholder CodeConnections connection, so the example synthesizes with no account. Deploy with your own:
 * `cdk deploy -c connectionArn=arn:aws:codeconnections:<region>:<account>:connection/<id>` (created and authorized
 * in the console: Developer Tools, Settings, Connections).
 */
const EXAMPLE_CONNECTION_ARN = 'arn:aws:codeconnections:eu-west-1:111111111111:connection/00000000-0000-0000-0000-000000000000';

/** The quick start: the whole loop on its defaults. */
export class MwaaMlopsExampleStack extends Stack {
  public readonly pipeline: MwaaMlopsPipeline;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, { description: 'cdk-mwaa-mlops example: the whole MLOps loop on Amazon MWAA, on its defaults', ...props });
    this.pipeline = new MwaaMlopsPipeline(this, 'Churn');
    pipelineOutputs(this.pipeline);
  }
}

/**
 * The same loop on Amazon MWAA Serverless: no environment, VPC or NAT gateway, so it costs close to nothing while idle.
 * A real-time endpoint, rolled out blue/green with a canary, once a person approves the model.
 */
export class MwaaMlopsServerlessExampleStack extends Stack {
  public readonly pipeline: MwaaMlopsPipeline;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, { description: 'cdk-mwaa-mlops example: the whole MLOps loop on Amazon MWAA Serverless', ...props });
    this.pipeline = new MwaaMlopsPipeline(this, 'Churn', { orchestration: Orchestration.serverless() });
    pipelineOutputs(this.pipeline);
  }
}

/**
 * Several pipelines on one environment: a GitHub repository (through CodeConnections) deploying to a serverless
 * endpoint with automatic approval, and the starter in CodeCommit deploying to a real-time endpoint after a person
 * approves, with a canary rollout and drift detection.
 */
export class MwaaMlopsSharedExampleStack extends Stack {
  public readonly airflow: AirflowEnvironment;
  public readonly fraud: MwaaMlopsPipeline;
  public readonly demand: MwaaMlopsPipeline;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, { description: 'cdk-mwaa-mlops example: two pipelines on one shared Amazon MWAA environment', ...props });
    this.airflow = new AirflowEnvironment(this, 'Airflow', { airflowVersion: AirflowVersion.V3_3_1 });

    this.fraud = new MwaaMlopsPipeline(this, 'Fraud', {
      environment: this.airflow,
      source: PipelineSource.connection({
        connectionArn: this.node.tryGetContext('connectionArn') ?? EXAMPLE_CONNECTION_ARN,
        owner: 'acme',
        repository: 'fraud-model',
      }),
      workflow: {
        deployment: EndpointDeployment.serverless({ memorySizeMb: 2048, maxConcurrency: 10 }),
        approval: ModelApproval.AUTOMATIC,
      },
    });
    this.demand = new MwaaMlopsPipeline(this, 'Demand', {
      environment: this.airflow,
      workflow: {
        approval: ModelApproval.MANUAL,
        deployment: EndpointDeployment.realTime({ trafficShifting: TrafficShifting.canary(20, Duration.minutes(10)) }),
        // A fifth of the requests captured, checked daily against each model's training data; drift starts training.
        drift: { samplingPercentage: 20 },
      },
    });
    // The shared environment is watched once: its alarms go to the first pipeline's topic.
    this.fraud.monitoring.monitorEnvironment(this.airflow);
    new CfnOutput(this, 'WebserverUrl', { value: this.airflow.webserverUrl });
    pipelineOutputs(this.fraud);
    pipelineOutputs(this.demand);
  }
}

/** The accounts of the promotion example: replace them with yours (`cdk deploy` needs each one bootstrapped). */
const PROMOTION_ACCOUNTS = { pipeline: '111111111111', staging: '222222222222', production: '333333333333' };
const PROMOTION_REGION = 'eu-west-1';

/**
 * Promotion through three stages: dev in the pipeline's account, staging and production in accounts of their own. An
 * approved model deploys to dev; when dev's checks pass, it moves on to staging by itself; staging's checks pass, and
 * it waits in the registry for a person to approve production. The pipeline runs on MWAA Serverless.
 */
export class MwaaMlopsPromotionExampleStack extends Stack {
  /** The production endpoint, shared by the pipeline's stage and the production account's target. */
  public static readonly PRODUCTION = EndpointDeployment.realTime({
    initialInstanceCount: 2,
    trafficShifting: TrafficShifting.linear(25, Duration.minutes(5)),
  });
  public readonly pipeline: MwaaMlopsPipeline;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, {
      description: 'cdk-mwaa-mlops example: promotion from dev through staging to production, each in its own account',
      env: { account: PROMOTION_ACCOUNTS.pipeline, region: PROMOTION_REGION },
      ...props,
    });
    this.pipeline = new MwaaMlopsPipeline(this, 'Churn', {
      orchestration: Orchestration.serverless(),
      workflow: {
        stages: [
          { name: 'dev', deployment: EndpointDeployment.serverless(), gate: PromotionGate.AUTOMATIC },
          { name: 'staging', account: PROMOTION_ACCOUNTS.staging, gate: PromotionGate.MANUAL },
          {
            name: 'production',
            account: PROMOTION_ACCOUNTS.production,
            deployment: MwaaMlopsPromotionExampleStack.PRODUCTION,
            checks: { sampleRows: 100, maxErrorRate: 0.01, maxAverageLatency: Duration.millis(300) },
          },
        ],
      },
    });
    pipelineOutputs(this.pipeline);
  }
}

/** A stage's side in its own account: the role the pipeline's runs assume there, the model role, alarms and clean-up. */
export class MwaaMlopsPromotionTargetStack extends Stack {
  public readonly target: PromotionTarget;

  constructor(scope: Construct, id: string, pipeline: MwaaMlopsPipeline, stageName: 'staging' | 'production', props: StackProps = {}) {
    super(scope, id, {
      description: `cdk-mwaa-mlops example: the ${stageName} stage of pipeline ${pipeline.pipelineName}`,
      env: { account: PROMOTION_ACCOUNTS[stageName], region: PROMOTION_REGION },
      ...props,
    });
    this.target = new PromotionTarget(this, 'Stage', {
      pipelineName: pipeline.pipelineName,
      stageName,
      pipelineAccount: PROMOTION_ACCOUNTS.pipeline,
      pipelineRoles: pipeline.deploymentRunRoles,
      deployment: stageName === 'production' ? MwaaMlopsPromotionExampleStack.PRODUCTION : undefined,
    });
    new CfnOutput(this, 'EndpointName', { value: this.target.endpointName });
  }
}

/** What an operator looks up after the deploy: where to push code and data, and what to watch. */
function pipelineOutputs(pipeline: MwaaMlopsPipeline): void {
  const scope = new Construct(pipeline.node.scope!, `${pipeline.node.id}Outputs`);
  const output = (id: string, value: string | undefined) => { if (value) new CfnOutput(scope, id, { value }); };
  const environment = pipeline.environment;
  output('EnvironmentName', environment?.environmentName);
  if (environment instanceof AirflowEnvironment && environment.node.scope === pipeline) {
    output('WebserverUrl', environment.webserverUrl);
  }
  output('TrainingWorkflow', pipeline.workflow.trainingWorkflow?.workflowArn);
  output('DeploymentWorkflow', pipeline.workflow.deploymentWorkflow?.workflowArn);
  output('SourceRepository', pipeline.modelBuild.sourceRepository?.repositoryCloneUrlGrc);
  output('ModelImageRepository', pipeline.modelBuild.imageRepository.repositoryUri);
  output('RawData', `s3://${pipeline.workflow.dataBucket.bucketName}/${pipeline.workflow.rawDataPrefix}`);
  output('ModelPackageGroup', pipeline.workflow.modelPackageGroupName);
  output('EndpointName', pipeline.workflow.endpointName);
  output('FailureTopic', pipeline.topic.topicArn);
  output('Dashboard', pipeline.monitoring.dashboard.dashboardName);
  output('TriggerDeadLetterQueue', pipeline.trigger.deadLetterQueue.queueUrl);
}

/** Builds the example app; the output directory comes from CDK_OUTDIR (as with `cdk synth`) or `cdk.out`. */
export function createExampleApp(): App {
  const app = new App({ outdir: process.env.CDK_OUTDIR ?? 'cdk.out' });
  new MwaaMlopsExampleStack(app, 'MwaaMlopsExample');
  new MwaaMlopsSharedExampleStack(app, 'MwaaMlopsSharedExample');
  new MwaaMlopsServerlessExampleStack(app, 'MwaaMlopsServerlessExample');
  const promotion = new MwaaMlopsPromotionExampleStack(app, 'MwaaMlopsPromotionExample');
  new MwaaMlopsPromotionTargetStack(app, 'MwaaMlopsPromotionStaging', promotion.pipeline, 'staging');
  new MwaaMlopsPromotionTargetStack(app, 'MwaaMlopsPromotionProduction', promotion.pipeline, 'production');
  return app;
}

if (require.main === module) {
  createExampleApp().synth();
}
