import { CfnResource, Validations } from 'aws-cdk-lib';
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

/** Every acknowledgement recorded on `scope` and below, as cdk-nag reads them. */
export function acknowledgements(scope: IConstruct): Array<{ path: string; id: string; reason: string }> {
  return scope.node.findAll().flatMap((c) => c.node.metadata
    .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
      path: c.node.path,
      // aws-cdk-lib records the ids it is given under a namespace (`annotation::`, `Annotation::` in newer releases).
      id: id.replace(/^[A-Za-z]+::(?=AwsSolutions-)/, ''),
      reason,
    }))));
}

/**
 * The acknowledgements whose reason does not name what their finding is about: the resource of an
 * `[Resource::X]` finding, the action of an `[Action::X]` one, the managed policy of a `[Policy::...]` one.
 */
export function reasonsNotNamingTheirSubject(scope: IConstruct): string[] {
  return acknowledgements(scope).filter(({ id, reason }) => {
    const subject = id.match(/\[(Resource|Action|Policy)::(.*)\]$/);
    if (!subject) return reason.length < 30;
    const named = subject[1] === 'Policy' ? subject[2].split('/').pop()! : subject[2];
    return !reason.includes(subject[1] === 'Resource' && named === '*' ? ' on *' : named);
  }).map(({ path, id, reason }) => `${path} ${id}: ${reason}`).filter((line, i, all) => all.indexOf(line) === i);
}
