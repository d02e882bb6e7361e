import * as iam from 'aws-cdk-lib/aws-iam';
import { AirflowEnvironment } from './airflow/airflow-environment';
import { PIPELINE_NAME, PIPELINE_NAME_MAX } from './ml/private/validate';
import type { MwaaMlopsPipelineProps } from './mwaa-mlops-pipeline';
import { OrchestrationKind } from './serverless/orchestration';

/** The pipeline name given, or one derived from the construct id (`Churn` → `churn`, `Fraud_Detection` → `fraud-detection`). */
export function pipelineNameFor(id: string, given: string | undefined): string {
  if (given !== undefined) return given;
  const derived = id.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  if (!PIPELINE_NAME.test(derived) || derived.length > PIPELINE_NAME_MAX) {
    throw new Error(
      `pipelineName: not given, and '${derived}' derived from the construct id '${id}' is not a pipeline name; pass pipelineName ` +
      `(lowercase letters, digits and single hyphens, starting with a letter, at most ${PIPELINE_NAME_MAX} characters)`,
    );
  }
  return derived;
}

/** Refuses combinations of props that cannot work, naming the prop, the value and what is allowed. */
export function checkComposition(props: MwaaMlopsPipelineProps): void {
  if (props.orchestration?.kind === OrchestrationKind.SERVERLESS) {
    const { environment, environmentProps, executionRoleGrantedSeparately } = props;
    const given = { environment, environmentProps, executionRoleGrantedSeparately };
    for (const [prop, value] of Object.entries(given)) {
      if (value !== undefined) {
        throw new Error(`${prop}: set, but orchestration is Orchestration.serverless(), which runs on MWAA Serverless workflows with no environment; drop ${prop} or use Orchestration.provisioned()`);
      }
    }
  }
  if (props.environment && props.environmentProps) {
    throw new Error(
      `environmentProps: given with environment ${props.environment.node.path}; environmentProps only shape an environment ` +
      'this construct creates, so pass one or the other',
    );
  }
  const role = (props.environment as { executionRole?: iam.IRole } | undefined)?.executionRole;
  const imported = props.environment !== undefined && !(props.environment instanceof AirflowEnvironment);
  if (imported && !role && !props.executionRoleGrantedSeparately) {
    throw new Error(
      `environment: ${props.environment!.node.path} is imported without executionRole, so the DAGs would have no permissions; ` +
      'pass executionRole to AirflowEnvironment.fromEnvironmentAttributes, or set executionRoleGrantedSeparately: true and call ' +
      'workflow.grantRunDags(role) (or grant the same in the role\'s own account)',
    );
  }
  if (props.executionRoleGrantedSeparately && (!imported || role)) {
    throw new Error(
      'executionRoleGrantedSeparately: true, but the environment\'s execution role is known here and is granted automatically; ' +
      'drop executionRoleGrantedSeparately (it is only for an imported environment without executionRole)',
    );
  }
  checkRawPrefix(props);
  const taken = (prop: string, value: unknown, instead: string) => {
    if (value !== undefined) throw new Error(`${prop}: ${String(value)} is set, but ${instead}; drop it`);
  };
  taken('modelBuild.failureTopic', props.modelBuild?.failureTopic?.node.path, 'build failures are reported to the monitoring topic (set monitoring.topic)');
  taken('modelBuild.notifyOnFailure', props.modelBuild?.notifyOnFailure, 'build failures are reported to the monitoring topic (set monitoring.topic)');
  taken('workflow.notificationTopic', props.workflow?.notificationTopic?.node.path, 'the DAGs notify the monitoring topic (set monitoring.topic)');
  taken('trigger.alarmTopic', props.trigger?.alarmTopic?.node.path, 'the trigger\'s alarms notify the monitoring topic (set monitoring.topic)');
  taken('modelBuild.encryptionKey', props.modelBuild?.encryptionKey?.node.path, 'the build and the workflow share one key (set encryptionKey)');
  taken('workflow.encryptionKey', props.workflow?.encryptionKey?.node.path, 'the build and the workflow share one key (set encryptionKey)');
}

/**
 * New objects under the raw prefix start training, and a training run writes under the other prefixes of the same
 * bucket: a raw prefix that covers them would start a run for every run's own output, without end.
 */
function checkRawPrefix(props: MwaaMlopsPipelineProps): void {
  const prefixes = props.workflow?.dataPrefixes;
  const raw = prefixes?.raw ?? 'raw/';
  const outputs: Record<string, string> = { processed: prefixes?.processed ?? 'processed/', artifacts: prefixes?.artifacts ?? 'artifacts/', checkpoints: prefixes?.checkpoints ?? 'checkpoints/' };
  // The serverless workflows' definitions are written to the data bucket too (ModelWorkflow).
  if (props.orchestration?.kind === OrchestrationKind.SERVERLESS) outputs.definitions = 'workflows/';
  const covered = Object.entries(outputs).filter(([, prefix]) => prefix.startsWith(raw)).map(([name, prefix]) => `${name} '${prefix}'`);
  if (covered.length > 0) {
    throw new Error(
      `workflow.dataPrefixes.raw: '${raw}' covers ${covered.join(', ')}; new objects under the raw prefix start training, so the ` +
      'pipeline\'s own outputs would start it again and again. Use a raw prefix that none of the other prefixes starts with (e.g. \'raw/\')',
    );
  }
}
