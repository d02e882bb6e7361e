import * as fc from 'fast-check';
import { sampleEvent, triggerInput } from './events';
import { FakeClient } from './fake-client';
import { CLIENT_TOKEN_MAX, parseTriggerInput } from '../../src/trigger/runtime/dag-run-request';
import { RestApiClientException, RestApiServerException } from '../../src/trigger/runtime/invoke-rest-api';
import { AwsServiceError } from '../../src/trigger/runtime/signed-request';
import { createTrigger, RetryableTriggerError } from '../../src/trigger/runtime/trigger-dag-run';

const WORKFLOW_ARN = 'arn:aws:airflow-serverless:us-east-1:123456789012:workflow/churn_training-AbCdEfGh12';
const silent = { info: () => {}, warn: () => {}, error: () => {} };
const AIRFLOW_RUN_ID = /^[A-Za-z0-9_.~:+-]+$/;

const samples = [sampleEvent('ecr-image-action'), sampleEvent('s3-object-created'), sampleEvent('sagemaker-model-package-state-change')];

/** A sample event with fields deleted, replaced by arbitrary values, or added at any depth. */
const mutatedEvent = fc
  .tuple(
    fc.constantFrom(...samples),
    fc.array(
      fc.tuple(fc.constantFrom('delete', 'replace', 'add'), fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), fc.anything(), fc.string()),
      { maxLength: 4 },
    ),
  )
  .map(([sample, edits]) => {
    const event = structuredClone(sample);
    for (const [op, choices, value, newKey] of edits) {
      let node: any = event;
      for (let depth = 0; depth < choices.length; depth++) {
        if (typeof node !== 'object' || node === null) break;
        const keys = Object.keys(node);
        if (keys.length === 0) break;
        const key = keys[choices[depth] % keys.length];
        const last = depth === choices.length - 1 || typeof node[key] !== 'object' || node[key] === null;
        if (last) {
          if (op === 'delete') delete node[key];
          else if (op === 'replace') node[key] = value;
          // Adding to an array appends (a key such as 'length' would be no JSON any event could carry).
          else if (Array.isArray(node)) node.push(value);
          else node[newKey] = value;
          break;
        }
        node = node[key];
      }
    }
    return event;
  });

const dagId = fc.oneof(fc.constantFrom('train_model', 'deploy_model', 'a.b-c_d'), fc.string({ maxLength: 60 }));
const workflowArn = fc.oneof(fc.constant(WORKFLOW_ARN), fc.string({ maxLength: 120 }), fc.anything());
const anyInput = fc.oneof(
  fc.anything(),
  fc.record({ dagId, event: fc.anything() }),
  fc.tuple(dagId, mutatedEvent).map(([d, e]) => triggerInput(d, e)),
  fc.tuple(workflowArn, mutatedEvent).map(([arn, e]) => ({ workflowArn: arn, rule: 'R', event: e })),
);

/** Every answer MWAA, MWAA Serverless or Airflow can give, and some things no client should throw. */
const wire = { statusCode: 400, headers: {} };
const answer = fc.oneof(
  fc.constant({ ok: true as const }),
  fc.integer({ min: 400, max: 499 }).map((status) => ({ error: new RestApiClientException('RestApiClientException', 'x', wire, { RestApiStatusCode: status }) })),
  fc.integer({ min: 500, max: 599 }).map((status) => ({ error: new RestApiServerException('RestApiServerException', 'x', wire, { RestApiStatusCode: status }) })),
  fc.constantFrom('ThrottlingException', 'AccessDeniedException', 'ValidationException', 'InternalServerException', 'TimeoutError',
    'ConflictException', 'ServiceQuotaExceededException', 'ResourceNotFoundException', 'OperationTimeoutException')
    .map((name) => ({ error: new AwsServiceError(name, name, wire, { RetryAfterSeconds: 1 }) })),
  fc.anything().map((thing) => ({ error: thing })),
);

test('for thousands of generated and malformed events the handler only returns an outcome or throws RetryableTriggerError', async () => {
  await fc.assert(
    fc.asyncProperty(anyInput, answer, async (input, reply) => {
      const mwaa = new FakeClient();
      if ('ok' in reply) {
        mwaa.restApi.resolves({ RestApiStatusCode: 200 });
        mwaa.workflowRun.resolves({ RunId: 'run-1', Status: 'STARTING' });
      } else {
        mwaa.restApi.rejects(reply.error);
        mwaa.workflowRun.rejects(reply.error);
      }
      const trigger = createTrigger({ client: mwaa, environmentName: 'env', log: silent, attempts: 2, sleep: async () => {} });
      try {
        const result = await trigger(input);
        expect(['triggered', 'already_triggered', 'rejected']).toContain(result.outcome);
        if (result.outcome === 'rejected') expect(typeof result.reason).toBe('string');
      } catch (error) {
        expect(error).toBeInstanceOf(RetryableTriggerError);
      }
      // Whatever was sent is a body Airflow 3's strict model accepts, for a valid DAG id.
      for (const sent of mwaa.restApi.calls as any[]) {
        expect(sent.Path).toMatch(/^\/dags\/[A-Za-z0-9_.-]{1,50}\/dagRuns$/);
        expect(sent.Path.length).toBeLessThanOrEqual(64);
        expect(Object.keys(sent.Body).sort()).toEqual(['conf', 'dag_run_id', 'logical_date']);
      }
      // ...and a StartWorkflowRun request within the model's constraints, for a well-formed workflow ARN only.
      for (const sent of mwaa.workflowRun.calls) {
        expect(sent.WorkflowArn).toBe(WORKFLOW_ARN);
        expect(sent.ClientToken).toMatch(/^[\x21-\x7E]{1,128}$/);
        expect(sent.ClientToken!.length).toBeLessThanOrEqual(CLIENT_TOKEN_MAX);
        expect(typeof sent.OverrideParameters).toBe('object');
      }
      expect(mwaa.restApi.calls.length === 0 || mwaa.workflowRun.calls.length === 0).toBe(true);
    }),
    { numRuns: 3000 },
  );
});

test('the same event always gives the same run id, one Airflow accepts, whatever delivery it arrives in', () => {
  fc.assert(
    fc.property(mutatedEvent, fc.uuid(), fc.date({ noInvalidDate: true }), (event, redeliveryId, redeliveryTime) => {
      const first = parseTriggerInput(triggerInput('train_model', event));
      const again = parseTriggerInput(triggerInput('train_model', structuredClone(event)));
      expect(again).toEqual(first);
      if (!first.ok) return;
      expect(first.request.dagRunId).toMatch(AIRFLOW_RUN_ID);
      expect(first.request.dagRunId.length).toBeLessThanOrEqual(250);
      // ECR, S3 and model package runs follow what happened, not the delivery: a new id and time change nothing.
      if (first.request.kind !== 'event') {
        const redelivered = parseTriggerInput(triggerInput('train_model', { ...structuredClone(event), id: redeliveryId, time: redeliveryTime.toISOString() }));
        expect(redelivered.ok && redelivered.request.dagRunId).toBe(first.request.dagRunId);
      }
    }),
    { numRuns: 3000 },
  );
});

test('different images, objects or packages never share a run id', () => {
  const ecr = sampleEvent('ecr-image-action');
  fc.assert(
    fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.stringMatching(/^[a-f0-9]{64}$/), fc.stringMatching(/^[a-f0-9]{64}$/), (repo, a, b) => {
      fc.pre(a !== b);
      const run = (digest: string) => {
        const parsed = parseTriggerInput(triggerInput('train_model', { ...ecr, detail: { ...ecr.detail, 'repository-name': repo, 'image-digest': `sha256:${digest}` } }));
        return parsed.ok ? parsed.request.dagRunId : undefined;
      };
      expect(run(a)).toBeDefined();
      expect(run(a)).not.toBe(run(b));
    }),
    { numRuns: 1000 },
  );
});
