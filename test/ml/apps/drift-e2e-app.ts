/**
 * The app the drift proof synthesizes (test/python/dags/test_drift_e2e.py): two whole pipelines (MwaaMlopsPipeline:
 * build, workflow, trigger, monitoring) on one shared environment, both with drift detection, wired as a user would.
 * `watch` is the one the proof runs: its drift schedule starts `watch_drift`, its drift alarm starts `watch_training`
 * through the trigger. `other` is there so the drift DAG's calls can be shown to be denied to another pipeline's grants
 * (one role per pipeline holding only that pipeline's grants, as in workflow-e2e-app.ts). Account and region are fixed
 * so every ARN resolves.
 */
import { App, CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import {
  AirflowEnvironment, AirflowVersion, EndpointDeployment, ModelApproval, MwaaMlopsPipeline, TrafficShifting,
} from '../../../src';

const app = new App({ outdir: process.env.CDK_OUTDIR });
const stack = new Stack(app, 'DriftE2E', { env: { account: '123456789012', region: 'eu-west-1' } });
const environment = new AirflowEnvironment(stack, 'Airflow', { airflowVersion: AirflowVersion.V3_3_1 });

const pipelines = ['Watch', 'Other'].map((id) => new MwaaMlopsPipeline(stack, id, {
  environment,
  workflow: {
    // A person approves: a model the drift alarm retrained waits for approval, it never deploys by itself.
    approval: ModelApproval.MANUAL,
    deployment: EndpointDeployment.realTime({
      trafficShifting: TrafficShifting.allAtOnce(Duration.seconds(0)),
      terminationWait: Duration.seconds(0),
    }),
    drift: { schedule: events.Schedule.rate(Duration.hours(6)), minRecords: 50, coolDown: Duration.hours(12) },
    retries: 0,
    pollInterval: Duration.seconds(1),
  },
}));

for (const pipeline of pipelines) {
  const w = pipeline.workflow;
  const only = new iam.Role(stack, `${pipeline.node.id}Only`, { assumedBy: new iam.ServicePrincipal('airflow-env.amazonaws.com') });
  w.grantRunDags(only);
  new CfnOutput(stack, `${pipeline.node.id}Dags`, {
    value: JSON.stringify({
      pipeline: w.pipelineName,
      training: w.trainingDagId,
      deployment: w.deploymentDagId,
      drift: w.driftDagId,
      onlyRole: stack.getLogicalId(only.node.defaultChild as iam.CfnRole),
      driftAlarm: stack.getLogicalId(w.driftAlarm!.node.defaultChild as any),
    }),
  });
}
new CfnOutput(stack, 'ExecutionRole', { value: stack.getLogicalId(environment.executionRole.node.defaultChild as iam.CfnRole) });
app.synth();
