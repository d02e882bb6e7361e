/*
 * Integ test: promotion through two stages in the pipeline's own account. An approved model deploys to dev (a
 * serverless endpoint, automatic gate); when dev's checks pass the package moves on to prod (real-time, linear
 * traffic shifting) by itself. The pipeline creates both stages' PromotionTargets. `npx projen integ` verifies the
 * committed snapshot without credentials; test/python/test_promotion_templates.py runs cfn-lint on it. Deploying it
 * needs one AWS account; the model package group is retained by design.
 */
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { EndpointDeployment, MwaaMlopsPipeline, PromotionGate, TrafficShifting } from '../src';

const app = new App();
const removalPolicy = RemovalPolicy.DESTROY;
const stack = new Stack(app, 'IntegPromotion');

new MwaaMlopsPipeline(stack, 'Churn', {
  modelBuild: { removalPolicy },
  workflow: {
    stages: [
      { name: 'dev', deployment: EndpointDeployment.serverless(), gate: PromotionGate.AUTOMATIC, checks: { sampleRows: 10 } },
      {
        name: 'prod',
        deployment: EndpointDeployment.realTime({ trafficShifting: TrafficShifting.linear(50, Duration.minutes(5)) }),
        checks: { maxErrorRate: 0.01, maxAverageLatency: Duration.millis(500) },
      },
    ],
    removalPolicy,
  },
});

new IntegTest(app, 'Promotion', { testCases: [stack] });
