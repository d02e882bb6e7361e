import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';

/**
 * Object actions on `<prefix>*` of a bucket, and listing limited to that prefix, as explicit statements (the
 * bucket grants of aws-cdk-lib add `s3:List*` on the whole bucket). The bucket's key is the caller's to grant.
 */
export function grantPrefix(grantee: iam.IGrantable, bucket: s3.IBucket, prefix: string, actions: string[]): void {
  const principal = grantee.grantPrincipal;
  principal.addToPrincipalPolicy(new iam.PolicyStatement({ actions, resources: [bucket.arnForObjects(`${prefix}*`)] }));
  principal.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['s3:ListBucket'],
    resources: [bucket.bucketArn],
    conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
  }));
}

/** Grants a bucket's own key when it is not `pipelineKey` (which the caller grants anyway). */
export function grantOtherBucketKey(grantee: iam.IGrantable, bucket: s3.IBucket, pipelineKey: kms.IKey, ...actions: string[]): void {
  if (bucket.encryptionKey && bucket.encryptionKey !== pipelineKey) bucket.encryptionKey.grant(grantee, ...actions);
}
