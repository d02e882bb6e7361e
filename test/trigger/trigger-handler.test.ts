import { sampleEvent, triggerInput } from './events';
import { FakeClient } from './fake-client';
import { TRIGGER_CONF_VERSION } from '../../src/trigger/runtime/dag-run-request';
import { RestApiClientException, RestApiServerException } from '../../src/trigger/runtime/invoke-rest-api';
import { AwsServiceError } from '../../src/trigger/runtime/signed-request';
import { createTrigger, Logger, RetryableTriggerError } from '../../src/trigger/runtime/trigger-dag-run';

let mwaa = new FakeClient();
const serviceError = (name: string, message: string) => new AwsServiceError(name, message, { statusCode: 400, headers: {} });

function recordingLog() {
  const records: Array<{ level: string; record: any }> = [];
  const log: Logger = {
    info: (record) => records.push({ level: 'info', record }),
    warn: (record) => records.push({ level: 'warn', record }),
    error: (record) => records.push({ level: 'error', record }),
  };
  return { log, records, outcomes: () => records.map((r) => r.record.outcome) };
}

function newTrigger(extra: { attempts?: number } = {}) {
  const { log, records, outcomes } = recordingLog();
  const sleeps: number[] = [];
  const trigger = createTrigger({
    client: mwaa,
    environmentName: 'ml-env',
    log,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...extra,
  });
  return { trigger, records, outcomes, sleeps };
}

const clientError = (status: number) =>
  new RestApiClientException('RestApiClientException', `airflow ${status}`, { statusCode: 400, headers: {} }, { RestApiStatusCode: status, RestApiResponse: { detail: 'x' } });
const serverError = (status: number) =>
  new RestApiServerException('RestApiServerException', `airflow ${status}`, { statusCode: 400, headers: {} }, { RestApiStatusCode: status });

beforeEach(() => {
  mwaa = new FakeClient();
});

describe('a DAG run per event', () => {
  test('ECR push: POST /dags/{id}/dagRuns with a run id from repository and digest, logical_date null and the image by digest', async () => {
    mwaa.restApi.resolves({ RestApiStatusCode: 200 } as any);
    const { trigger, records } = newTrigger();
    const event = sampleEvent('ecr-image-action');

    const result = await trigger(triggerInput('train_model', event));

    expect(result.outcome).toBe('triggered');
    const calls = mwaa.restApi.calls;
    expect(calls).toHaveLength(1);
    const sent = calls[0] as any;
    expect(sent).toMatchObject({ Name: 'ml-env', Method: 'POST', Path: '/dags/train_model/dagRuns' });
    expect(Object.keys(sent.Body).sort()).toEqual(['conf', 'dag_run_id', 'logical_date']);
    expect(sent.Body.logical_date).toBeNull();
    expect(sent.Body.dag_run_id).toMatch(/^ecr_image_push__my-repository-name\.7f5b2640fe6f__[0-9a-f]{20}$/);
    expect(sent.Body.conf).toEqual({
      trigger_conf_version: TRIGGER_CONF_VERSION,
      source_kind: 'ecr_image_push',
      event_id: event.id,
      event_time: event.time,
      event_source: 'aws.ecr',
      event_detail_type: 'ECR Image Action',
      account: '123456789012',
      region: 'us-west-2',
      repository_name: 'my-repository-name',
      image_digest: event.detail['image-digest'],
      image_tag: 'latest',
      image_uri: `123456789012.dkr.ecr.us-west-2.amazonaws.com/my-repository-name@${event.detail['image-digest']}`,
    });
    expect(records).toEqual([{ level: 'info', record: expect.objectContaining({ outcome: 'triggered', dagId: 'train_model', dagRunId: sent.Body.dag_run_id, environment: 'ml-env', eventId: event.id }) }]);
  });

  test('S3 object: the run id follows bucket, key and version; conf carries them with the etag', async () => {
    mwaa.restApi.resolves({ RestApiStatusCode: 200 } as any);
    const { trigger } = newTrigger();
    const event = sampleEvent('s3-object-created');
    await trigger(triggerInput('train_model', event));
    const body = (mwaa.restApi.calls[0] as any).Body;
    expect(body.dag_run_id).toMatch(/^s3_object_created__example-key__[0-9a-f]{20}$/);
    expect(body.conf).toMatchObject({
      source_kind: 's3_object_created',
      s3_bucket: 'amzn-s3-demo-bucket1',
      s3_key: 'example-key',
      s3_uri: 's3://amzn-s3-demo-bucket1/example-key',
      s3_version_id: 'IYV3p45BT0ac8hjHg1houSdS1a.Mro8e',
      s3_etag: 'b1946ac92492d2347c6235b4d2611184',
      s3_size: 5,
    });

    // A new version of the same key is a new happening; the same version redelivered is not.
    const next = structuredClone(event);
    next.id = 'another-delivery';
    const nextVersion = structuredClone(event);
    nextVersion.detail.object['version-id'] = 'v2';
    await trigger(triggerInput('train_model', next));
    await trigger(triggerInput('train_model', nextVersion));
    const ids = mwaa.restApi.calls.map((c: any) => c.Body.dag_run_id);
    expect(ids[1]).toBe(ids[0]);
    expect(ids[2]).not.toBe(ids[0]);
  });

  test('model package approval: conf carries the package ARN, group, version and status', async () => {
    mwaa.restApi.resolves({ RestApiStatusCode: 200 } as any);
    const { trigger } = newTrigger();
    await trigger(triggerInput('deploy_model', sampleEvent('sagemaker-model-package-state-change')));
    const body = (mwaa.restApi.calls[0] as any).Body;
    expect(body.dag_run_id).toMatch(/^model_package_state_change__versionedmp-p-idy6c3e1fiqj\.v2\.Approved__[0-9a-f]{20}$/);
    expect(body.conf).toMatchObject({
      source_kind: 'model_package_state_change',
      model_package_arn: 'arn:aws:sagemaker:us-east-2:123456789012:model-package/versionedmp-p-idy6c3e1fiqj/2',
      model_package_group_name: 'versionedmp-p-idy6c3e1fiqj',
      model_package_version: 2,
      model_approval_status: 'Approved',
    });
  });

  test('any other event: the run id follows the event id and conf carries the detail', async () => {
    mwaa.restApi.resolves({ RestApiStatusCode: 200 } as any);
    const { trigger } = newTrigger();
    const event = { ...sampleEvent('ecr-image-action'), 'source': 'my.app', 'detail-type': 'Data Ready', 'detail': { table: 'sales' } };
    await trigger(triggerInput('train_model', event));
    const body = (mwaa.restApi.calls[0] as any).Body;
    expect(body.dag_run_id).toMatch(/^event__13cde686-328b-6117-af20-0e5566167482__[0-9a-f]{20}$/);
    expect(body.conf).toMatchObject({ source_kind: 'event', detail: { table: 'sales' } });
  });

  test('a Lambda on-failure record (a replay from the dead-letter queue) starts the same run as the original', async () => {
    mwaa.restApi.resolves({ RestApiStatusCode: 200 } as any);
    const { trigger } = newTrigger();
    const input = triggerInput('train_model', sampleEvent('ecr-image-action'));
    await trigger(input);
    await trigger({ version: '1.0', requestContext: { condition: 'RetriesExhausted' }, requestPayload: input, responsePayload: {} });
    const ids = mwaa.restApi.calls.map((c: any) => c.Body.dag_run_id);
    expect(ids).toHaveLength(2);
    expect(ids[1]).toBe(ids[0]);
  });
});

describe('idempotence', () => {
  test('409 from Airflow (run id exists) counts as already triggered, not an error', async () => {
    mwaa.restApi.rejects(clientError(409));
    const { trigger, outcomes } = newTrigger();
    const result = await trigger(triggerInput('train_model', sampleEvent('ecr-image-action')));
    expect(result).toMatchObject({ outcome: 'already_triggered', dagId: 'train_model' });
    expect(outcomes()).toEqual(['already_triggered']);
    expect(mwaa.restApi.calls).toHaveLength(1);
  });

  test('a retry after a timeout that had in fact created the run ends as already triggered', async () => {
    const timeout = Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
    mwaa.restApi.rejectsOnce(timeout).rejects(clientError(409));
    const { trigger, outcomes, sleeps } = newTrigger();
    const result = await trigger(triggerInput('train_model', sampleEvent('ecr-image-action')));
    expect(result.outcome).toBe('already_triggered');
    expect(outcomes()).toEqual(['retrying', 'already_triggered']);
    expect(sleeps).toHaveLength(1);
    const ids = mwaa.restApi.calls.map((c: any) => c.Body.dag_run_id);
    expect(new Set(ids).size).toBe(1);
  });
});

describe('faults that are retried, then fail the invocation (so the event reaches the dead-letter queue)', () => {
  const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException', $metadata: {} });
  test.each<[string, () => Error, string]>([
    ['Airflow 5xx', () => serverError(503), 'airflow_server_error'],
    ['Airflow 429', () => clientError(429), 'airflow_busy'],
    ['MWAA throttling', () => throttled, 'mwaa_ThrottlingException'],
    ['environment updating (ValidationException)', () => serviceError('ValidationException', 'Environment is UPDATING'), 'mwaa_ValidationException'],
    ['environment not found', () => serviceError('ResourceNotFoundException', 'nope'), 'mwaa_ResourceNotFoundException'],
    ['IAM denied', () => serviceError('AccessDeniedException', 'denied'), 'mwaa_AccessDeniedException'],
    ['a network error', () => Object.assign(new Error('ECONNRESET'), { code: 'ECONNRESET' }), 'mwaa_Error'],
  ])('%s: backs off, retries, then throws RetryableTriggerError', async (_name, error, reason) => {
    mwaa.restApi.rejects(error());
    const { trigger, outcomes, sleeps, records } = newTrigger({ attempts: 3 });
    const thrown = await trigger(triggerInput('train_model', sampleEvent('ecr-image-action'))).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(RetryableTriggerError);
    expect((thrown as RetryableTriggerError).reason).toBe(reason);
    expect(mwaa.restApi.calls).toHaveLength(3);
    expect(outcomes()).toEqual(['retrying', 'retrying', 'failed']);
    expect(records.at(-1)!.level).toBe('error');
    // Exponential backoff with up to 20% jitter.
    expect(sleeps[0]).toBeGreaterThanOrEqual(500);
    expect(sleeps[0]).toBeLessThanOrEqual(600);
    expect(sleeps[1]).toBeGreaterThanOrEqual(1000);
    expect(sleeps[1]).toBeLessThanOrEqual(1200);
  });

  test('a transient fault that clears is retried to success', async () => {
    mwaa.restApi.rejectsOnce(serverError(502)).resolves({ RestApiStatusCode: 200 } as any);
    const { trigger, outcomes } = newTrigger();
    const result = await trigger(triggerInput('train_model', sampleEvent('ecr-image-action')));
    expect(result.outcome).toBe('triggered');
    expect(outcomes()).toEqual(['retrying', 'triggered']);
  });

  test('stops retrying when the invocation would run out of time', async () => {
    mwaa.restApi.rejects(serverError(503));
    const { trigger, sleeps } = newTrigger({ attempts: 5 });
    const thrown = await trigger(triggerInput('train_model', sampleEvent('ecr-image-action')), { getRemainingTimeInMillis: () => 5_200 }).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(RetryableTriggerError);
    expect(sleeps).toEqual([]);
    expect(mwaa.restApi.calls).toHaveLength(1);
  });
});

describe('rejections: logged with a reason and the event, counted, not retried', () => {
  test.each<[number, string]>([
    [404, 'dag_not_found'],
    [403, 'forbidden_by_airflow'],
    [401, 'forbidden_by_airflow'],
    [422, 'rejected_by_airflow'],
    [400, 'rejected_by_airflow'],
  ])('Airflow %i: rejected as %s after one call', async (status, reason) => {
    mwaa.restApi.rejects(clientError(status));
    const { trigger, records } = newTrigger();
    const input = triggerInput('train_model', sampleEvent('ecr-image-action'));
    const result = await trigger(input);
    expect(result).toMatchObject({ outcome: 'rejected', reason });
    expect(mwaa.restApi.calls).toHaveLength(1);
    expect(records).toEqual([{ level: 'warn', record: expect.objectContaining({ outcome: 'rejected', reason, status, input }) }]);
  });

  test.each<[string, unknown, RegExp]>([
    ['not an object', 'hello', /not a JSON object/],
    ['no dagId', { event: sampleEvent('ecr-image-action') }, /dagId must match/],
    ['a dagId too long for the InvokeRestApi path', triggerInput('d'.repeat(51), sampleEvent('ecr-image-action')), /dagId must match/],
    ['a dagId with a slash', triggerInput('a/b', sampleEvent('ecr-image-action')), /dagId must match/],
    ['no event', { dagId: 'train_model' }, /event is missing/],
    ['an event without id', triggerInput('train_model', { ...sampleEvent('ecr-image-action'), id: '' }), /event\.id must be/],
    ['an event without detail', triggerInput('train_model', { ...sampleEvent('ecr-image-action'), detail: null }), /event\.detail/],
    ['a failed ECR push', triggerInput('train_model', { ...sampleEvent('ecr-image-action'), detail: { ...sampleEvent('ecr-image-action').detail, result: 'FAILURE' } }), /not SUCCESS/],
    ['an ECR delete', triggerInput('train_model', { ...sampleEvent('ecr-image-action'), detail: { ...sampleEvent('ecr-image-action').detail, 'action-type': 'DELETE' } }), /not PUSH/],
    ['an ECR push without digest', triggerInput('train_model', { ...sampleEvent('ecr-image-action'), detail: { ...sampleEvent('ecr-image-action').detail, 'image-digest': 'latest' } }), /image-digest/],
    ['an S3 event without key', triggerInput('train_model', { ...sampleEvent('s3-object-created'), detail: { bucket: { name: 'b' }, object: {} } }), /object\.key/],
    ['a model package event without ARN', triggerInput('deploy_model', { ...sampleEvent('sagemaker-model-package-state-change'), detail: { ModelPackageGroupName: 'g', ModelApprovalStatus: 'Approved' } }), /ModelPackageArn/],
  ])('%s: rejected without calling MWAA', async (_name, input, reason) => {
    const { trigger, records } = newTrigger();
    const result = await trigger(input);
    expect(result.outcome).toBe('rejected');
    expect(result.reason).toMatch(reason);
    expect(mwaa.restApi.calls).toHaveLength(0);
    expect(records).toEqual([{ level: 'warn', record: expect.objectContaining({ outcome: 'rejected', reason: 'malformed_event', input }) }]);
  });
});
