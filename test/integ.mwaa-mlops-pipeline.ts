/*
 * Integ test: the whole loop, `MwaaMlopsPipeline` on its defaults, with every part set to be deleted with the stack
 * (the defaults keep data, images and logs). `npx projen integ` verifies the committed snapshot without credentials.
 * Deploying it needs an AWS account; the environment alone takes 20-30 minutes to create.
 */
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { MwaaMlopsPipeline } from '../src';

const app = new App();
const stack = new Stack(app, 'IntegMwaaMlopsPipeline');
const removalPolicy = RemovalPolicy.DESTROY;

new MwaaMlopsPipeline(stack, 'Churn', {
  environmentProps: { removalPolicy },
  modelBuild: { removalPolicy },
  workflow: { removalPolicy },
});

new IntegTest(app, 'MwaaMlopsPipelineInteg', { testCases: [stack], diffAssets: true });
