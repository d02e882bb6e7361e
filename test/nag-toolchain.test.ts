/*
 * cdk-nag on the apps a new user writes: stacks with an explicit account and region, an imported environment, the
 * example app and the integ fixtures. `npx projen test` runs this file on the floor aws-cdk-lib and cdk-nag (the root
 * node_modules); `npx projen test:newest-cdk` runs it again on the newest ones from the registry (test/newest-cdk).
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { createExampleApp } from '../examples/app';
import { AirflowEnvironment, AirflowVersion, EndpointDeployment, IAirflowEnvironment, MwaaMlopsPipeline } from '../src';
import { nagFindings } from './nag';

// The integ fixtures build their App when loaded: every App this file creates is recorded, as the integ runner sees it.
jest.mock('aws-cdk-lib', () => {
  const cdk = jest.requireActual('aws-cdk-lib');
  class RecordedApp extends cdk.App {
    constructor(props?: object) {
      super(props);
      ((globalThis as any).recordedApps ??= []).push(this);
    }
  }
  return new Proxy(cdk, { get: (target, key) => (key === 'App' ? RecordedApp : target[key]) });
});

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';

/** An app whose stacks may name this account and region, with their availability zones cached (as `cdk.context.json` would). */
function appWithContext(): App {
  return new App({ context: { [`availability-zones:account=${ACCOUNT}:region=${REGION}`]: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'] } });
}

function importedEnvironment(stack: Stack): IAirflowEnvironment {
  return AirflowEnvironment.fromEnvironmentAttributes(stack, 'Env', {
    environmentName: 'shared-env',
    executionRole: iam.Role.fromRoleArn(stack, 'ExecRole', `arn:aws:iam::${ACCOUNT}:role/mwaa-exec`),
    airflowVersion: AirflowVersion.V3_3_1,
    sourceBucket: s3.Bucket.fromBucketName(stack, 'Src', 'shared-env-source'),
  });
}

test('the aws-cdk-lib and cdk-nag under test are the ones the runner asked for', () => {
  // test:newest-cdk names the versions it installed; without it this is the floor in the root node_modules.
  const expected = { 'aws-cdk-lib': process.env.EXPECT_AWS_CDK_LIB, 'cdk-nag': process.env.EXPECT_CDK_NAG };
  for (const [name, version] of Object.entries(expected)) {
    const actual = JSON.parse(fs.readFileSync(require.resolve(`${name}/package.json`), 'utf-8')).version;
    const floor = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'node_modules', name, 'package.json'), 'utf-8')).version;
    expect(actual).toBe(version ?? floor);
  }
});

describe('a stack with an explicit account and region', () => {
  test.each([
    ['defaults', {}],
    ['a serverless endpoint, automatic approval', { workflow: { deployment: EndpointDeployment.serverless() } }],
  ])('MwaaMlopsPipeline (%s): cdk-nag finds nothing unacknowledged', (_name, props) => {
    const app = appWithContext();
    const stack = new Stack(app, 'Prod', { env: { account: ACCOUNT, region: REGION } });
    new MwaaMlopsPipeline(stack, 'Churn', props);
    expect(nagFindings(app)).toEqual([]);
  });

  test('an imported environment in an explicit-env stack: nothing unacknowledged', () => {
    const app = appWithContext();
    const stack = new Stack(app, 'Prod', { env: { account: ACCOUNT, region: REGION } });
    new MwaaMlopsPipeline(stack, 'Churn', { environment: importedEnvironment(stack) });
    expect(nagFindings(app)).toEqual([]);
  });
});

test('MwaaMlopsPipeline on an imported environment with its execution role: nothing unacknowledged', () => {
  const app = new App();
  const stack = new Stack(app, 'Imported');
  new MwaaMlopsPipeline(stack, 'Churn', { environment: importedEnvironment(stack) });
  new MwaaMlopsPipeline(stack, 'Fraud', { environment: importedEnvironment(new Stack(app, 'Other')) });
  expect(nagFindings(app)).toEqual([]);
});

test('the functions the library writes run on the newest runtime of their family that this aws-cdk-lib knows', () => {
  const stack = new Stack(new App(), 'Runtimes');
  new MwaaMlopsPipeline(stack, 'Churn');
  const functions = stack.node.findAll().filter((c): c is lambda.Function => c instanceof lambda.Function);
  const ours = functions.filter((f) => ['DagTriggerFunction', 'EndpointCleanupFunction'].includes(f.node.id) || f.node.path.includes('/Trigger/'));
  expect(ours.length).toBeGreaterThanOrEqual(2);
  for (const fn of ours) {
    const runtime = fn.runtime;
    const family = lambda.Runtime.ALL.filter((r) => r.family === runtime.family && /\d/.test(r.name)).map((r) => r.name);
    const newest = family.sort((a, b) => a.localeCompare(b, undefined, { numeric: true })).pop();
    expect(`${fn.node.path}: ${runtime.name}`).toBe(`${fn.node.path}: ${newest}`);
  }
});

test('the example app: nothing unacknowledged', () => {
  expect(nagFindings(createExampleApp())).toEqual([]);
});

describe('the integ fixtures', () => {
  const fixtures = ['airflow-environment', 'dag-trigger', 'model-build-pipeline', 'model-workflow', 'mwaa-mlops-pipeline'];

  test.each(fixtures)('integ.%s.ts: nothing unacknowledged', (fixture) => {
    const apps: IConstruct[] = ((globalThis as any).recordedApps ??= []);
    const before = apps.length;
    jest.requireActual(`./integ.${fixture}`);
    expect(apps.length - before).toBe(1);
    expect(nagFindings(apps[apps.length - 1])).toEqual([]);
  });
});
