import * as path from 'path';
import { ArnFormat, Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { grantOtherBucketKey, grantPrefix } from './s3-access';
import { addUnscopedPolicy, addWildcardStatement } from '../../private/nag-ids';
import { GlueWorkerType, PreprocessingCodeLocation } from '../workflow-options';

/** The Glue job's script: it runs the staged `preprocess` module of the run's commit (see the file). */
const GLUE_SCRIPT = path.join(__dirname, '..', '..', '..', 'assets', 'glue', 'run_preprocessing.py');

export interface PreprocessingJobOptions {
  readonly pipelineName: string;
  readonly code: PreprocessingCodeLocation;
  readonly dataBucket: s3.IBucket;
  /** Where raw data is read from (the run's input is under it). */
  readonly rawPrefix: string;
  /** This pipeline's processed prefix, `<processed>/<pipeline>/`. */
  readonly processedPrefix: string;
  readonly encryptionKey: kms.IKey;
  readonly workerType: GlueWorkerType;
  readonly workerCount: number;
  readonly timeout: Duration;
  readonly maxConcurrentRuns: number;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

export interface PreprocessingJob {
  readonly job: glue.CfnJob;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
}

/** The Glue 5 (Spark 3.5) job the training DAG runs, with its own least-privilege role and KMS security configuration. */
export function createPreprocessingJob(scope: Construct, options: PreprocessingJobOptions): PreprocessingJob {
  const stack = Stack.of(scope);
  const key = options.encryptionKey;
  const script = new s3assets.Asset(scope, 'GlueScript', { path: GLUE_SCRIPT });
  const role = new iam.Role(scope, 'GlueRole', {
    description: `Glue preprocessing role of pipeline ${options.pipelineName}`,
    assumedBy: new iam.ServicePrincipal('glue.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
  });
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['s3:GetObject'],
    resources: [script.bucket.arnForObjects(script.s3ObjectKey)],
  }));
  grantPrefix(role, options.code.bucket, options.code.prefix, ['s3:GetObject'],
    'the model build stages each commit\'s preprocessing code under keys named by the commit, below this prefix.');
  const codeKey = options.code.encryptionKey ?? options.code.bucket.encryptionKey;
  if (codeKey) codeKey.grantDecrypt(role);
  grantPrefix(role, options.dataBucket, options.rawPrefix, ['s3:GetObject'], 'raw data arrives under keys named at upload time, below this prefix.');
  // Spark writes through _temporary/ folders that it deletes when the job commits.
  grantPrefix(role, options.dataBucket, options.processedPrefix, ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
    'each run writes its splits (and Spark its _temporary/ files) under keys named by the run, below this pipeline\'s prefix.');
  grantOtherBucketKey(role, options.dataBucket, key, 'kms:Decrypt', 'kms:GenerateDataKey');

  const logGroup = new logs.LogGroup(scope, 'GlueLogs', {
    logGroupName: `/aws-glue/cdk-mwaa-mlops/${Names.uniqueResourceName(scope, { maxLength: 200, separator: '-' })}`,
    retention: options.logRetention,
    encryptionKey: key,
    removalPolicy: options.removalPolicy,
  });
  // Glue writes the continuous log here and its output/error logs to /aws-glue/jobs/...; with CloudWatch encryption
  // in the security configuration it associates the key with the groups it creates.
  const glueLogs = stack.formatArn({
    service: 'logs', resource: 'log-group', resourceName: '/aws-glue/*', arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  addWildcardStatement(role, new iam.PolicyStatement({
    actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:AssociateKmsKey'],
    resources: [glueLogs],
  }), 'Glue names its log groups and streams per job run below /aws-glue/ (continuous, output and error logs).');
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
    resources: [key.keyArn],
  }));
  addUnscopedPolicy(scope, 'GlueUnscopedPolicy', role, [new iam.PolicyStatement({
    actions: ['cloudwatch:PutMetricData'],
    resources: ['*'],
    conditions: { StringEquals: { 'cloudwatch:namespace': 'Glue' } },
  })], 'CloudWatch has no resource-level permissions for metrics; the condition limits it to the Glue namespace.');
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: `AllowGlueLogs${Names.uniqueId(scope).slice(-24)}`,
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': glueLogs } },
  }));

  const securityConfiguration = new glue.CfnSecurityConfiguration(scope, 'GlueSecurityConfiguration', {
    name: Names.uniqueResourceName(scope, { maxLength: 255, separator: '-' }),
    encryptionConfiguration: {
      s3Encryptions: [{ s3EncryptionMode: 'SSE-KMS', kmsKeyArn: key.keyArn }],
      cloudWatchEncryption: { cloudWatchEncryptionMode: 'SSE-KMS', kmsKeyArn: key.keyArn },
      jobBookmarksEncryption: { jobBookmarksEncryptionMode: 'CSE-KMS', kmsKeyArn: key.keyArn },
    },
  });
  const job = new glue.CfnJob(scope, 'GlueJob', {
    description: `cdk-mwaa-mlops ${options.pipelineName}: splits raw data into train, validation and test`,
    role: role.roleArn,
    glueVersion: '5.0',
    command: { name: 'glueetl', pythonVersion: '3', scriptLocation: script.s3ObjectUrl },
    workerType: options.workerType,
    numberOfWorkers: options.workerCount,
    timeout: options.timeout.toMinutes(),
    // Airflow retries the task; a Glue-level retry would run a second job the task does not know about.
    maxRetries: 0,
    executionProperty: { maxConcurrentRuns: options.maxConcurrentRuns },
    securityConfiguration: securityConfiguration.ref,
    defaultArguments: {
      '--job-language': 'python',
      '--job-bookmark-option': 'job-bookmark-disable',
      '--enable-continuous-cloudwatch-log': 'true',
      '--continuous-log-logGroup': logGroup.logGroupName,
      '--enable-metrics': 'true',
    },
  });
  job.node.addDependency(role);
  return { job, role, logGroup };
}
