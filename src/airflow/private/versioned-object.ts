import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledge } from '../../private/acknowledge';
import { nagString } from '../../private/nag-ids';
import { S3ObjectVersion } from '../airflow-environment-base';

/**
 * Writes a small text object (requirements.txt, the startup script) to a versioned bucket and returns its
 * S3 version id. MWAA pins these files by version: passing the id makes a content change update the
 * environment, and an unchanged deploy leaves the custom resource, and so the environment, untouched.
 * (s3-deployment's BucketDeployment cannot report version ids, hence this small bridge over AwsCustomResource.)
 */
export function putVersionedText(
  scope: Construct, id: string, bucket: s3.IBucket, key: string, body: string, encryptionKey?: kms.IKey,
): S3ObjectVersion {
  // Object versions are data: no onDelete, so a stack delete keeps them (the bucket's removal policy decides).
  const resource = objectVersionResource(scope, id,
    { action: 'putObject', parameters: { Bucket: bucket.bucketName, Key: key, Body: body, ContentType: 'text/plain; charset=utf-8' } },
    new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [bucket.arnForObjects(key)] }));
  encryptionKey?.grantEncryptDecrypt(resource);
  return { key, versionId: resource.getResponseField('VersionId') };
}

/** Reads the current version id of an object another construct wrote (the plugins zip). */
export function headObjectVersion(
  scope: Construct, id: string, bucket: s3.IBucket, key: string, keyPrefix: string, dependsOn: Construct, encryptionKey?: kms.IKey,
): S3ObjectVersion {
  const resource = objectVersionResource(scope, id,
    { action: 'headObject', parameters: { Bucket: bucket.bucketName, Key: key } },
    new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [bucket.arnForObjects(`${keyPrefix}*`)] }));
  encryptionKey?.grantDecrypt(resource);
  resource.node.addDependency(dependsOn);
  const plugins = `${nagString(resource, bucket.arnForObjects(keyPrefix))}*`;
  acknowledge(resource, {
    id: `AwsSolutions-IAM5[Resource::${plugins}]`,
    reason: `${plugins}: the plugins zip is named by its content hash, known only at deploy time; reads are limited to the plugins/ prefix.`,
  });
  return { key, versionId: resource.getResponseField('VersionId') };
}

/** An S3 call on create and update whose physical id, and only output, is the object's `VersionId`. */
function objectVersionResource(
  scope: Construct, id: string, call: { action: string; parameters: Record<string, unknown> }, permission: iam.PolicyStatement,
): cr.AwsCustomResource {
  const sdkCall: cr.AwsSdkCall = {
    service: 'S3',
    ...call,
    physicalResourceId: cr.PhysicalResourceId.fromResponse('VersionId'),
    outputPaths: ['VersionId'],
  };
  return new cr.AwsCustomResource(scope, id, {
    onCreate: sdkCall,
    onUpdate: sdkCall,
    policy: cr.AwsCustomResourcePolicy.fromStatements([permission]),
    installLatestAwsSdk: false,
  });
}
