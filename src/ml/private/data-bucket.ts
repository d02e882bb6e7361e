import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { logAccessTo } from '../../private/access-logs';


/** The pipeline's data bucket: versioned, KMS, TLS-only, private, access-logged, with EventBridge notifications on. */
export function createDataBucket(scope: Construct, key: kms.IKey, removalPolicy: RemovalPolicy, accessLogs?: s3.IBucket): s3.Bucket {
  const common = {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy,
  };
  const logBucket = accessLogs ?? new s3.Bucket(scope, 'DataAccessLogsBucket', {
    ...common,
    // S3 server access logging writes only to buckets with SSE-S3.
    encryption: s3.BucketEncryption.S3_MANAGED,
    lifecycleRules: [{ expiration: Duration.days(365) }],
  });
  const bucket = new s3.Bucket(scope, 'DataBucket', {
    ...common,
    versioned: true,
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: key,
    bucketKeyEnabled: true,
    // New raw data can start training (DagTrigger.onObjectCreated).
    eventBridgeEnabled: true,
    lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(90), abortIncompleteMultipartUploadAfter: Duration.days(7) }],
  });
  logAccessTo(bucket, logBucket, 'data-bucket/');
  return bucket;
}
