/**
 * The app the promotion proofs synthesize (test/python/dags/test_promotion_e2e.py): a pipeline account with one
 * environment and two pipelines with stages, and a second account holding the production stage of one of them, wired
 * as a user would (one CDK app, one stack per account). Accounts and region are fixed so every ARN resolves.
 */
import { App, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  AirflowEnvironment, AirflowVersion, EndpointDeployment, ModelApproval, ModelWorkflow, PromotionGate, PromotionTarget, TrafficShifting,
} from '../../../src';

export const PIPELINE_ACCOUNT = '123456789012';
export const PRODUCTION_ACCOUNT = '210987654321';
const region = 'eu-west-1';

const app = new App({ outdir: process.env.CDK_OUTDIR });
const stack = new Stack(app, 'PromotionPipeline', { env: { account: PIPELINE_ACCOUNT, region } });
const environment = new AirflowEnvironment(stack, 'Airflow', { airflowVersion: AirflowVersion.V3_3_1 });
const codeKey = new kms.Key(stack, 'CodeKey', { enableKeyRotation: true });
const codeBucket = new s3.Bucket(stack, 'Code', { encryptionKey: codeKey, enforceSSL: true, versioned: true });
const topic = new sns.Topic(stack, 'Alerts', { enforceSSL: true });
const production = EndpointDeployment.realTime({ initialInstanceCount: 2, trafficShifting: TrafficShifting.linear(50, Duration.minutes(1)) });

const churn = new ModelWorkflow(stack, 'Churn', {
  environment,
  pipelineName: 'churn',
  imageRepository: new ecr.Repository(stack, 'ChurnImages'),
  preprocessingCode: { bucket: codeBucket, prefix: 'preprocessing/churn/' },
  approval: ModelApproval.MANUAL,
  stages: [
    { name: 'dev', deployment: EndpointDeployment.serverless(), gate: PromotionGate.AUTOMATIC, checks: { sampleRows: 5 } },
    { name: 'prod', account: PRODUCTION_ACCOUNT, deployment: production, checks: { sampleRows: 5, maxErrorRate: 0.2 } },
  ],
  notificationTopic: topic,
  retries: 0,
  pollInterval: Duration.seconds(1),
});
const fraud = new ModelWorkflow(stack, 'Fraud', {
  environment,
  pipelineName: 'fraud',
  imageRepository: new ecr.Repository(stack, 'FraudImages'),
  preprocessingCode: { bucket: codeBucket, prefix: 'preprocessing/fraud/' },
  stages: [{ name: 'qa' }],
  retries: 0,
  pollInterval: Duration.seconds(1),
});

const productionStack = new Stack(app, 'PromotionProd', { env: { account: PRODUCTION_ACCOUNT, region } });
const target = new PromotionTarget(productionStack, 'ChurnProd', {
  pipelineName: 'churn',
  stageName: 'prod',
  pipelineAccount: PIPELINE_ACCOUNT,
  pipelineRoles: churn.deploymentRunRoles,
  deployment: production,
});

for (const workflow of [churn, fraud]) {
  new CfnOutput(stack, `${workflow.node.id}Dags`, {
    value: JSON.stringify({ pipeline: workflow.pipelineName, training: workflow.trainingDagId, deployment: workflow.deploymentDagId }),
  });
}
new CfnOutput(stack, 'ExecutionRole', { value: stack.getLogicalId(environment.executionRole.node.defaultChild as iam.CfnRole) });
new CfnOutput(productionStack, 'ProdDeployRole', { value: productionStack.getLogicalId(target.deployRole.node.defaultChild as iam.CfnRole) });
app.synth();
