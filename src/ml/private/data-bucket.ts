import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { createAccessLogBucket, createSecureBucket } from '../../private/secure-bucket';

/** The pipeline's data bucket: versioned, KMS, TLS-only, private, access-logged, with EventBridge notifications on. */
export function createDataBucket(scope: Construct, key: kms.IKey, removalPolicy: RemovalPolicy, accessLogs?: s3.IBucket): s3.Bucket {
  return createSecureBucket(scope, 'DataBucket', {
    removalPolicy,
    encryptionKey: key,
    accessLogs: accessLogs ?? createAccessLogBucket(scope, 'DataAccessLogsBucket', removalPolicy, Duration.days(365)),
    accessLogPrefix: 'data-bucket/',
    // New raw data can start training (DagTrigger.onObjectCreated).
    eventBridgeEnabled: true,
    lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(90), abortIncompleteMultipartUploadAfter: Duration.days(7) }],
  });
}
