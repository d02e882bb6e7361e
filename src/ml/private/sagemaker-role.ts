import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { grantOtherBucketKey, grantPrefix } from './s3-access';
import { addUnscopedPolicy, addWildcardStatement } from '../../private/nag-ids';

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
  /** With drift detection: the endpoint's captures (written by the endpoint, read by the drift check) and the drift metrics' namespace. */
  readonly drift?: { readonly capturePrefix: string; readonly metricNamespace: string };
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
  grantPrefix(role, options.dataBucket, options.processedPrefix, ['s3:GetObject'],
    'training and evaluation read each run\'s splits, under keys named by the run below this pipeline\'s prefix.');
  grantPrefix(role, options.dataBucket, options.artifactsPrefix, ['s3:GetObject', 's3:PutObject'],
    'each run\'s model and evaluation report are written under keys named by the run below this pipeline\'s prefix.');
  if (options.checkpointsPrefix) {
    grantPrefix(role, options.dataBucket, options.checkpointsPrefix, ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      'spot training saves and prunes checkpoints under keys named by the job, below this pipeline\'s prefix.');
  }
  if (options.drift) {
    // SageMaker writes an endpoint's captures as the model's execution role: the only role the endpoint has.
    grantPrefix(role, options.dataBucket, options.drift.capturePrefix, ['s3:GetObject', 's3:PutObject'],
      'the endpoint writes capture files under <endpoint>/<variant>/<yyyy>/<mm>/<dd>/<hh>/ below this pipeline\'s capture prefix, and the drift check reads them.');
  }
  grantOtherBucketKey(role, options.dataBucket, options.encryptionKey, 'kms:Decrypt', 'kms:GenerateDataKey');
  // The pull actions on this repository; the registry token (no resource-level permissions) in its own policy below.
  options.imageRepository.grant(role, 'ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage');
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
  addWildcardStatement(role, new iam.PolicyStatement({
    actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
    resources: logGroups.map((name) => stack.formatArn({
      service: 'logs', resource: 'log-group', resourceName: `${name}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    })),
  }), 'SageMaker names one log stream per job or endpoint instance in these groups.');
  addUnscopedPolicy(scope, 'SageMakerUnscopedPolicy', role, [
    new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
    new iam.PolicyStatement({
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringLike: { 'cloudwatch:namespace': ['/aws/sagemaker/*', ...(options.drift ? [options.drift.metricNamespace] : [])] } },
    }),
  ], 'neither has resource-level permissions: the registry token only authenticates (pulls are granted on this repository alone), and metrics are limited to the /aws/sagemaker/ namespaces' +
    (options.drift ? ` and the drift check's ${options.drift.metricNamespace}.` : '.'));
  return role;
}
