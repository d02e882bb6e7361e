import { createHash } from 'crypto';
import { DAG_ID_PATTERN } from '../dag-id';

/**
 * Turns what the trigger Lambda receives into an Airflow DAG run request: the DAG, a run id that is the same every
 * time the same thing happens (so a redelivered event finds its run, Airflow answers 409, and nothing runs twice)
 * and the run's `conf`.
 *
 * The `conf` shape is versioned by `trigger_conf_version`; DAGs read it with `dag_run.conf`. Keys present per kind:
 * - always: trigger_conf_version, source_kind, event_id, event_time, event_source, event_detail_type, account, region
 * - ecr_image_push: repository_name, image_digest, image_tag (when pushed with a tag), image_uri (by digest)
 * - s3_object_created: s3_bucket, s3_key, s3_version_id, s3_etag, s3_size, s3_uri (each when the event carries it)
 * - model_package_state_change: model_package_arn, model_package_group_name, model_package_version, model_approval_status
 * - event: detail (the event's detail, as delivered)
 */
export const TRIGGER_CONF_VERSION = 1;

export type SourceKind = 'ecr_image_push' | 's3_object_created' | 'model_package_state_change' | 'event';

export interface DagRunRequest {
  readonly dagId: string;
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

type Json = Record<string, unknown>;

/**
 * Accepts what the rule's input transformer sends (`{ dagId, rule, event }`) and, for replays, a Lambda
 * on-failure destination record whose `requestPayload` is that object.
 */
export function parseTriggerInput(input: unknown): ParseResult {
  if (!isObject(input)) return reject('input is not a JSON object');
  const payload = isObject(input.requestPayload) && isObject(input.requestContext) ? input.requestPayload : input;
  const dagId = payload.dagId;
  if (typeof dagId !== 'string' || !DAG_ID_PATTERN.test(dagId)) {
    return reject(`dagId must match ${DAG_ID_PATTERN} (got ${describe(dagId)})`);
  }
  const event = payload.event;
  if (!isObject(event)) return reject('event is missing or not an object');
  for (const field of ['id', 'source', 'detail-type', 'time', 'account', 'region']) {
    if (!nonEmptyString(event[field])) return reject(`event.${field} must be a non-empty string (got ${describe(event[field])})`);
  }
  if (!isObject(event.detail)) return reject('event.detail is missing or not an object');

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
      dagId,
      kind,
      eventId: event.id as string,
      dagRunId: runId(kind, label, identity),
      conf: { ...base, source_kind: kind, ...facts },
    },
  };
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
  const key = object?.key;
  if (!nonEmptyString(bucket)) return { reason: `S3 bucket.name is ${describe(bucket)}` };
  if (!nonEmptyString(key)) return { reason: `S3 object.key is ${describe(key)}` };
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
  const version = typeof detail.ModelPackageVersion === 'number' ? detail.ModelPackageVersion : undefined;
  return {
    kind: 'model_package_state_change',
    // One run per package and status: metadata edits of an approved package emit the same status again.
    identity: [arn, status],
    label: version !== undefined ? `${group}.v${version}.${status}` : `${arn.split('/').pop()}.${status}`,
    facts: {
      model_package_arn: arn,
      model_package_group_name: group,
      ...(version !== undefined ? { model_package_version: version } : {}),
      model_approval_status: status,
    },
  };
}

/** `<kind>__<readable label>__<hash of the identity>`: within Airflow's run id characters and well under 250. */
export function runId(kind: SourceKind, label: string, identity: unknown[]): string {
  const hash = createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 20);
  const readable = label.replace(RUN_ID_CHARS, '-').slice(0, 80);
  return `${kind}__${readable}__${hash}`;
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
