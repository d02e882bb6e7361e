import * as events from 'aws-cdk-lib/aws-events';

/**
 * The trigger Lambda's input: the DAG to start, the rule that matched, and the whole original event.
 *
 * EventBridge's `<aws.events.event.json>` variable inserts the complete event (with `detail`); aws-cdk-lib's
 * `RuleTargetInput.fromObject` cannot express it (it would quote the placeholder), so this small input class writes
 * the input template directly.
 */
export class DagRunInput extends events.RuleTargetInput {
  constructor(private readonly dagId: string) {
    super();
  }

  public bind(_rule: events.IRule): events.RuleTargetInputProperties {
    return {
      inputTemplate: `{"dagId":${JSON.stringify(this.dagId)},"rule":"<aws.events.rule-name>","event":<aws.events.event.json>}`,
    };
  }
}
