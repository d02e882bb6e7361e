/*
 * Integ test: MWAA Serverless. A whole pipeline on `Orchestration.serverless()` (automatic approval, a real-time endpoint
 * with canary rollout) and a `ServerlessWorkflow` of its own (a YAML definition from a file). `npx projen integ` verifies
 * the committed snapshot without credentials; test/python/test_serverless_templates.py runs cfn-lint on it. Deploying
 * it needs an AWS account in a region with MWAA Serverless; the model package group is retained by design.
 */
import * as path from 'path';
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  EndpointDeployment, ModelApproval, MwaaMlopsPipeline, Orchestration, ServerlessWorkflow, TrafficShifting, WorkflowDefinition,
} from '../src';

const app = new App();
const removalPolicy = RemovalPolicy.DESTROY;
const stack = new Stack(app, 'IntegServerless');

new MwaaMlopsPipeline(stack, 'Churn', {
  orchestration: Orchestration.serverless(),
  modelBuild: { removalPolicy },
  workflow: {
    approval: ModelApproval.AUTOMATIC,
    deployment: EndpointDeployment.realTime({ trafficShifting: TrafficShifting.canary(10, Duration.minutes(5)) }),
    removalPolicy,
  },
});

new ServerlessWorkflow(stack, 'Hello', {
  definition: WorkflowDefinition.fromAsset(path.join(__dirname, 'fixtures', 'serverless', 'hello.yaml')),
  logRemovalPolicy: removalPolicy,
});

new IntegTest(app, 'Serverless', { testCases: [stack] });
