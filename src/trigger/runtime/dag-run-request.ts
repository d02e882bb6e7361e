import { createHash } from 'crypto';
import { DAG_ID_PATTERN } from '../dag-id';
import { LIFECYCLE_VALUE_PATTERN, MODEL_STAGE_PATTERN } from '../model-stage';
import { WORKFLOW_ARN_PATTERN } from './start-workflow-run';

/**
 * Turns what the trigger Lambda receives into a run request: the target (an Airflow DAG on MWAA, or an MWAA
 * Serverless workflow), a run id that is the same every time the same thing happens (so a redelivered event finds its
 * run: Airflow answers 409 for a known `dag_run_id`; MWAA Serverless returns the run of a known `ClientToken`) and the
 * run's `conf`.
 *
 * The `conf` shape is versioned by `trigger_conf_version`; DAGs read it with `dag_run.conf`, serverless workflows as
 * `OverrideParameters` (`{{ params.<key> }}`). Keys present per kind:
 * - always: trigger_conf_version, source_kind, event_id, event_time, event_source, event_detail_type, account, region
 * - ecr_image_push: repository_name, image_digest, image_tag (when pushed with a tag), image_uri (by digest)
 * - s3_object_created: s3_bucket, s3_key (decoded: the object's real key), s3_version_id, s3_etag, s3_size, s3_uri (each
 *   when the event carries it)
 * - model_package_state_change: model_package_arn, model_package_group_name, model_package_version, model_approval_status,
 *   model_package_modified_time (epoch milliseconds of the state change, when the event carries it); for a change of the
 *   package's lifecycle (UpdatedModelPackageFields names ModelLifeCycle) also model_package_stage and
 *   model_package_stage_status
 * - cloudwatch_alarm: alarm_name, alarm_arn, alarm_state, alarm_state_time (the new state's timestamp, as delivered),
 *   alarm_reason and alarm_previous_state (each when the event carries it)
 * - schedule: schedule_rule_arn, scheduled_time (the event's time: when the rule fired)
 * - event: detail (the event's detail, as delivered)
 */
export const TRIGGER_CONF_VERSION = 1;

export type SourceKind =
  'ecr_image_push' | 's3_object_created' | 'model_package_state_change' | 'cloudwatch_alarm' | 'schedule' | 'event';

/** Where the run starts: a DAG of the MWAA environment, or an MWAA Serverless workflow. */
export type RunTarget = { readonly kind: 'dag'; readonly dagId: string } | { readonly kind: 'workflow'; readonly workflowArn: string };

export interface DagRunRequest {
  readonly target: RunTarget;
  /** The DAG id (DAG targets only). */
  readonly dagId?: string;
  /** The workflow ARN (workflow targets only). */
  readonly workflowArn?: string;
  /** The deterministic run id: Airflow's `dag_run_id`; for a workflow, `clientToken(dagRunId)` is the ClientToken. */
  readonly dagRunId: string;
  readonly kind: SourceKind;
  readonly eventId: string;
  readonly conf: Record<string, unknown>;
}

export type ParseResult = { readonly ok: true; readonly request: DagRunRequest } | { readonly ok: false; readonly reason: string };

/** The OCI digest grammar (`algorithm:encoded`); AWS's own sample events carry shortened sha256 values. */
const DIGEST_PATTERN = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
/** Airflow's default `[scheduler] allowed_run_id_pattern`. */
const RUN_ID_CHARS = /[^A-Za-z0-9_.~:+-]/g;
/** An ISO 8601 date-time with a zone, as AWS writes them (`2019-10-02T17:04:40.989+0000`, `2015-10-08T16:53:06Z`). */
const TIMESTAMP_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})$/;
const ALARM_ARN_PATTERN = /^arn:[a-z0-9-]+:cloudwatch:[a-z0-9-]+:\d{12}:alarm:.+$/;
const RULE_ARN_PATTERN = /^arn:[a-z0-9-]+:events:[a-z0-9-]+:\d{12}:rule\/.+$/;

type Json = Record<string, unknown>;

/** How many Lambda on-failure records may wrap the rule's input: one per replay that failed again. */
export const MAX_REPLAY_DEPTH = 32;
/** How deep an event may nest; deeper ones are rejected (Airflow, the SDK and the logs all recurse on JSON). */
export const MAX_EVENT_DEPTH = 64;

/**
 * Accepts what the rule's input transformer sends (`{ dagId, rule, event }`, or `{ workflowArn, rule, event }` for an
 * MWAA Serverless workflow) and, for replays, a Lambda
 * on-failure destination record whose `requestPayload` is that object, or another such record when a replay failed
 * again (Lambda wraps the record it was given).
 */
export function parseTriggerInput(input: unknown): ParseResult {
  if (!isObject(input)) return reject('input is not a JSON object');
  let payload: Json = input;
  for (let depth = 0; isOnFailureRecord(payload); depth++) {
    if (depth === MAX_REPLAY_DEPTH) return reject(`input wraps more than ${MAX_REPLAY_DEPTH} Lambda on-failure records`);
    payload = payload.requestPayload as Json;
  }
  const target = parseTarget(payload);
  if ('reason' in target) return reject(target.reason);
  const event = payload.event;
  if (!isObject(event)) return reject('event is missing or not an object');
  for (const field of ['id', 'source', 'detail-type', 'time', 'account', 'region']) {
    if (!nonEmptyString(event[field])) return reject(`event.${field} must be a non-empty string (got ${describe(event[field])})`);
  }
  if (!isObject(event.detail)) return reject('event.detail is missing or not an object');
  if (depthExceeds(event, MAX_EVENT_DEPTH)) return reject(`event nests deeper than ${MAX_EVENT_DEPTH} levels`);

  const base = {
    trigger_conf_version: TRIGGER_CONF_VERSION,
    event_id: event.id,
    event_time: event.time,
    event_source: event.source,
    event_detail_type: event['detail-type'],
    account: event.account,
    region: event.region,
  };
  const specific = describeSource(event as Json & { detail: Json });
  if ('reason' in specific) return reject(specific.reason);
  const { kind, identity, label, facts } = specific;
  return {
    ok: true,
    request: {
      target,
      ...(target.kind === 'dag' ? { dagId: target.dagId } : { workflowArn: target.workflowArn }),
      kind,
      eventId: event.id as string,
      dagRunId: runId(kind, label, identity),
      conf: { ...base, source_kind: kind, ...facts },
    },
  };
}

function parseTarget(payload: Json): RunTarget | { reason: string } {
  const { dagId, workflowArn } = payload;
  if (dagId !== undefined && workflowArn !== undefined) return { reason: 'input names both a dagId and a workflowArn; a rule targets one of them' };
  if (workflowArn !== undefined) {
    if (typeof workflowArn !== 'string' || !WORKFLOW_ARN_PATTERN.test(workflowArn)) {
      return { reason: `workflowArn must be an MWAA Serverless workflow ARN (arn:<partition>:airflow-serverless:<region>:<account>:workflow/<name>-<id>; got ${describe(workflowArn)})` };
    }
    return { kind: 'workflow', workflowArn };
  }
  if (typeof dagId !== 'string' || !DAG_ID_PATTERN.test(dagId)) {
    return { reason: `dagId must match ${DAG_ID_PATTERN} (got ${describe(dagId)})` };
  }
  return { kind: 'dag', dagId };
}

interface SourceFacts {
  readonly kind: SourceKind;
  /** What makes two deliveries "the same happening". */
  readonly identity: unknown[];
  /** A human-readable part of the run id. */
  readonly label: string;
  readonly facts: Json;
}

function describeSource(event: Json & { detail: Json }): SourceFacts | { reason: string } {
  const detail = event.detail;
  const source = event.source;
  const detailType = event['detail-type'];
  if (source === 'aws.ecr' && detailType === 'ECR Image Action') return ecrPush(event, detail);
  if (source === 'aws.s3' && detailType === 'Object Created') return s3Object(detail);
  if (source === 'aws.sagemaker' && detailType === 'SageMaker Model Package State Change') return modelPackage(detail);
  if (source === 'aws.cloudwatch' && detailType === 'CloudWatch Alarm State Change') return alarmStateChange(event, detail);
  if (source === 'aws.events' && detailType === 'Scheduled Event') return scheduledEvent(event);
  return { kind: 'event', identity: [event.id], label: String(event.id), facts: { detail } };
}

function ecrPush(event: Json, detail: Json): SourceFacts | { reason: string } {
  if (detail['action-type'] !== 'PUSH') return { reason: `ECR action-type is ${describe(detail['action-type'])}, not PUSH` };
  if (detail.result !== 'SUCCESS') return { reason: `ECR result is ${describe(detail.result)}, not SUCCESS` };
  const repository = detail['repository-name'];
  const digest = detail['image-digest'];
  if (!nonEmptyString(repository)) return { reason: `ECR repository-name is ${describe(repository)}` };
  if (typeof digest !== 'string' || !DIGEST_PATTERN.test(digest)) return { reason: `ECR image-digest is ${describe(digest)}, not an image digest (algorithm:hex)` };
  const tag = nonEmptyString(detail['image-tag']) ? detail['image-tag'] : undefined;
  const region = event.region as string;
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return {
    kind: 'ecr_image_push',
    identity: [event.account, region, repository, digest],
    label: `${repository}.${digest.slice(digest.indexOf(':') + 1).slice(0, 12)}`,
    facts: {
      repository_name: repository,
      image_digest: digest,
      ...(tag ? { image_tag: tag } : {}),
      image_uri: `${event.account}.dkr.ecr.${region}.${domain}/${repository}@${digest}`,
    },
  };
}

function s3Object(detail: Json): SourceFacts | { reason: string } {
  const bucket = isObject(detail.bucket) ? detail.bucket.name : undefined;
  const object = isObject(detail.object) ? detail.object : undefined;
  if (!nonEmptyString(bucket)) return { reason: `S3 bucket.name is ${describe(bucket)}` };
  if (!nonEmptyString(object?.key)) return { reason: `S3 object.key is ${describe(object?.key)}` };
  const key = decodeS3Key(object!.key as string);
  const versionId = optionalString(object!['version-id']);
  const etag = optionalString(object!.etag);
  const sequencer = optionalString(object!.sequencer);
  const size = typeof object!.size === 'number' ? object!.size : undefined;
  return {
    kind: 's3_object_created',
    // Unversioned buckets have no version id; the sequencer then tells two writes of one key apart.
    identity: [bucket, key, versionId ?? sequencer ?? etag ?? null],
    label: key.slice(-60),
    facts: {
      s3_bucket: bucket,
      s3_key: key,
      s3_uri: `s3://${bucket}/${key}`,
      ...(versionId ? { s3_version_id: versionId } : {}),
      ...(etag ? { s3_etag: etag } : {}),
      ...(size !== undefined ? { s3_size: size } : {}),
    },
  };
}

function modelPackage(detail: Json): SourceFacts | { reason: string } {
  const arn = detail.ModelPackageArn;
  const group = detail.ModelPackageGroupName;
  const status = detail.ModelApprovalStatus;
  if (!nonEmptyString(arn) || !arn.startsWith('arn:')) return { reason: `SageMaker ModelPackageArn is ${describe(arn)}` };
  if (!nonEmptyString(group)) return { reason: `SageMaker ModelPackageGroupName is ${describe(group)}` };
  if (!nonEmptyString(status)) return { reason: `SageMaker ModelApprovalStatus is ${describe(status)}` };
  const lifecycle = lifecycleChange(detail);
  if (lifecycle && 'reason' in lifecycle) return lifecycle;
  const version = typeof detail.ModelPackageVersion === 'number' ? detail.ModelPackageVersion : undefined;
  const modified = epochMillis(detail.LastModifiedTime) ?? epochMillis(detail.CreationTime);
  const identity: unknown[] = modified === undefined ? [arn, status] : [arn, status, modified];
  const packageLabel = version !== undefined ? `${group}.v${version}` : arn.split('/').pop();
  return {
    kind: 'model_package_state_change',
    // Each state change is its own happening (approving a package again rolls back to it), while redeliveries of one
    // change carry the same modification time. The training DAG derives the same id from DescribeModelPackage
    // (assets/dags/cdk_mwaa_mlops/naming.py model_package_run_id).
    identity: lifecycle ? [...identity, lifecycle.stage, lifecycle.stageStatus] : identity,
    label: lifecycle ? `${packageLabel}.${lifecycle.stage}.${lifecycle.stageStatus}` : `${packageLabel}.${status}`,
    facts: {
      model_package_arn: arn,
      model_package_group_name: group,
      ...(version !== undefined ? { model_package_version: version } : {}),
      model_approval_status: status,
      ...(modified !== undefined ? { model_package_modified_time: modified } : {}),
      ...(lifecycle ? { model_package_stage: lifecycle.stage, model_package_stage_status: lifecycle.stageStatus } : {}),
    },
  };
}

/**
 * An alarm's change of state. The event names the alarm's ARN in `resources` and carries the new and the previous
 * state, each with its value, reason and timestamp
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html, "State change for a
 * single-metric alarm"). CloudWatch sends one event per change of state, so the alarm and the new state's timestamp
 * name the change: a redelivery finds its run, the next change of state is a new one.
 */
function alarmStateChange(event: Json, detail: Json): SourceFacts | { reason: string } {
  const arn = firstResource(event);
  const name = detail.alarmName;
  const state = isObject(detail.state) ? detail.state : undefined;
  if (typeof arn !== 'string' || !ALARM_ARN_PATTERN.test(arn)) return { reason: `CloudWatch alarm resources[0] is ${describe(arn)}, not an alarm ARN` };
  if (!nonEmptyString(name)) return { reason: `CloudWatch alarmName is ${describe(name)}` };
  if (!state) return { reason: `CloudWatch alarm state is ${describe(detail.state)}` };
  if (!nonEmptyString(state.value)) return { reason: `CloudWatch alarm state.value is ${describe(state.value)}` };
  const time = timestampMillis(state.timestamp);
  if (time === undefined) return { reason: `CloudWatch alarm state.timestamp is ${describe(state.timestamp)}, not an ISO 8601 time` };
  const previous = isObject(detail.previousState) ? optionalString(detail.previousState.value) : undefined;
  return {
    kind: 'cloudwatch_alarm',
    identity: [arn, time],
    label: `${name.slice(0, 60)}.${state.value}`,
    facts: {
      alarm_name: name,
      alarm_arn: arn,
      alarm_state: state.value,
      ...(previous ? { alarm_previous_state: previous } : {}),
      ...(typeof state.reason === 'string' ? { alarm_reason: state.reason } : {}),
      alarm_state_time: state.timestamp,
    },
  };
}

/**
 * A scheduled rule firing: the rule's ARN in `resources`, the scheduled time as the event's `time`, an empty detail
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/events/EventTypes.html#schedule_event_type). The rule and the
 * time name the firing.
 */
function scheduledEvent(event: Json): SourceFacts | { reason: string } {
  const arn = firstResource(event);
  if (typeof arn !== 'string' || !RULE_ARN_PATTERN.test(arn)) return { reason: `scheduled event resources[0] is ${describe(arn)}, not a rule ARN` };
  const time = timestampMillis(event.time);
  if (time === undefined) return { reason: `scheduled event time is ${describe(event.time)}, not an ISO 8601 time` };
  return {
    kind: 'schedule',
    identity: [arn, time],
    label: `${arn.slice(arn.lastIndexOf('/') + 1).slice(0, 56)}.${event.time}`,
    facts: { schedule_rule_arn: arn, scheduled_time: event.time },
  };
}

function firstResource(event: Json): unknown {
  return Array.isArray(event.resources) ? event.resources[0] : undefined;
}

/** Epoch milliseconds of an ISO 8601 time with a zone; undefined for anything else. */
function timestampMillis(value: unknown): number | undefined {
  if (typeof value !== 'string' || !TIMESTAMP_PATTERN.test(value)) return undefined;
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : parsed;
}

/**
 * The package's lifecycle stage and status when this state change is a change of its lifecycle, undefined otherwise.
 * SageMaker's event carries the package's whole description, `ModelLifeCycle` included whatever changed, and lists
 * the changed fields in `UpdatedModelPackageFields`
 * (https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html#eventbridge-model-package):
 * an approval of a package that has a stage is an approval, and keeps the approval's run id and conf.
 */
function lifecycleChange(detail: Json): { stage: string; stageStatus: string } | { reason: string } | undefined {
  const updated = detail.UpdatedModelPackageFields;
  if (!Array.isArray(updated) || !updated.includes('ModelLifeCycle')) return undefined;
  const lifecycle = detail.ModelLifeCycle;
  if (!isObject(lifecycle)) return { reason: `SageMaker ModelLifeCycle is ${describe(lifecycle)}, but UpdatedModelPackageFields names it` };
  const { Stage: stage, StageStatus: stageStatus } = lifecycle;
  if (typeof stage !== 'string' || !MODEL_STAGE_PATTERN.test(stage) || stage.length > 63) {
    return { reason: `SageMaker ModelLifeCycle.Stage is ${describe(stage)}, not a stage name (lowercase letters and digits in hyphen-separated words)` };
  }
  if (typeof stageStatus !== 'string' || !LIFECYCLE_VALUE_PATTERN.test(stageStatus)) {
    return { reason: `SageMaker ModelLifeCycle.StageStatus is ${describe(stageStatus)}, not a stage status` };
  }
  return { stage, stageStatus };
}

/**
 * The object's real key. S3 URL-encodes keys in its event notifications (form encoding: a space arrives as `+`, a
 * `+` as `%2B`; https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html). Its
 * EventBridge page (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html) does not say either way;
 * AWS's Lambda Powertools decodes the EventBridge key the same way (Python:
 * aws_lambda_powertools/utilities/data_classes/s3_event.py, `S3EventBridgeNotificationObject.key` returns
 * `unquote_plus(self["key"])`), and so does this. A key that is not valid encoding is kept as delivered.
 */
export function decodeS3Key(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return key;
  }
}

/** SageMaker sends times as epoch milliseconds; an ISO string is accepted too. */
function epochMillis(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.round(value);
  if (typeof value === 'string' && value.length > 0) {
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  return undefined;
}

function isOnFailureRecord(value: Json): boolean {
  return isObject(value.requestPayload) && isObject(value.requestContext);
}

/** Iterative, so that no input can exhaust the stack. */
function depthExceeds(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

/** A copy of `value` cut off below `max` levels, safe to log whatever the input was. */
export function boundedCopy(value: unknown, max = MAX_EVENT_DEPTH + MAX_REPLAY_DEPTH * 2 + 4): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (max <= 0) return '[nested too deep]';
  if (Array.isArray(value)) return value.map((v) => boundedCopy(v, max - 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, boundedCopy(v, max - 1)]));
}

/** `<kind>__<readable label>__<hash of the identity>`: within Airflow's run id characters and well under 250. */
export function runId(kind: SourceKind, label: string, identity: unknown[]): string {
  const hash = createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 20);
  const readable = label.replace(RUN_ID_CHARS, '-').slice(0, 80);
  return `${kind}__${readable}__${hash}`;
}

/** The most characters of StartWorkflowRun's `ClientToken`. */
export const CLIENT_TOKEN_MAX = 128;

/**
 * The ClientToken that starts the MWAA Serverless run for what `dagRunId` names in a provisioned environment: the run id
 * when it fits; a longer one (a model package run id with a long label reaches 130 characters) keeps its first 107
 * characters and ends with `-` and 20 hex characters of its SHA-256, so the token stays deterministic and unique.
 * The DAG package derives tokens by the same rule (`cdk_mwaa_mlops.naming.workflow_client_token`), so a run the
 * training workflow starts and the run the trigger starts for the same happening share a token.
 */
export function clientToken(dagRunId: string): string {
  if (dagRunId.length <= CLIENT_TOKEN_MAX) return dagRunId;
  const digest = createHash('sha256').update(dagRunId).digest('hex').slice(0, 20);
  return `${dagRunId.slice(0, CLIENT_TOKEN_MAX - 21)}-${digest}`;
}

function reject(reason: string): ParseResult {
  return { ok: false, reason };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function optionalString(value: unknown): string | undefined {
  return nonEmptyString(value) ? value : undefined;
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
