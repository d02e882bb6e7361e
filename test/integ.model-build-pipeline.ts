/*
 * Integ test: a ModelBuildPipeline for each kind of source (CodeConnections, an existing CodeCommit repository, a
 * new one seeded with the starter repository, an S3 object). `npx projen integ` verifies the committed snapshot
 * without credentials; test/python/test_model_build_templates.py runs cfn-lint on it. Deploying it needs an AWS
 * account, a CodeConnections connection and a CodeCommit repository named `integ-existing-model`.
 */
import { IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ModelBuildPipeline, PipelineSource } from '../src';

const app = new App();
const stack = new Stack(app, 'IntegModelBuild');
const removalPolicy = RemovalPolicy.DESTROY;

new ModelBuildPipeline(stack, 'FromConnection', {
  source: PipelineSource.connection({
    connectionArn: 'arn:aws:codeconnections:us-east-1:123456789012:connection/12345678-1234-1234-1234-123456789012',
    owner: 'acme',
    repository: 'churn-model',
  }),
  removalPolicy,
});
new ModelBuildPipeline(stack, 'FromCodeCommit', {
  source: PipelineSource.codeCommit({ repository: codecommit.Repository.fromRepositoryName(stack, 'Existing', 'integ-existing-model') }),
  notifyOnFailure: false,
  removalPolicy,
});
new ModelBuildPipeline(stack, 'FromNewRepository', {
  source: PipelineSource.newCodeCommitRepository({ repositoryName: 'integ-new-model' }),
  scriptPrefix: 'glue/',
  maxImageCount: 10,
  removalPolicy,
});
const uploads = new s3.Bucket(stack, 'Uploads', {
  enforceSSL: true,
  versioned: true,
  removalPolicy,
  autoDeleteObjects: true,
});
// The fixture's own bucket, not the library's: the test's upload bucket lives as long as one integ run, with no access logs.
Validations.of(uploads).acknowledge({ id: 'AwsSolutions-S1', reason: 'Integ fixture: this test bucket (upload) is deleted with the stack; server access logs would outlive it.' });
new ModelBuildPipeline(stack, 'FromS3', {
  source: PipelineSource.s3({ bucket: uploads, objectKey: 'model/source.zip' }),
  removalPolicy,
});

new IntegTest(app, 'ModelBuildInteg', { testCases: [stack], diffAssets: true });
