import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { CREDENTIALS, WORKFLOW_ARN } from './capture-signed-requests';
import { sampleEvent } from './events';
import { jsonError, ScriptedServerlessEndpoint, serverlessLike } from './scripted-serverless-endpoint';
import { createHandler, HandlerOptions } from '../../src/trigger/dag-trigger.lambda';
import { clientToken, parseTriggerInput } from '../../src/trigger/runtime/dag-run-request';
import { CLIENT_TOKEN_PATTERN, CONTENT_TYPE, TARGET, WORKFLOW_ARN_PATTERN } from '../../src/trigger/runtime/start-workflow-run';

/**
 * The handler's MWAA Serverless path (src/trigger, through the real signing core and node's http) against a scripted
 * local StartWorkflowRun endpoint. The request's shape is also checked against botocore's service model here and, with
 * botocore's own validator, serializer and SigV4 signer, in test/python/test_trigger_requests.py.
 */
let endpoint: ScriptedServerlessEndpoint;

beforeEach(async () => {
  endpoint = await ScriptedServerlessEndpoint.start();
});

afterEach(async () => {
  await endpoint.stop();
});

function handler(extra: Partial<HandlerOptions> = {}) {
  const records: Array<Record<string, any>> = [];
  const sleeps: number[] = [];
  const record = (level: string) => (r: object) => records.push({ level, ...r });
  const trigger = createHandler({
    log: { info: record('info'), warn: record('warn'), error: record('error') },
    sleep: async (ms) => { sleeps.push(ms); },
    clientConfig: { serverlessEndpoint: endpoint.url, credentials: CREDENTIALS },
    ...extra,
  });
  return { trigger, records, sleeps, finals: () => records.filter((r) => r.final === true) };
}

const input = (event: unknown, workflowArn: unknown = WORKFLOW_ARN) => ({ workflowArn, rule: 'Rule', event });

describe('StartWorkflowRun request', () => {
  test('JSON 1.0 POST / with the target header, signed for airflow-serverless in the workflow\'s region; the conf as OverrideParameters', async () => {
    const { trigger, records } = handler();
    const event = sampleEvent('ecr-image-action');
    const result = await trigger(input(event));

    expect(result).toMatchObject({ outcome: 'triggered', workflowArn: WORKFLOW_ARN, workflowRunId: 'run-1' });
    expect(endpoint.requests).toHaveLength(1);
    const [request] = endpoint.requests;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/');
    expect(request.headers['x-amz-target']).toBe('AmazonMWAAServerless.StartWorkflowRun');
    expect(request.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(request.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/airflow-serverless\/aws4_request, SignedHeaders=[a-z0-9;-]*x-amz-target[a-z0-9;-]*, Signature=[0-9a-f]{64}$/);
    expect(request.headers['x-amz-security-token']).toBe(CREDENTIALS.sessionToken);

    const body = JSON.parse(request.body);
    expect(Object.keys(body)).toEqual(['WorkflowArn', 'ClientToken', 'OverrideParameters']);
    // The same deterministic run id as a DAG run of the same event, and the same conf.
    const asDag = parseTriggerInput({ dagId: 'train_model', rule: 'Rule', event });
    expect(asDag.ok && asDag.request.dagRunId).toBe(body.ClientToken);
    expect(asDag.ok && asDag.request.conf).toEqual(body.OverrideParameters);
    expect(result.clientToken).toBe(body.ClientToken);
    expect(records).toEqual([{ level: 'info', ...{ final: true, outcome: 'triggered', workflowArn: WORKFLOW_ARN, clientToken: body.ClientToken, workflowRunId: 'run-1', environment: 'serverless' } as any }].map((r) => expect.objectContaining(r)));
  });

  test('credentials come from the Lambda environment variables when none are configured', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'ASIAENVEXAMPLE', AWS_SECRET_ACCESS_KEY: 'envsecret', AWS_SESSION_TOKEN: 'envtoken' });
    try {
      const { trigger } = handler({ clientConfig: { serverlessEndpoint: endpoint.url } });
      await trigger(input(sampleEvent('ecr-image-action')));
      expect(endpoint.requests[0].headers.authorization).toMatch(/Credential=ASIAENVEXAMPLE\//);
      expect(endpoint.requests[0].headers['x-amz-security-token']).toBe('envtoken');
    } finally {
      process.env = saved;
    }
  });
});

describe('one run per happening: the ClientToken', () => {
  test('a redelivery (the same event again) gets the same token and the service returns the same run', async () => {
    const { trigger } = handler();
    const event = sampleEvent('s3-object-created');
    const first = await trigger(input(event));
    const again = await trigger(input(structuredClone(event)));
    expect(first).toMatchObject({ outcome: 'triggered', workflowRunId: 'run-1' });
    expect(again).toMatchObject({ outcome: 'triggered', workflowRunId: 'run-1', clientToken: first.clientToken });
    expect(new Set(endpoint.bodies.map((b) => b.ClientToken)).size).toBe(1);
  });

  test('another delivery of the same happening (new event id and time) gets the same token; its Conflict counts as already triggered', async () => {
    const { trigger, finals } = handler();
    const event = sampleEvent('ecr-image-action');
    const first = await trigger(input(event));
    const other = await trigger(input({ ...event, id: 'another-delivery', time: '2030-01-01T00:00:00Z' }));
    expect(first.outcome).toBe('triggered');
    expect(other).toMatchObject({ outcome: 'already_triggered', clientToken: first.clientToken });
    expect(endpoint.requests).toHaveLength(2);
    expect(finals().map((r) => [r.outcome, r.reason])).toEqual([['triggered', undefined], ['already_triggered', 'client_token_conflict']]);
  });

  test('a replay from the dead-letter queue (a Lambda on-failure record) uses the original token', async () => {
    const { trigger } = handler();
    const original = input(sampleEvent('sagemaker-model-package-state-change'));
    const first = await trigger(original);
    const replay = await trigger({ version: '1.0', requestContext: { condition: 'RetriesExhausted' }, requestPayload: original, responsePayload: {} });
    expect(replay).toMatchObject({ outcome: 'triggered', clientToken: first.clientToken, workflowRunId: first.workflowRunId });
  });

  test('a run id longer than 128 characters becomes a token by the DAG package\'s rule (naming.workflow_client_token)', () => {
    // Vectors computed with cdk_mwaa_mlops.naming.workflow_client_token (branch defs, assets/dags/cdk_mwaa_mlops/naming.py).
    const long = 'model_package_state_change__ggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg.v123456.Approved__c7da8c99f65dff82154c';
    expect(long).toHaveLength(130);
    expect(clientToken(long)).toBe('model_package_state_change__ggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg.v123456.Approve-37747ce5c97a97b9891f');
    expect(clientToken('x'.repeat(129))).toBe(`${'x'.repeat(107)}-0ec9eb33e74510bcdd1f`);
    expect(clientToken('x'.repeat(128))).toBe('x'.repeat(128));
    for (const token of [clientToken(long), clientToken('x'.repeat(129))]) expect(token).toMatch(CLIENT_TOKEN_PATTERN);
  });
});

describe('answers: retried, rejected or already triggered', () => {
  test.each([
    ['ThrottlingException', 400, { RetryAfterSeconds: 2, ServiceCode: 'airflow-serverless', QuotaCode: 'q' }],
    ['ServiceQuotaExceededException', 402, { ResourceId: 'r', ResourceType: 'WorkflowRun', ServiceCode: 's', QuotaCode: 'q' }],
    ['InternalServerException', 500, {}],
    ['OperationTimeoutException', 504, {}],
    ['ServiceUnavailableException', 503, {}],
  ])('%s (HTTP %i) is retried with backoff, and a later success counts', async (type, status, members) => {
    let calls = 0;
    const ok = serverlessLike();
    endpoint.script = (request) => (++calls <= 2 ? jsonError(status, type, members) : ok(request));
    const { trigger, records, sleeps } = handler({ attempts: 3 });
    const result = await trigger(input(sampleEvent('ecr-image-action')));
    expect(result.outcome).toBe('triggered');
    expect(records.map((r) => [r.outcome, r.reason])).toEqual([['retrying', `serverless_${type}`], ['retrying', `serverless_${type}`], ['triggered', undefined]]);
    expect(new Set(endpoint.bodies.map((b) => b.ClientToken)).size).toBe(1);
    if (type === 'ThrottlingException') {
      // At least RetryAfterSeconds, however short the backoff.
      expect(sleeps.every((ms) => ms >= 2_000)).toBe(true);
    } else {
      expect(sleeps[0]).toBeGreaterThanOrEqual(500);
      expect(sleeps[1]).toBeGreaterThanOrEqual(1_000);
    }
  });

  test('throttling that outlasts the attempts fails the invocation (Lambda retries, then the dead-letter queue)', async () => {
    endpoint.script = () => jsonError(400, 'ThrottlingException', { RetryAfterSeconds: 1 });
    const { trigger, finals } = handler({ attempts: 3 });
    const thrown = await trigger(input(sampleEvent('ecr-image-action'))).catch((e: unknown) => e);
    expect(thrown).toMatchObject({ name: 'RetryableTriggerError', reason: 'serverless_ThrottlingException' });
    expect(endpoint.requests).toHaveLength(3);
    expect(finals()).toEqual([expect.objectContaining({ level: 'error', outcome: 'failed', workflowArn: WORKFLOW_ARN })]);
  });

  test('a RetryAfterSeconds past the deadline is not waited for: the invocation fails in time', async () => {
    endpoint.script = () => jsonError(400, 'ThrottlingException', { RetryAfterSeconds: 600 });
    const { trigger, sleeps } = handler({ attempts: 3 });
    const deadline = Date.now() + 60_000;
    const thrown = await trigger(input(sampleEvent('ecr-image-action')), { getRemainingTimeInMillis: () => deadline - Date.now() }).catch((e: unknown) => e);
    expect(thrown).toMatchObject({ reason: 'serverless_ThrottlingException' });
    expect(sleeps).toEqual([]);
    expect(endpoint.requests).toHaveLength(1);
  });

  test('AccessDeniedException is retried and then fails, so the event is kept for a replay once IAM is fixed', async () => {
    endpoint.script = () => jsonError(403, 'AccessDeniedException');
    const { trigger, finals } = handler({ attempts: 2 });
    const thrown = await trigger(input(sampleEvent('ecr-image-action'))).catch((e: unknown) => e);
    expect(thrown).toMatchObject({ name: 'RetryableTriggerError', reason: 'serverless_AccessDeniedException' });
    expect(endpoint.requests).toHaveLength(2);
    expect(finals()).toEqual([expect.objectContaining({ outcome: 'failed', status: 403 })]);
  });

  test('ConflictException is already triggered, after one call', async () => {
    endpoint.script = () => jsonError(409, 'ConflictException', { ResourceId: 'x', ResourceType: 'WorkflowRun' });
    const { trigger, finals } = handler();
    const result = await trigger(input(sampleEvent('ecr-image-action')));
    expect(result.outcome).toBe('already_triggered');
    expect(endpoint.requests).toHaveLength(1);
    expect(finals()).toEqual([expect.objectContaining({ level: 'info', outcome: 'already_triggered', reason: 'client_token_conflict' })]);
  });

  test.each([
    ['ValidationException', 400, { Reason: 'fieldValidationFailed' }, 'rejected_by_service', /fieldValidationFailed: ValidationException from the stand-in/],
    ['ResourceNotFoundException', 404, { ResourceId: WORKFLOW_ARN, ResourceType: 'Workflow' }, 'workflow_not_found', /ResourceNotFoundException from the stand-in/],
  ])('%s is rejected with a reason and the input, after one call', async (type, status, members, reason, detail) => {
    endpoint.script = () => jsonError(status, type, members);
    const { trigger, finals } = handler();
    const given = input(sampleEvent('ecr-image-action'));
    const result = await trigger(given);
    expect(result).toMatchObject({ outcome: 'rejected', reason });
    expect(endpoint.requests).toHaveLength(1);
    expect(finals()).toEqual([expect.objectContaining({ level: 'warn', outcome: 'rejected', reason, status, detail: expect.stringMatching(detail), input: given })]);
  });

  test('an endpoint that never answers: each attempt is cut off before the deadline, and the invocation fails', async () => {
    endpoint.script = () => 'hang';
    const { trigger, finals } = handler();
    const deadline = Date.now() + 6_000;
    const thrown = await trigger(input(sampleEvent('ecr-image-action')), { getRemainingTimeInMillis: () => deadline - Date.now() }).catch((e: unknown) => e);
    expect(thrown).toMatchObject({ reason: 'serverless_timeout' });
    expect(finals()).toEqual([expect.objectContaining({ outcome: 'failed', reason: 'serverless_timeout' })]);
    expect(Date.now()).toBeLessThan(deadline - 3_000);
  });
});

const MALFORMED_ARNS: Array<[string, unknown]> = [
  ['not an ARN', 'churn_training'],
  ['another service', 'arn:aws:airflow:us-east-1:123456789012:environment/ml-env'],
  ['no id suffix', 'arn:aws:airflow-serverless:us-east-1:123456789012:workflow/churn_training'],
  ['a short account', 'arn:aws:airflow-serverless:us-east-1:12345678901:workflow/churn_training-AbCdEfGh12'],
  ['a bad partition', 'arn:awz:airflow-serverless:us-east-1:123456789012:workflow/churn_training-AbCdEfGh12'],
  ['trailing text', `${WORKFLOW_ARN}/x`],
  ['not a string', 42],
  ['an unresolved token', '${Token[TOKEN.123]}'],
];

describe('rejected inputs: counted, never sent', () => {
  test.each(MALFORMED_ARNS)('a malformed workflow ARN (%s) is rejected as malformed_event', async (_name, arn) => {
    const { trigger, finals } = handler();
    const given = input(sampleEvent('ecr-image-action'), arn);
    const result = await trigger(given);
    expect(result).toMatchObject({ outcome: 'rejected', reason: expect.stringMatching(/workflowArn must be an MWAA Serverless workflow ARN/) });
    expect(endpoint.requests).toHaveLength(0);
    expect(finals()).toEqual([expect.objectContaining({ level: 'warn', outcome: 'rejected', reason: 'malformed_event', environment: 'serverless', input: given })]);
  });

  test('an input naming both a dagId and a workflowArn is rejected', async () => {
    const { trigger } = handler({ environmentName: 'ml-env' });
    const result = await trigger({ dagId: 'train_model', workflowArn: WORKFLOW_ARN, rule: 'R', event: sampleEvent('ecr-image-action') });
    expect(result).toMatchObject({ outcome: 'rejected', reason: expect.stringMatching(/both a dagId and a workflowArn/) });
  });

  test('a dagId input reaching a trigger without an MWAA environment is rejected as no_environment', async () => {
    const { trigger, finals } = handler({ metricDimension: 'Stack/Trigger' });
    const result = await trigger({ dagId: 'train_model', rule: 'R', event: sampleEvent('ecr-image-action') });
    expect(result).toMatchObject({ outcome: 'rejected', reason: 'no_environment', dagId: 'train_model' });
    expect(finals()).toEqual([expect.objectContaining({ outcome: 'rejected', reason: 'no_environment', environment: 'Stack/Trigger' })]);
  });
});

describe('the bridge against botocore\'s service model (mwaa-serverless)', () => {
  const model = loadBotocoreModel('mwaa-serverless');
  const operation = model.operations.StartWorkflowRun;
  const inputShape = model.shapes[operation.input.shape];

  test('operation, protocol, target header, signing name', () => {
    expect(model.metadata).toMatchObject({ protocol: 'json', jsonVersion: '1.0', signingName: 'airflow-serverless', endpointPrefix: 'airflow-serverless', targetPrefix: 'AmazonMWAAServerless' });
    expect(operation.http).toEqual({ method: 'POST', requestUri: '/' });
    expect(TARGET).toBe(`${model.metadata.targetPrefix}.StartWorkflowRun`);
    expect(CONTENT_TYPE).toBe(`application/x-amz-json-${model.metadata.jsonVersion}`);
  });

  test('input members and their constraints', () => {
    expect(Object.keys(inputShape.members)).toEqual(['WorkflowArn', 'ClientToken', 'OverrideParameters', 'WorkflowVersion']);
    expect(inputShape.required).toEqual(['WorkflowArn']);
    const shape = (name: string) => model.shapes[inputShape.members[name].shape];
    // The handler's ARN check accepts exactly what the model's pattern (anchored) accepts.
    const modelArn = new RegExp(`^(?:${shape('WorkflowArn').pattern})$`);
    const candidates = [WORKFLOW_ARN, ...MALFORMED_ARNS.map(([, arn]) => String(arn)),
      'arn:aws-cn:airflow-serverless:cn-north-1:123456789012:workflow/a-0123456789', 'arn:aws-us-gov:airflow-serverless:us-gov-west-1:123456789012:workflow/a-0123456789',
      'arn:aws:airflow-serverless:eu-west-1:123456789012:workflow/a.b_c-d-0123456789', `arn:aws:airflow-serverless:eu-west-1:123456789012:workflow/${'n'.repeat(256)}-0123456789`];
    for (const arn of candidates) expect([arn, WORKFLOW_ARN_PATTERN.test(arn)]).toEqual([arn, modelArn.test(arn)]);
    expect(shape('WorkflowArn')).toMatchObject({ type: 'string', min: 1, max: 2048 });
    expect(shape('ClientToken')).toMatchObject({ type: 'string', min: 1, max: 128, pattern: '[\\x21-\\x7E]+' });
    expect(inputShape.members.ClientToken.idempotencyToken).toBe(true);
    expect(CLIENT_TOKEN_PATTERN.source).toBe(`^${shape('ClientToken').pattern.slice(0, -1)}{1,128}$`);
    const map = shape('OverrideParameters');
    expect(map.type).toBe('map');
    expect(model.shapes[map.key.shape].type).toBe('string');
    expect(model.shapes[map.value.shape]).toMatchObject({ type: 'structure', document: true });
  });
});

/** botocore's service model, from the project's Python venv. */
function loadBotocoreModel(service: string): any {
  const lib = path.join(__dirname, '..', '..', '.venv', 'lib');
  const python = fs.readdirSync(lib).find((d) => d.startsWith('python'))!;
  const dir = path.join(lib, python, 'site-packages', 'botocore', 'data', service);
  const version = fs.readdirSync(dir).sort().at(-1)!;
  const file = path.join(dir, version, 'service-2.json.gz');
  const raw = fs.existsSync(file) ? zlib.gunzipSync(fs.readFileSync(file)) : fs.readFileSync(path.join(dir, version, 'service-2.json'));
  return JSON.parse(raw.toString('utf8'));
}
