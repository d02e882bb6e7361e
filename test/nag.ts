import { CfnResource } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NagMessageLevel, NagPack, rules } from 'cdk-nag';
import { IConstruct } from 'constructs';

/** cdk-nag's MWAA logging rule, which no pre-built pack includes. */
class MwaaLoggingChecks extends NagPack {
  public readonly name = 'MwaaLogging';
  constructor() {
    super();
    this.packName = 'AwsSolutions';
  }
  protected checkResource(node: CfnResource): void {
    this.applyRule({
      ruleSuffixOverride: 'MWAAAllLoggingInfo',
      info: 'The MWAA environment does not log every component at INFO or above.',
      explanation: 'INFO logs record Airflow user and privilege changes.',
      level: NagMessageLevel.ERROR,
      rule: rules.mwaa.MWAAAllLoggingInfo,
      node,
    });
  }
}

/** Every unacknowledged finding of the AwsSolutions pack plus the MWAA logging rule, as `Rule: path`. */
export function nagFindings(scope: IConstruct): string[] {
  const findings: string[] = [];
  for (const pack of [new AwsSolutionsChecks(), new MwaaLoggingChecks()]) {
    for (const violation of pack.validateScope(scope).violations) {
      for (const resource of violation.violatingResources) {
        findings.push(`${violation.ruleName}: ${resource.constructPath ?? resource.resourceLogicalId}`);
      }
    }
  }
  return findings;
}
