/*
 * Integ test: an MWAA environment on its defaults plus a customer managed key and a DAG folder.
 * `npx projen integ` verifies the committed snapshot without credentials; deploying it (integ-runner
 * --update-on-failed with an AWS account) creates a real environment, which takes 20-30 minutes.
 */
import * as path from 'path';
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AirflowEnvironment, EnvironmentClass } from '../src';

const app = new App();
const stack = new Stack(app, 'IntegAirflowEnvironment');
const key = new kms.Key(stack, 'Key', { enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });
const env = new AirflowEnvironment(stack, 'Airflow', {
  environmentClass: EnvironmentClass.MW1_MICRO,
  encryptionKey: key,
  dagsDirectory: path.join(__dirname, 'fixtures', 'dags'),
  removalPolicy: RemovalPolicy.DESTROY,
});
env.addDagFile('configs/integ.json', JSON.stringify({ pipeline: 'integ' }));

new IntegTest(app, 'AirflowEnvironmentInteg', { testCases: [stack], diffAssets: true });
