/*
 * Integ test: ModelWorkflow on a created MWAA environment (two pipelines on one environment: real-time with canary
 * traffic shifting and manual approval; serverless with automatic approval and spot training) and on an imported
 * environment (source bucket, execution role and Airflow version given). `npx projen integ` verifies the committed
 * snapshot without credentials; test/python/test_model_workflow_templates.py runs cfn-lint on it. Deploying it needs an
 * AWS account and, for the imported stack, an environment named `integ-mwaa` with that bucket and role; the model
 * package groups are retained by design (the record of what was trained) and must be deleted by hand afterwards.
 */
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  AirflowEnvironment, AirflowVersion, EndpointDeployment, EnvironmentClass, ModelApproval, ModelWorkflow, TrafficShifting,
} from '../src';

const app = new App();
const removalPolicy = RemovalPolicy.DESTROY;

/* ---------- a created environment with two pipelines ---------- */
const created = new Stack(app, 'IntegModelWorkflow');
const environment = new AirflowEnvironment(created, 'Airflow', {
  airflowVersion: AirflowVersion.V3_3_1,
  environmentClass: EnvironmentClass.MW1_SMALL,
  removalPolicy,
});
const images = new ecr.Repository(created, 'Images', {
  imageTagMutability: ecr.TagMutability.IMMUTABLE,
  imageScanOnPush: true,
  removalPolicy,
  emptyOnDelete: true,
});
const code = new s3.Bucket(created, 'Code', {
  enforceSSL: true,
  versioned: true,
  encryption: s3.BucketEncryption.S3_MANAGED,
  blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  removalPolicy,
  autoDeleteObjects: true,
});
// The fixture's own bucket, not the library's: the test's staged-code bucket lives as long as one integ run, with no access logs.
Validations.of(code).acknowledge({ id: 'AwsSolutions-S1', reason: 'Integ fixture: this test bucket (staged-code) is deleted with the stack; server access logs would outlive it.' });
const alerts = new sns.Topic(created, 'Alerts', { enforceSSL: true });

new ModelWorkflow(created, 'Churn', {
  environment,
  pipelineName: 'churn',
  imageRepository: images,
  preprocessingCode: { bucket: code, prefix: 'churn/preprocessing/' },
  deployment: EndpointDeployment.realTime({
    instanceType: 'ml.m5.large',
    initialInstanceCount: 2,
    trafficShifting: TrafficShifting.canary(10, Duration.minutes(5)),
    rollbackAlarms: { maxInvocation5xxErrors: 5, maxModelLatency: Duration.millis(500) },
  }),
  approval: ModelApproval.MANUAL,
  notificationTopic: alerts,
  removalPolicy,
});

new ModelWorkflow(created, 'Fraud', {
  environment,
  pipelineName: 'fraud',
  imageRepository: images,
  preprocessingCode: { bucket: code, prefix: 'fraud/preprocessing/' },
  deployment: EndpointDeployment.serverless({ memorySizeMb: 3072, maxConcurrency: 20 }),
  approval: ModelApproval.AUTOMATIC,
  training: {
    instanceType: 'ml.m5.xlarge',
    volumeSize: Size.gibibytes(50),
    maxRuntime: Duration.hours(2),
    hyperparameters: { epochs: '20' },
    spot: { maxWait: Duration.hours(4) },
  },
  notificationTopic: alerts,
  removalPolicy,
});

/* ---------- an imported environment with one pipeline ---------- */
const imported = new Stack(app, 'IntegModelWorkflowImported');
const existing = AirflowEnvironment.fromEnvironmentAttributes(imported, 'Airflow', {
  environmentName: 'integ-mwaa',
  sourceBucket: s3.Bucket.fromBucketName(imported, 'AirflowSource', 'integ-mwaa-source'),
  executionRole: iam.Role.fromRoleName(imported, 'AirflowExecution', 'integ-mwaa-execution'),
  airflowVersion: AirflowVersion.V3_3_1,
});
new ModelWorkflow(imported, 'Demand', {
  environment: existing,
  pipelineName: 'demand',
  imageRepository: ecr.Repository.fromRepositoryName(imported, 'Images', 'demand-model'),
  preprocessingCode: { bucket: s3.Bucket.fromBucketName(imported, 'Code', 'integ-model-code'), prefix: 'demand/preprocessing/' },
  deployment: EndpointDeployment.realTime({ trafficShifting: TrafficShifting.linear(25, Duration.minutes(2)) }),
  removalPolicy,
});

new IntegTest(app, 'ModelWorkflowInteg', { testCases: [created, imported], diffAssets: true });
