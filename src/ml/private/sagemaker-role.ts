import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { grantOtherBucketKey, grantPrefix } from './s3-access';

export interface SageMakerRoleOptions {
  readonly pipelineName: string;
  readonly dataBucket: s3.IBucket;
  /** The pipeline's own prefixes: `<processed>/<pipeline>/`, ... */
  readonly processedPrefix: string;
  readonly artifactsPrefix: string;
  readonly checkpointsPrefix?: string;
  readonly imageRepository: ecr.IRepository;
  readonly encryptionKey: kms.IKey;
  readonly endpointName?: string;
}

/** The one role SageMaker runs this pipeline's training, evaluation and model containers as. */
export function createSageMakerRole(scope: Construct, options: SageMakerRoleOptions): iam.Role {
  const stack = Stack.of(scope);
  const role = new iam.Role(scope, 'SageMakerRole', {
    description: `SageMaker training, evaluation and model role of pipeline ${options.pipelineName}`,
    assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
  });
  // Training reads the splits; evaluation reads the test split and the model; the model container reads the model.
  grantPrefix(role, options.dataBucket, options.processedPrefix, ['s3:GetObject']);
  grantPrefix(role, options.dataBucket, options.artifactsPrefix, ['s3:GetObject', 's3:PutObject']);
  if (options.checkpointsPrefix) {
    grantPrefix(role, options.dataBucket, options.checkpointsPrefix, ['s3:GetObject', 's3:PutObject', 's3:DeleteObject']);
  }
  grantOtherBucketKey(role, options.dataBucket, options.encryptionKey, 'kms:Decrypt', 'kms:GenerateDataKey');
  options.imageRepository.grantPull(role);
  // Volumes and outputs are encrypted with the pipeline's key; SageMaker attaches volumes through a grant.
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
    resources: [options.encryptionKey.keyArn],
  }));
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['kms:CreateGrant'],
    resources: [options.encryptionKey.keyArn],
    conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
  }));
  const logGroups = ['/aws/sagemaker/TrainingJobs', '/aws/sagemaker/ProcessingJobs'];
  if (options.endpointName) logGroups.push(`/aws/sagemaker/Endpoints/${options.endpointName}`);
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
    resources: logGroups.map((name) => stack.formatArn({
      service: 'logs', resource: 'log-group', resourceName: `${name}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    })),
  }));
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['cloudwatch:PutMetricData'],
    resources: ['*'],
    conditions: { StringLike: { 'cloudwatch:namespace': ['/aws/sagemaker/*'] } },
  }));
  return role;
}
