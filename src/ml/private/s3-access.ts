import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { acknowledgeWildcardResources } from '../../private/nag-ids';

/**
 * Object actions on `<prefix>*` of a bucket, and listing limited to that prefix, as explicit statements (the
 * bucket grants of aws-cdk-lib add `s3:List*` on the whole bucket). The bucket's key is the caller's to grant.
 * Returns the grant of the object actions. With `why` (a role this library creates), the `<prefix>*` ARN is
 * acknowledged on the grantee with that reason.
 */
export function grantPrefix(grantee: iam.IGrantable, bucket: s3.IBucket, prefix: string, actions: string[], why?: string): iam.Grant {
  const objects = bucket.arnForObjects(`${prefix}*`);
  const grant = iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [objects] });
  if (why) acknowledgeWildcardResources(grantee.grantPrincipal as unknown as IConstruct, actions, [objects], why);
  grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['s3:ListBucket'],
    resources: [bucket.bucketArn],
    conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
  }));
  return grant;
}

/** Grants a bucket's own key when it is not `pipelineKey` (which the caller grants anyway). */
export function grantOtherBucketKey(grantee: iam.IGrantable, bucket: s3.IBucket, pipelineKey: kms.IKey, ...actions: string[]): void {
  if (bucket.encryptionKey && bucket.encryptionKey !== pipelineKey) bucket.encryptionKey.grant(grantee, ...actions);
}
