import { spawn } from 'child_process';
import { once } from 'events';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { alarmChange, sampleEvent, triggerInput } from './events';
import { airflowLike, ScriptedMwaaEndpoint } from './scripted-mwaa-endpoint';
import { jsonError, ScriptedServerlessEndpoint, serverlessLike } from './scripted-serverless-endpoint';
import type { HandlerOptions, Trigger } from '../../src/trigger/dag-trigger.lambda';

/**
 * The bundled handler (assets/, as deployed) against a scripted local MWAA endpoint: what the handler does with
 * replays, hanging servers and unreachable ones, encoded S3 keys, repeated approvals, deep events and unreadable answers.
 */
const BUNDLE = path.join(__dirname, '..', '..', 'assets', 'trigger', 'dag-trigger.lambda', 'index.js');

interface Bundle {
  createHandler(options: HandlerOptions): Trigger;
}

let bundle: Bundle;
let endpoint: ScriptedMwaaEndpoint;

beforeAll(() => {
  if (!fs.existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npx projen bundle\` (the test task does it first)`);
  // The bundle is a build output loaded by path at run time (jest runs without ESM support for import()).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  bundle = require(BUNDLE) as Bundle;
});

beforeEach(async () => {
  endpoint = await ScriptedMwaaEndpoint.start();
});

afterEach(async () => {
  await endpoint.stop();
});

function handler(extra: Partial<HandlerOptions> = {}) {
  const records: Array<Record<string, any>> = [];
  const record = (level: string) => (r: object) => records.push({ level, at: Date.now(), ...r });
  const trigger = bundle.createHandler({
    environmentName: 'ml-env',
    log: { info: record('info'), warn: record('warn'), error: record('error') },
    sleep: async () => {},
    clientConfig: {
      region: 'us-east-1',
      endpoint: endpoint.url,
      disableHostPrefix: true,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    },
    ...extra,
  });
  return { trigger, records, finals: () => records.filter((r) => r.final === true) };
}

/** What Lambda's on-failure destination sends after the invocation with `payload` kept failing. */
function onFailureRecord(payload: unknown) {
  return {
    version: '1.0',
    timestamp: '2026-11-23T10:00:00.000Z',
    requestContext: { requestId: 'r-1', functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST', condition: 'RetriesExhausted', approximateInvokeCount: 3 },
    requestPayload: payload,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: 'RetryableTriggerError', errorMessage: 'Could not start DAG run' },
  };
}

describe('1: a replay that fails again stays replayable', () => {
  test('on-failure records wrapped one to five times start the run of the original event', async () => {
    const { trigger } = handler();
    const input = triggerInput('train_model', sampleEvent('ecr-image-action'));
    const original = await trigger(input);
    let wrapped: unknown = input;
    for (let depth = 1; depth <= 5; depth++) {
      wrapped = onFailureRecord(wrapped);
      const replay = await trigger(wrapped);
      expect(replay).toMatchObject({ outcome: 'already_triggered', dagRunId: original.dagRunId });
    }
    expect(new Set(endpoint.runIds)).toEqual(new Set([original.dagRunId]));
    expect(endpoint.requests).toHaveLength(6);
  });

  test('wrapping is bounded: an input nested in more records than any replay chain makes is rejected without a call', async () => {
    const { trigger } = handler();
    let wrapped: unknown = triggerInput('train_model', sampleEvent('ecr-image-action'));
    for (let depth = 0; depth < 40; depth++) wrapped = onFailureRecord(wrapped);
    const result = await trigger(wrapped);
    expect(result).toMatchObject({ outcome: 'rejected', reason: expect.stringMatching(/more than 32 Lambda on-failure records/) });
    expect(endpoint.requests).toHaveLength(0);
  });
});

describe('2: an endpoint that never answers', () => {
  test('each attempt is cut off before the deadline; `failed` is logged before it and the invocation throws', async () => {
    endpoint.script = () => 'hang';
    const { trigger, records } = handler();
    const start = Date.now();
    const deadline = start + 8_000;
    const thrown = await trigger(triggerInput('train_model', sampleEvent('ecr-image-action')), {
      getRemainingTimeInMillis: () => deadline - Date.now(),
    }).catch((e: Error) => e);

    expect(thrown).toMatchObject({ name: 'RetryableTriggerError', reason: 'mwaa_timeout' });
    const failed = records.filter((r) => r.outcome === 'failed');
    expect(failed).toEqual([expect.objectContaining({ level: 'error', final: true, reason: 'mwaa_timeout' })]);
    // The default margin (5 s) leaves time to log and return: the record is written well before the deadline.
    expect(failed[0].at).toBeLessThan(deadline - 4_000);
    expect(endpoint.requests.length).toBeGreaterThanOrEqual(1);
  }, 20_000);

  test('the deployed client\'s timeouts: a connect that never completes ends the attempt at 3 s, a missing answer at 20 s', async () => {
    endpoint.script = () => 'hang';
    const unconnectable = await portThatNeverConnects();
    try {
      const [connect, answer] = await Promise.all([timedAttempt(unconnectable.url), timedAttempt(endpoint.url)]);
      for (const attempt of [connect, answer]) {
        expect(attempt.thrown).toMatchObject({ name: 'RetryableTriggerError', reason: 'mwaa_TimeoutError' });
      }
      expect(connect.ms).toBeGreaterThanOrEqual(3_000);
      expect(connect.ms).toBeLessThan(4_500);
      // The request reached the endpoint: the 20 s are the wait for its answer.
      expect(endpoint.requests).toHaveLength(1);
      expect(answer.ms).toBeGreaterThanOrEqual(20_000);
      expect(answer.ms).toBeLessThan(21_500);
    } finally {
      unconnectable.close();
    }
  }, 30_000);
});

/**
 * One attempt (one trigger attempt, one SDK attempt) of the handler with the bundle's own HTTP handler settings, the
 * ones the deployed function runs with: `clientConfig` here sets no `requestHandler`.
 */
async function timedAttempt(url: string): Promise<{ thrown: unknown; ms: number }> {
  const { trigger } = handler({
    attempts: 1,
    clientConfig: {
      region: 'us-east-1',
      endpoint: url,
      disableHostPrefix: true,
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      maxAttempts: 1,
    },
  });
  const start = Date.now();
  const thrown = await trigger(triggerInput('train_model', sampleEvent('ecr-image-action'))).catch((e: unknown) => e);
  return { thrown, ms: Date.now() - start };
}

/**
 * A local port whose connects never complete: a listener that never accepts (Python: a Node server accepts every
 * connection itself), its accept queue filled, so Linux drops further SYNs and a connect waits as for an endpoint
 * that does not answer at all.
 */
async function portThatNeverConnects(): Promise<{ url: string; close(): void }> {
  const listener = spawn('python3', ['-c', [
    'import socket, sys',
    's = socket.socket()',
    "s.bind(('127.0.0.1', 0))",
    's.listen(0)',
    'print(s.getsockname()[1], flush=True)',
    'sys.stdin.read()',
  ].join('\n')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = Number(String(await once(listener.stdout!, 'data')).trim());
  const held: net.Socket[] = [];
  const close = () => {
    held.forEach((socket) => socket.destroy());
    listener.stdin!.end();
  };
  for (let i = 0; i < 8; i++) {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    held.push(socket);
    const connected = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true));
      setTimeout(() => resolve(false), 300);
    });
    if (!connected) return { url: `http://127.0.0.1:${port}`, close };
  }
  close();
  throw new Error(`the accept queue of port ${port} never filled`);
}

describe('3: S3 keys arrive URL-encoded and are decoded', () => {
  function s3Event(key: string) {
    const event = sampleEvent('s3-object-created');
    event.detail.object.key = key;
    return event;
  }

  test.each([
    ['raw/daily+sales+2026.csv', 'raw/daily sales 2026.csv'],
    ['raw/c%2B%2B+notes.csv', 'raw/c++ notes.csv'],
    ['raw/caf%C3%A9/%E6%95%B0%E6%8D%AE.csv', 'raw/café/数据.csv'],
    ['raw/plain-key.csv', 'raw/plain-key.csv'],
    ['raw/100%-done.csv', 'raw/100%-done.csv'],
  ])('%s names the object %s in s3_key and s3_uri', async (delivered, real) => {
    const { trigger } = handler();
    const result = await trigger(triggerInput('train_model', s3Event(delivered)));
    expect(result.outcome).toBe('triggered');
    const conf = endpoint.requests[0].Body.conf;
    expect(conf.s3_key).toBe(real);
    expect(conf.s3_uri).toBe(`s3://amzn-s3-demo-bucket1/${real}`);
    expect(result.dagRunId).toMatch(/^[A-Za-z0-9_.~:+-]+$/);
  });

  test('the same object gets the same run id however its key was encoded', async () => {
    const { trigger } = handler();
    const plus = await trigger(triggerInput('train_model', s3Event('raw/a+b.csv')));
    const percent = await trigger(triggerInput('train_model', { ...s3Event('raw/a%20b.csv'), id: 'other-delivery' }));
    expect(plus.outcome).toBe('triggered');
    expect(percent).toMatchObject({ outcome: 'already_triggered', dagRunId: plus.dagRunId });
  });
});

describe('4: each approval is its own happening', () => {
  function approval(version: number, modified: number, id: string) {
    const event = sampleEvent('sagemaker-model-package-state-change');
    const arn = `arn:aws:sagemaker:us-east-2:123456789012:model-package/churn-models/${version}`;
    return triggerInput('deploy_model', {
      ...event,
      id,
      resources: [arn],
      detail: { ...event.detail, ModelPackageGroupName: 'churn-models', ModelPackageVersion: version, ModelPackageArn: arn, LastModifiedTime: modified },
    });
  }

  test('approve 1, approve 2, approve 1 again to roll back: three deployments; a redelivery of any of them: none', async () => {
    const { trigger } = handler();
    const first = await trigger(approval(1, 1_700_000_000_000, 'e1'));
    const second = await trigger(approval(2, 1_700_000_100_000, 'e2'));
    const rollback = await trigger(approval(1, 1_700_000_200_000, 'e3'));
    const redelivered = await trigger(approval(1, 1_700_000_200_000, 'e3-again'));

    expect([first.outcome, second.outcome, rollback.outcome]).toEqual(['triggered', 'triggered', 'triggered']);
    expect(rollback.dagRunId).not.toBe(first.dagRunId);
    expect(redelivered).toMatchObject({ outcome: 'already_triggered', dagRunId: rollback.dagRunId });
    expect(endpoint.requests.at(-1)!.Body.conf).toMatchObject({ model_package_version: 1, model_package_modified_time: 1_700_000_200_000 });
  });

  test('approve 1, then set it Approved for stage prod: a second deployment, for prod; a redelivery of it: none', async () => {
    const { trigger } = handler();
    const approved = approval(1, 1_700_000_000_000, 'e1');
    const promoted = approval(1, 1_700_000_300_000, 'e4');
    Object.assign(promoted.event.detail, {
      ModelLifeCycle: { Stage: 'prod', StageStatus: 'Approved', StageDescription: 'release' },
      UpdatedModelPackageFields: ['ModelLifeCycle'],
    });
    const first = await trigger(approved);
    const stage = await trigger(promoted);
    const redelivered = await trigger({ ...promoted, event: { ...promoted.event, id: 'e4-again' } });

    expect([first.outcome, stage.outcome]).toEqual(['triggered', 'triggered']);
    expect(stage.dagRunId).toMatch(/^model_package_state_change__churn-models\.v1\.prod\.Approved__[0-9a-f]{20}$/);
    expect(redelivered).toMatchObject({ outcome: 'already_triggered', dagRunId: stage.dagRunId });
    expect(endpoint.requests.at(-1)!.Body.conf).toMatchObject({ model_package_stage: 'prod', model_package_stage_status: 'Approved' });
  });
});

describe('4b: each change of an alarm and each firing of a schedule is its own happening', () => {
  test('drift: ALARM, its redelivery, OK, ALARM again: two retrains; the redelivery starts none', async () => {
    const { trigger } = handler();
    const alarmed = await trigger(triggerInput('churn_training', alarmChange('ALARM', 'OK', '2026-12-01T02:10:00.000+0000')));
    const redelivered = await trigger(triggerInput('churn_training', alarmChange('ALARM', 'OK', '2026-12-01T02:10:00.000+0000', 'churn-drift', 'e-again')));
    const recovered = await trigger(triggerInput('churn_training', alarmChange('OK', 'ALARM', '2026-12-02T02:10:00.000+0000')));
    const again = await trigger(triggerInput('churn_training', alarmChange('ALARM', 'OK', '2026-12-03T02:10:00.000+0000')));

    expect([alarmed.outcome, redelivered.outcome, recovered.outcome, again.outcome]).toEqual(['triggered', 'already_triggered', 'triggered', 'triggered']);
    expect(alarmed.dagRunId).toMatch(/^cloudwatch_alarm__churn-drift\.ALARM__[0-9a-f]{20}$/);
    expect(redelivered.dagRunId).toBe(alarmed.dagRunId);
    expect(again.dagRunId).not.toBe(alarmed.dagRunId);
    expect(endpoint.requests[0].Body.conf).toMatchObject({
      source_kind: 'cloudwatch_alarm', alarm_name: 'churn-drift', alarm_state: 'ALARM', alarm_previous_state: 'OK', alarm_state_time: '2026-12-01T02:10:00.000+0000',
    });
  });

  test('schedule: a firing, its redelivery, the next firing: two drift checks', async () => {
    const { trigger } = handler();
    const fired = (time: string, id: string) => triggerInput('churn_drift', { ...sampleEvent('scheduled-event'), id, time });
    const first = await trigger(fired('2026-12-01T02:00:00Z', 'e1'));
    const redelivered = await trigger(fired('2026-12-01T02:00:00Z', 'e1-again'));
    const next = await trigger(fired('2026-12-02T02:00:00Z', 'e2'));
    expect([first.outcome, redelivered.outcome, next.outcome]).toEqual(['triggered', 'already_triggered', 'triggered']);
    expect(endpoint.requests.at(-1)!.Body.conf).toMatchObject({
      source_kind: 'schedule', schedule_rule_arn: 'arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule', scheduled_time: '2026-12-02T02:00:00Z',
    });
  });

  test('an alarm event that lost its alarm ARN is rejected without a call', async () => {
    const { trigger, finals } = handler();
    const event = alarmChange('ALARM', 'OK', '2026-12-01T02:10:00.000+0000');
    event.resources = [];
    expect((await trigger(triggerInput('churn_training', event))).outcome).toBe('rejected');
    expect(endpoint.requests).toHaveLength(0);
    expect(finals()).toEqual([expect.objectContaining({ outcome: 'rejected', reason: 'malformed_event' })]);
  });
});

describe('5: smaller things', () => {
  test('an event nested thousands deep is rejected without a call, and the log record stays loggable', async () => {
    let detail: Record<string, unknown> = { leaf: true };
    for (let i = 0; i < 5_000; i++) detail = { next: detail };
    const { trigger, records } = handler();
    const event = { ...sampleEvent('ecr-image-action'), 'source': 'my.app', 'detail-type': 'Data Ready', detail };
    const result = await trigger(triggerInput('train_model', event));
    expect(result).toMatchObject({ outcome: 'rejected', reason: expect.stringMatching(/nests deeper than 64 levels/) });
    expect(endpoint.requests).toHaveLength(0);
    expect(records).toHaveLength(1);
    expect(() => JSON.stringify(records[0])).not.toThrow();
    expect(JSON.stringify(records[0]).length).toBeLessThan(10_000);
  });

  test('an HTTP 200 whose body is not JSON is a created run (MWAA answers 200 only for Airflow 2xx), after one call', async () => {
    endpoint.script = () => ({ status: 200, headers: { 'content-type': 'text/html' }, body: '<html>ok</html>' });
    const { trigger, records } = handler();
    const result = await trigger(triggerInput('train_model', sampleEvent('ecr-image-action')));
    expect(result.outcome).toBe('triggered');
    expect(endpoint.requests).toHaveLength(1);
    expect(records.map((r) => r.outcome)).toEqual(['triggered']);
  });

  test('an error answer whose body is not JSON is retried under its error type, not as a syntax error', async () => {
    endpoint.script = () => ({ status: 503, headers: { 'x-amzn-errortype': 'ServiceUnavailableException' }, body: '<html>busy</html>' });
    const { trigger, records } = handler({ attempts: 2 });
    const thrown = await trigger(triggerInput('train_model', sampleEvent('ecr-image-action'))).catch((e: Error) => e);
    expect(thrown).toMatchObject({ name: 'RetryableTriggerError', reason: 'mwaa_ServiceUnavailableException' });
    expect(records.at(-1)).toMatchObject({ outcome: 'failed', final: true });
  });

  test('every invocation logs exactly one final record, last; retries are marked final: false', async () => {
    let calls = 0;
    endpoint.script = (request) => (++calls <= 2
      ? { status: 400, headers: { 'x-amzn-errortype': 'RestApiServerException' }, body: JSON.stringify({ RestApiStatusCode: 503 }) }
      : airflowLike()(request));
    const { trigger, records, finals } = handler({ attempts: 3 });
    const result = await trigger(triggerInput('train_model', sampleEvent('ecr-image-action')));
    expect(result.outcome).toBe('triggered');
    expect(records.map((r) => [r.outcome, r.final])).toEqual([['retrying', false], ['retrying', false], ['triggered', true]]);
    expect(finals()).toHaveLength(1);

    const rejected = handler();
    await rejected.trigger({ not: 'an event' });
    expect(rejected.records).toEqual([expect.objectContaining({ outcome: 'rejected', final: true })]);
  });
});

describe('6: MWAA Serverless workflows, through the bundle', () => {
  const WORKFLOW_ARN = 'arn:aws:airflow-serverless:us-east-1:123456789012:workflow/churn_training-AbCdEfGh12';
  let serverless: ScriptedServerlessEndpoint;

  beforeEach(async () => {
    serverless = await ScriptedServerlessEndpoint.start();
  });

  afterEach(async () => {
    await serverless.stop();
  });

  function serverlessHandler(extra: Partial<HandlerOptions> = {}) {
    const records: Array<Record<string, any>> = [];
    const record = (level: string) => (r: object) => records.push({ level, ...r });
    const trigger = bundle.createHandler({
      log: { info: record('info'), warn: record('warn'), error: record('error') },
      sleep: async () => {},
      clientConfig: { serverlessEndpoint: serverless.url, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } },
      ...extra,
    });
    return { trigger, records };
  }

  test('one run per happening: a redelivery and a replay from the dead-letter queue reuse the ClientToken', async () => {
    const { trigger } = serverlessHandler();
    const input = { workflowArn: WORKFLOW_ARN, rule: 'R', event: sampleEvent('s3-object-created') };
    const first = await trigger(input);
    const redelivered = await trigger(structuredClone(input));
    const replayed = await trigger(onFailureRecord(onFailureRecord(input)));
    expect(first).toMatchObject({ outcome: 'triggered', workflowRunId: 'run-1' });
    expect(redelivered).toMatchObject({ outcome: 'triggered', workflowRunId: 'run-1' });
    expect(replayed).toMatchObject({ outcome: 'triggered', workflowRunId: 'run-1' });
    expect(new Set(serverless.bodies.map((b) => b.ClientToken))).toEqual(new Set([first.clientToken]));
    expect(serverless.requests[0].headers).toMatchObject({ 'x-amz-target': 'AmazonMWAAServerless.StartWorkflowRun', 'content-type': 'application/x-amz-json-1.0' });
  });

  test('throttling is retried until the run starts; a malformed ARN is rejected without a call', async () => {
    let calls = 0;
    const ok = serverlessLike();
    serverless.script = (request) => (++calls === 1 ? jsonError(400, 'ThrottlingException', { RetryAfterSeconds: 1 }) : ok(request));
    const { trigger, records } = serverlessHandler();
    const result = await trigger({ workflowArn: WORKFLOW_ARN, rule: 'R', event: sampleEvent('ecr-image-action') });
    expect(result.outcome).toBe('triggered');
    expect(records.map((r) => r.outcome)).toEqual(['retrying', 'triggered']);

    const rejected = await trigger({ workflowArn: 'arn:aws:airflow-serverless:us-east-1:123456789012:workflow/no-suffix', rule: 'R', event: sampleEvent('ecr-image-action') });
    expect(rejected).toMatchObject({ outcome: 'rejected' });
    expect(serverless.requests).toHaveLength(2);
    expect(records.at(-1)).toMatchObject({ outcome: 'rejected', final: true, reason: 'malformed_event' });
  });
});
