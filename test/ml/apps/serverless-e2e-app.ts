/**
 * The app the serverless Python proofs synthesize (test/python/serverless): the two pipelines of workflow-e2e-app.ts
 * on Amazon MWAA Serverless, each with a training and a deployment workflow of its own role. Account and region are
 * fixed so the proofs can resolve every ARN.
 */
import { App, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { EndpointDeployment, ModelApproval, ModelWorkflow, TrafficShifting } from '../../../src';
import { ServerlessWorkflow } from '../../../src/serverless/serverless-workflow';

const app = new App({ outdir: process.env.CDK_OUTDIR });
const stack = new Stack(app, 'ServerlessE2E', { env: { account: '123456789012', region: 'eu-west-1' } });
const codeKey = new kms.Key(stack, 'CodeKey', { enableKeyRotation: true });
const codeBucket = new s3.Bucket(stack, 'Code', { encryptionKey: codeKey, enforceSSL: true, versioned: true });
const topic = new sns.Topic(stack, 'Alerts', { enforceSSL: true });

const workflows = [
  new ModelWorkflow(stack, 'Retention', {
    serverless: {},
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
    serverless: {},
    pipelineName: 'payments',
    imageRepository: new ecr.Repository(stack, 'PaymentsImages'),
    preprocessingCode: { bucket: codeBucket, prefix: 'preprocessing/payments/' },
    deployment: EndpointDeployment.serverless({ memorySizeMb: 3072 }),
    evaluation: { metric: 'f1', threshold: 0.8 },
    retries: 0,
    pollInterval: Duration.seconds(1),
  }),
];
const logicalId = (workflow: ServerlessWorkflow | undefined) => workflow && stack.getLogicalId(workflow.cfnWorkflow);
const roleId = (workflow: ServerlessWorkflow | undefined) => workflow && stack.getLogicalId(workflow.role.node.defaultChild as iam.CfnRole);
for (const workflow of workflows) {
  new CfnOutput(stack, `${workflow.node.id}Workflows`, {
    value: JSON.stringify({
      pipeline: workflow.pipelineName,
      training: logicalId(workflow.trainingWorkflow),
      deployment: logicalId(workflow.deploymentWorkflow),
      trainingRole: roleId(workflow.trainingWorkflow),
      deploymentRole: roleId(workflow.deploymentWorkflow),
    }),
  });
}
app.synth();
