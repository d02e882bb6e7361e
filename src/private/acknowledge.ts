import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** One acknowledged security finding and why it is acceptable. */
export interface Finding {
  readonly id: string;
  readonly reason: string;
}

/**
 * Acknowledges cdk-nag findings on a construct, with the reason next to the code that causes them.
 *
 * `Validations.of(c).acknowledge()` rejects ids with more than one '::', yet cdk-nag names findings on
 * token ARNs that way (`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:...]`). For those ids this writes
 * the same construct metadata that `acknowledge()` writes and cdk-nag reads; all other ids go through the API.
 */
export function acknowledge(construct: IConstruct, ...findings: Finding[]): void {
  for (const finding of findings) {
    if (finding.id.split('::').length > 2) {
      construct.node.addMetadata(Validations.ACKNOWLEDGED_RULES_METADATA_KEY, { [finding.id]: finding.reason });
    } else {
      Validations.of(construct).acknowledge(finding);
    }
  }
}
