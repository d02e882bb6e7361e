/*
 * Integ test: a DagTrigger on an imported MWAA environment with every kind of source (ECR push, S3 object under a
 * prefix, model package approval, model package lifecycle stage, custom pattern). `npx projen integ` verifies the
 * committed snapshot without credentials; deploying it needs an AWS account and an environment named `integ-mwaa` to
 * start runs on.
 */
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AirflowEnvironment, DagTrigger, ModelApprovalStatus } from '../src';

const app = new App();
const stack = new Stack(app, 'IntegDagTrigger');
const environment = AirflowEnvironment.fromEnvironmentAttributes(stack, 'Env', { environmentName: 'integ-mwaa' });
const repository = new ecr.Repository(stack, 'Images', {
  imageTagMutability: ecr.TagMutability.IMMUTABLE,
  imageScanOnPush: true,
  removalPolicy: RemovalPolicy.DESTROY,
  emptyOnDelete: true,
});
const data = new s3.Bucket(stack, 'RawData', {
  enforceSSL: true,
  versioned: true,
  removalPolicy: RemovalPolicy.DESTROY,
  autoDeleteObjects: true,
});
// The fixture's own bucket, not the library's: the test's raw-data bucket lives as long as one integ run, with no access logs.
Validations.of(data).acknowledge({ id: 'AwsSolutions-S1', reason: 'Integ fixture: this test bucket (raw-data) is deleted with the stack; server access logs would outlive it.' });

const trigger = new DagTrigger(stack, 'Trigger', { environment });
trigger.onImagePushed('ImagePushed', { repository, dagId: 'integ_training', imageTagPrefixes: ['v'] });
trigger.onObjectCreated('RawDataArrived', { bucket: data, prefix: 'raw/', dagId: 'integ_training' });
trigger.onModelPackageStatusChange('ModelApproved', {
  modelPackageGroupName: 'integ-models',
  approvalStatus: ModelApprovalStatus.APPROVED,
  dagId: 'integ_deployment',
});
trigger.onModelPackageStageChange('StageApproved', {
  modelPackageGroupName: 'integ-models',
  stages: ['staging', 'prod'],
  dagId: 'integ_deployment',
});
trigger.onEvent('Custom', { eventPattern: { source: ['integ.app'], detailType: ['Data Ready'] }, dagId: 'integ_training' });

new IntegTest(app, 'DagTriggerInteg', { testCases: [stack], diffAssets: true });
