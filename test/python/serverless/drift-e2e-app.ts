/**
 * The app test_drift_iam.py synthesizes: one pipeline on Amazon MWAA Serverless with drift detection (real-time
 * endpoint, manual approval), so its three workflows (training, deployment, drift) each have a role of their own whose
 * policies the recorded calls of their runs are evaluated against. Account and region are fixed so the proof can
 * resolve every ARN (and the region's scikit-learn image).
 */
import { App, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { EndpointDeployment, ModelWorkflow, TrafficShifting } from '../../../src';
import { ServerlessWorkflow } from '../../../src/serverless/serverless-workflow';

const app = new App({ outdir: process.env.CDK_OUTDIR });
const stack = new Stack(app, 'ServerlessDriftE2E', { env: { account: '123456789012', region: 'eu-west-1' } });
const codeKey = new kms.Key(stack, 'CodeKey', { enableKeyRotation: true });
const codeBucket = new s3.Bucket(stack, 'Code', { encryptionKey: codeKey, enforceSSL: true, versioned: true });

const workflow = new ModelWorkflow(stack, 'Watch', {
  serverless: {},
  pipelineName: 'watch',
  imageRepository: new ecr.Repository(stack, 'WatchImages'),
  preprocessingCode: { bucket: codeBucket, prefix: 'preprocessing/watch/' },
  deployment: EndpointDeployment.realTime({ trafficShifting: TrafficShifting.allAtOnce(Duration.seconds(0)), terminationWait: Duration.seconds(0) }),
  drift: {},
  retries: 0,
  pollInterval: Duration.seconds(1),
});
const logicalId = (w: ServerlessWorkflow | undefined) => w && stack.getLogicalId(w.cfnWorkflow);
const roleId = (w: ServerlessWorkflow | undefined) => w && stack.getLogicalId(w.role.node.defaultChild as iam.CfnRole);
new CfnOutput(stack, 'WatchWorkflows', {
  value: JSON.stringify({
    pipeline: workflow.pipelineName,
    training: logicalId(workflow.trainingWorkflow),
    deployment: logicalId(workflow.deploymentWorkflow),
    drift: logicalId(workflow.driftWorkflow),
    trainingRole: roleId(workflow.trainingWorkflow),
    deploymentRole: roleId(workflow.deploymentWorkflow),
    driftRole: roleId(workflow.driftWorkflow),
  }),
});
app.synth();
