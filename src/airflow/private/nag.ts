import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { acknowledge } from '../../private/acknowledge';
import { BASIC_EXECUTION_ROLE_FINDING, nagString } from '../../private/nag-ids';


/** What aws-cdk-lib's key grants (`grantEncryptDecrypt`, a bucket's `grantReadWrite`) add on a customer managed key. */
const keyGrantFindings = ['kms:ReEncrypt*', 'kms:GenerateDataKey*'].map((action) => ({
  id: `AwsSolutions-IAM5[Action::${action}]`,
  reason: `aws-cdk-lib key grants name the KMS action family ${action}; it applies to the one customer managed key of this environment.`,
}));

/** The singleton provider functions of aws-cdk-lib that AirflowEnvironment uses, by their fixed construct ids. */
const AWS_CUSTOM_RESOURCE_PROVIDER = 'AWS679f53fac002430cb0da5b7982bd2287';
const LOG_RETENTION_PROVIDER = 'LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a';

/**
 * Acknowledges the findings on aws-cdk-lib's own provider functions (AwsCustomResource, LogRetention):
 * their roles and runtimes are chosen by aws-cdk-lib, not by this library.
 */
export function acknowledgeProviderFindings(stack: Stack, usesKey: boolean): void {
  const customResource = stack.node.tryFindChild(AWS_CUSTOM_RESOURCE_PROVIDER);
  if (customResource) {
    if (usesKey) acknowledge(customResource, ...keyGrantFindings);
    acknowledge(customResource,
      { id: BASIC_EXECUTION_ROLE_FINDING, reason: 'aws-cdk-lib AwsCustomResource provider: AWSLambdaBasicExecutionRole only lets it write its own CloudWatch logs.' },
      { id: 'AwsSolutions-L1', reason: 'aws-cdk-lib AwsCustomResource provider: aws-cdk-lib pins its runtime.' },
    );
  }
  const logRetention = stack.node.tryFindChild(LOG_RETENTION_PROVIDER);
  if (logRetention) {
    acknowledge(logRetention,
      { id: BASIC_EXECUTION_ROLE_FINDING, reason: 'aws-cdk-lib LogRetention provider: AWSLambdaBasicExecutionRole only lets it write its own CloudWatch logs.' },
      { id: 'AwsSolutions-IAM5[Resource::*]', reason: 'aws-cdk-lib LogRetention provider: it sets retention on log groups named at deploy time (MWAA creates them), so aws-cdk-lib grants logs:PutRetentionPolicy on *.' },
    );
  }
}

/**
 * With `RemovalPolicy.DESTROY`, aws-cdk-lib's LogRetention provider may delete the log group it was given: the ARN names
 * that one group and its streams (`<group>:*`), as aws-cdk-lib formats it.
 */
export function acknowledgeLogGroupDelete(scope: Construct, logGroupName: string): void {
  const provider = Stack.of(scope).node.tryFindChild(LOG_RETENTION_PROVIDER);
  if (!provider) return;
  const arn = Stack.of(scope).formatArn({
    service: 'logs', resource: 'log-group', resourceName: `${logGroupName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  const rendered = nagString(scope, arn);
  acknowledge(provider, {
    id: `AwsSolutions-IAM5[Resource::${rendered}]`,
    reason: `aws-cdk-lib LogRetention provider: logs:DeleteLogGroup on ${rendered}, the MWAA log group it deletes with the stack (removalPolicy DESTROY).`,
  });
}

/** Acknowledges the findings on the provider function of an s3-deployment BucketDeployment. */
export function acknowledgeBucketDeploymentFindings(deployment: s3deploy.BucketDeployment, usesKey: boolean): void {
  const role = deployment.handlerRole;
  const fn = role.node.scope!;
  if (usesKey) acknowledge(fn, ...keyGrantFindings);
  const reason = (subject: string) => `aws-cdk-lib BucketDeployment provider: ${subject}, for copying asset zips from the CDK assets bucket into the source bucket and pruning what it no longer ships.`;
  acknowledge(fn,
    { id: BASIC_EXECUTION_ROLE_FINDING, reason: reason('AWSLambdaBasicExecutionRole lets it write its own CloudWatch logs') },
    { id: 'AwsSolutions-L1', reason: 'aws-cdk-lib BucketDeployment provider: aws-cdk-lib pins its runtime.' },
    ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((a) => ({ id: `AwsSolutions-IAM5[Action::${a}]`, reason: reason(`aws-cdk-lib's bucket grants name ${a}`) })),
  );
  // The bucket ARNs its role reads and writes: the source bucket and the CDK assets bucket.
  const policy = role.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
  const statements = policy ? Stack.of(fn).resolve(policy.document.toJSON())?.Statement ?? [] : [];
  const objectArns = new Set<string>();
  for (const statement of statements) {
    for (const resource of [statement.Resource].flat()) {
      const rendered = nagString(fn, resource);
      if (rendered.endsWith('/*')) objectArns.add(rendered);
    }
  }
  acknowledge(fn, ...[...objectArns].map((arn) => ({ id: `AwsSolutions-IAM5[Resource::${arn}]`, reason: reason(`it reads or writes the objects ${arn}`) })));
}
