/**
 * The app the Python proofs synthesize (test/python/ml): one environment with two pipelines, as a user would wire
 * them, plus one role per pipeline that holds only that pipeline's grants (to show the grants do not reach across).
 * Account and region are fixed so the proofs can resolve every ARN.
 */
import { App, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import {
  AirflowEnvironment, AirflowVersion, EndpointDeployment, ModelApproval, ModelWorkflow, TrafficShifting,
} from '../../../src';

const app = new App({ outdir: process.env.CDK_OUTDIR });
const stack = new Stack(app, 'WorkflowE2E', { env: { account: '123456789012', region: 'eu-west-1' } });
const environment = new AirflowEnvironment(stack, 'Airflow', { airflowVersion: AirflowVersion.V3_3_1 });
const codeKey = new kms.Key(stack, 'CodeKey', { enableKeyRotation: true });
const codeBucket = new s3.Bucket(stack, 'Code', { encryptionKey: codeKey, enforceSSL: true, versioned: true });
const topic = new sns.Topic(stack, 'Alerts', { enforceSSL: true });

const workflows = [
  new ModelWorkflow(stack, 'Retention', {
    environment,
    pipelineName: 'retention',
    imageRepository: new ecr.Repository(stack, 'RetentionImages'),
    preprocessingCode: { bucket: codeBucket, prefix: 'preprocessing/retention/' },
    deployment: EndpointDeployment.realTime({ initialInstanceCount: 2, trafficShifting: TrafficShifting.linear(25, Duration.minutes(2)) }),
    approval: ModelApproval.AUTOMATIC,
    training: { spot: { maxWait: Duration.hours(2) } },
    notificationTopic: topic,
    retries: 0,
    pollInterval: Duration.seconds(1),
  }),
  new ModelWorkflow(stack, 'Payments', {
    environment,
    pipelineName: 'payments',
    imageRepository: new ecr.Repository(stack, 'PaymentsImages'),
    preprocessingCode: { bucket: codeBucket, prefix: 'preprocessing/payments/' },
    deployment: EndpointDeployment.serverless({ memorySizeMb: 3072 }),
    evaluation: { metric: 'f1', threshold: 0.8 },
    retries: 0,
    pollInterval: Duration.seconds(1),
  }),
];
for (const workflow of workflows) {
  const only = new iam.Role(stack, `${workflow.node.id}Only`, { assumedBy: new iam.ServicePrincipal('airflow-env.amazonaws.com') });
  workflow.grantRunDags(only);
  new CfnOutput(stack, `${workflow.node.id}Dags`, {
    value: JSON.stringify({
      pipeline: workflow.pipelineName,
      training: workflow.trainingDagId,
      deployment: workflow.deploymentDagId,
      onlyRole: stack.getLogicalId(only.node.defaultChild as iam.CfnRole),
    }),
  });
}
new CfnOutput(stack, 'ExecutionRole', { value: stack.getLogicalId(environment.executionRole.node.defaultChild as iam.CfnRole) });
app.synth();
