import * as events from 'aws-cdk-lib/aws-events';

/**
 * The trigger Lambda's input: the target (a DAG id, or a serverless workflow's ARN), the rule that matched, and the
 * whole original event: `{ dagId, rule, event }` or `{ workflowArn, rule, event }`.
 *
 * EventBridge's `<aws.events.event.json>` variable inserts the complete event (with `detail`); aws-cdk-lib's
 * `RuleTargetInput.fromObject` cannot express it (it would quote the placeholder), so this small input class writes
 * the input template directly. A workflow ARN may be a token; it resolves inside the template string.
 */
export class DagRunInput extends events.RuleTargetInput {
  /** `{ dagId, rule, event }`. */
  public static forDag(dagId: string): DagRunInput {
    return new DagRunInput('dagId', dagId);
  }

  /** `{ workflowArn, rule, event }`. */
  public static forWorkflow(workflowArn: string): DagRunInput {
    return new DagRunInput('workflowArn', workflowArn);
  }

  private constructor(private readonly key: 'dagId' | 'workflowArn', private readonly value: string) {
    super();
  }

  public bind(_rule: events.IRule): events.RuleTargetInputProperties {
    return {
      inputTemplate: `{"${this.key}":${JSON.stringify(this.value)},"rule":"<aws.events.rule-name>","event":<aws.events.event.json>}`,
    };
  }
}
