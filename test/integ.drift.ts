/*
 * Integ test: drift detection in both modes. A pipeline on an MWAA environment and one on MWAA Serverless, each with a
 * real-time endpoint whose traffic is captured (20 %), a daily drift check, and the drift alarm starting training.
 * `npx projen integ` verifies the committed snapshot without credentials; test/python/test_drift_templates.py runs
 * cfn-lint on it and test/python/test_checkov.py runs checkov. Deploying it needs one AWS account; the model package
 * groups are retained by design.
 */
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { MwaaMlopsPipeline, Orchestration } from '../src';

const app = new App();
const removalPolicy = RemovalPolicy.DESTROY;
const stack = new Stack(app, 'IntegDrift');
const drift = { samplingPercentage: 20, schedule: events.Schedule.rate(Duration.days(1)), coolDown: Duration.hours(12) };

new MwaaMlopsPipeline(stack, 'Churn', { modelBuild: { removalPolicy }, workflow: { drift, removalPolicy } });
new MwaaMlopsPipeline(stack, 'Fraud', {
  orchestration: Orchestration.serverless(),
  modelBuild: { removalPolicy },
  workflow: { drift: { ...drift, threshold: 0.5 }, removalPolicy },
});

new IntegTest(app, 'Drift', { testCases: [stack] });
