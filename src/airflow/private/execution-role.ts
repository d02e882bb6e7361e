import { ArnFormat, Aws, PhysicalName, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../../private/acknowledge';
import { nagString } from '../../private/nag-ids';

export interface ExecutionRoleOptions {
  readonly environmentName: string;
  readonly environmentArn: string;
  readonly bucket: s3.IBucket;
  readonly encryptionKey?: kms.IKey;
}

/** The Celery queues, as cdk-nag prints their ARN. */
const CELERY_QUEUES = 'arn:<AWS::Partition>:sqs:<AWS::Region>:*:airflow-celery-*';

/** What MWAA documents for its queue and bucket encryption, with either kind of key. */
const KMS_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey', 'kms:GenerateDataKey*', 'kms:Encrypt'];

/** The ARN of the MWAA environment named `environmentName` in the stack's account and region. */
export function environmentArnFor(scope: Construct, environmentName: string): string {
  return Stack.of(scope).formatArn({
    service: 'airflow', resource: 'environment', resourceName: environmentName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
}

/** The log groups MWAA writes for this environment: `airflow-<name>-<Component>`. */
export function logGroupArnPattern(scope: Construct, environmentName: string): string {
  return Stack.of(scope).formatArn({
    service: 'logs',
    resource: 'log-group',
    resourceName: `airflow-${environmentName}-*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/**
 * The execution role MWAA assumes, with the policy the MWAA documentation gives, scoped to this environment.
 * The trust policy names both MWAA principals and pins the calling account and environment (confused-deputy guard).
 */
export function createExecutionRole(scope: Construct, options: ExecutionRoleOptions): { role: iam.Role; policy: iam.Policy } {
  const conditions = {
    StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
    ArnLike: { 'aws:SourceArn': options.environmentArn },
  };
  const role = new iam.Role(scope, 'ExecutionRole', {
    // A stage's deploy role in another account of the same app trusts this role by name: CDK names it only then.
    roleName: PhysicalName.GENERATE_IF_NEEDED,
    description: `MWAA execution role of ${options.environmentName}`,
    assumedBy: new iam.CompositePrincipal(
      new iam.ServicePrincipal('airflow.amazonaws.com', { conditions }),
      new iam.ServicePrincipal('airflow-env.amazonaws.com', { conditions }),
    ),
  });
  const logGroups = logGroupArnPattern(scope, options.environmentName);
  const statements = [
    new iam.PolicyStatement({ actions: ['airflow:PublishMetrics'], resources: [options.environmentArn] }),
    new iam.PolicyStatement({
      actions: [
        'logs:CreateLogStream', 'logs:CreateLogGroup', 'logs:PutLogEvents', 'logs:GetLogEvents',
        'logs:GetLogRecord', 'logs:GetLogGroupFields', 'logs:GetQueryResults',
      ],
      resources: [logGroups],
    }),
    // What the MWAA documentation grants on the source bucket (DAGs, plugins, requirements, startup script, versions).
    new iam.PolicyStatement({
      actions: ['s3:GetObject*', 's3:GetBucket*', 's3:List*'],
      resources: [options.bucket.bucketArn, options.bucket.arnForObjects('*')],
    }),
    // These three actions have no resource-level permissions: AWS requires '*'.
    new iam.PolicyStatement({ actions: ['logs:DescribeLogGroups', 's3:GetAccountPublicAccessBlock'], resources: ['*'] }),
    new iam.PolicyStatement({
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': 'AmazonMWAA' } },
    }),
    // The Celery queues live in an account that MWAA owns, so the account is a wildcard.
    new iam.PolicyStatement({
      actions: [
        'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl', 'sqs:ReceiveMessage', 'sqs:SendMessage',
      ],
      resources: [`arn:${Aws.PARTITION}:sqs:${Aws.REGION}:*:airflow-celery-*`],
    }),
    options.encryptionKey
      ? new iam.PolicyStatement({
        actions: KMS_ACTIONS,
        resources: [options.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': [`sqs.${Aws.REGION}.amazonaws.com`, `s3.${Aws.REGION}.amazonaws.com`] } },
      })
      // With the AWS owned key, the queue's key lives in MWAA's account: any key outside this account, through SQS only.
      : new iam.PolicyStatement({
        actions: KMS_ACTIONS,
        notResources: [`arn:${Aws.PARTITION}:kms:*:${Aws.ACCOUNT_ID}:key/*`],
        conditions: { StringLike: { 'kms:ViaService': [`sqs.${Aws.REGION}.amazonaws.com`] } },
      }),
  ];
  const policy = new iam.Policy(scope, 'ExecutionPolicy', { statements });
  policy.attachToRole(role);
  // The source bucket's own key, when it is not the environment's (whose statement above covers S3).
  if (options.bucket.encryptionKey && options.bucket.encryptionKey !== options.encryptionKey) options.bucket.encryptionKey.grantDecrypt(role);

  const reason = (why: string) => ({ reason: why });
  acknowledge(policy,
    { id: `AwsSolutions-IAM5[Resource::${nagString(scope, logGroups)}]`, ...reason(`${nagString(scope, logGroups)}: MWAA creates one log group per Airflow component, named airflow-<environment>-<Component>; the pattern covers only this environment.`) },
    { id: 'AwsSolutions-IAM5[Resource::*]', ...reason('logs:DescribeLogGroups, s3:GetAccountPublicAccessBlock, cloudwatch:PutMetricData on *: they have no resource-level permissions; PutMetricData is limited to the AmazonMWAA namespace.') },
    { id: `AwsSolutions-IAM5[Resource::${CELERY_QUEUES}]`, ...reason(`${CELERY_QUEUES}: the Celery queues are created by MWAA in its own account; MWAA documents this account wildcard.`) },
    { id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]', ...reason('MWAA documents kms:GenerateDataKey* for its queue and bucket encryption; it is limited to SQS/S3 through kms:ViaService.') },
  );
  // On this policy only: the same action families or the bucket's objects added to another policy stay reported.
  const objects = `${nagString(scope, options.bucket.bucketArn)}/*`;
  acknowledge(policy,
    { id: 'AwsSolutions-IAM5[Action::s3:GetObject*]', ...reason(`s3:GetObject* on ${objects}: MWAA reads DAGs, plugins, requirements and the startup script (with their versions) from its source bucket.`) },
    { id: 'AwsSolutions-IAM5[Action::s3:GetBucket*]', ...reason('s3:GetBucket* on the source bucket: MWAA reads its configuration (versioning, public access block) before using it.') },
    { id: 'AwsSolutions-IAM5[Action::s3:List*]', ...reason('s3:List* on the source bucket: MWAA lists the dags/ prefix to sync DAG files.') },
    { id: `AwsSolutions-IAM5[Resource::${objects}]`, ...reason(`s3:GetObject*, s3:GetBucket*, s3:List* on ${objects}: MWAA reads any object of its own source bucket.`) },
  );
  return { role, policy };
}
