import { ArnFormat, Aws, Fn, Names, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/**
 * Log groups of one construct encrypted with a customer managed key. The key policy lets CloudWatch Logs use the key
 * for exactly the groups under the construct's prefix: naming a group's ARN there would be a dependency cycle
 * (key → group → key). Each name ends with the stack's id, so a group a deleted stack retained never blocks the next
 * deployment with "already exists".
 */
export class EncryptedLogGroups {
  private readonly prefix: string;

  constructor(scope: Construct, kind: string, readonly key: kms.IKey) {
    this.prefix = `/cdk-mwaa-mlops/${kind}/${Names.uniqueResourceName(scope, { maxLength: 100, separator: '-' })}`;
    const stack = Stack.of(scope);
    // A key imported from outside the app ignores this: its policy must allow the same (see the README).
    key.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
            service: 'logs', resource: 'log-group', resourceName: `${this.prefix}/*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }));
  }

  /** The name of the group `id`: `<prefix>/<id>-<stack uuid>`. */
  public name(id: string): string {
    return Fn.join('', [this.prefix, '/', id, '-', Fn.select(2, Fn.split('/', Aws.STACK_ID))]);
  }
}
