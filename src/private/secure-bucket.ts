import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { logAccessTo } from './access-logs';

/** What every bucket this library creates has: no public access, no ACLs, TLS 1.2 or newer only. */
function privateBucketProps(removalPolicy: RemovalPolicy): s3.BucketProps {
  return {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy,
  };
}

/**
 * A bucket that receives server access logs: unversioned and not logged itself, for the reasons in access-logs.ts,
 * its logs expiring after `retention`.
 */
export function createAccessLogBucket(scope: Construct, id: string, removalPolicy: RemovalPolicy, retention = Duration.days(90)): s3.Bucket {
  return new s3.Bucket(scope, id, {
    ...privateBucketProps(removalPolicy),
    // S3 server access logging writes only to buckets with SSE-S3.
    encryption: s3.BucketEncryption.S3_MANAGED,
    lifecycleRules: [{ expiration: retention }],
  });
}

export interface SecureBucketOptions {
  readonly removalPolicy: RemovalPolicy;
  /** @default - the AWS managed key for S3 */
  readonly encryptionKey?: kms.IKey;
  /** The bucket that receives this bucket's server access logs, under `accessLogPrefix`. */
  readonly accessLogs: s3.IBucket;
  readonly accessLogPrefix: string;
  readonly lifecycleRules?: s3.LifecycleRule[];
  readonly eventBridgeEnabled?: boolean;
}

/** A private, TLS-only, versioned bucket encrypted with KMS (with a bucket key when the key is the caller's), access-logged. */
export function createSecureBucket(scope: Construct, id: string, options: SecureBucketOptions): s3.Bucket {
  const key = options.encryptionKey;
  const bucket = new s3.Bucket(scope, id, {
    ...privateBucketProps(options.removalPolicy),
    versioned: true,
    encryption: key ? s3.BucketEncryption.KMS : s3.BucketEncryption.KMS_MANAGED,
    encryptionKey: key,
    bucketKeyEnabled: key ? true : undefined,
    eventBridgeEnabled: options.eventBridgeEnabled,
    lifecycleRules: options.lifecycleRules,
  });
  logAccessTo(bucket, options.accessLogs, options.accessLogPrefix);
  return bucket;
}
