import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';

/**
 * Sends a bucket's server access logs to `logBucket` under `prefix`, with log delivery allowed by a bucket policy:
 * the L2's `serverAccessLogsBucket` falls back to the legacy LogDeliveryWrite ACL in apps without the
 * `serverAccessLogsUseBucketPolicy` feature flag.
 *
 * The access-log buckets this library creates are deliberately neither versioned nor logged themselves (checkov
 * CKV_AWS_21 and CKV_AWS_18; test/python/checkov_accepted.yaml): their objects are written once by the S3 log
 * delivery service and expire after 90 days, so versions would only keep every log twice until expiry; logging the
 * access to a log bucket needs yet another bucket, and so on, or loops into itself. cdk-nag's AwsSolutions-S1 does
 * not report them: it counts a bucket that receives access logs as logged.
 */
export function logAccessTo(bucket: s3.Bucket, logBucket: s3.IBucket, prefix: string): void {
  (bucket.node.defaultChild as s3.CfnBucket).loggingConfiguration = { destinationBucketName: logBucket.bucketName, logFilePrefix: prefix };
  logBucket.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
    actions: ['s3:PutObject'],
    resources: [logBucket.arnForObjects(`${prefix}*`)],
    conditions: {
      ArnLike: { 'aws:SourceArn': bucket.bucketArn },
      StringEquals: { 'aws:SourceAccount': Stack.of(bucket).account },
    },
  }));
}
