import { Duration, Resource, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { alarmChange, sampleEvent, triggerInput } from './events';
import { FakeClient } from './fake-client';
import { AirflowEnvironment, DagTrigger } from '../../src';
import type { IServerlessWorkflow } from '../../src/serverless/serverless-workflow-ref';
import { clientToken, parseTriggerInput, TRIGGER_CONF_VERSION } from '../../src/trigger/runtime/dag-run-request';
import { RestApiClientException } from '../../src/trigger/runtime/invoke-rest-api';
import { createTrigger, Logger } from '../../src/trigger/runtime/trigger-dag-run';
import { nagFindings } from '../nag';
import { newStack, template } from '../util';

const WORKFLOW_ARN = 'arn:aws:airflow-serverless:us-east-1:123456789012:workflow/churn_training-AbCdEfGh12';

class ImportedWorkflow extends Resource implements IServerlessWorkflow {
  readonly workflowArn = WORKFLOW_ARN;
  readonly workflowName = 'churn_training';
  grantStartRun(grantee: iam.IGrantable) {
    return iam.Grant.addToPrincipal({ grantee, actions: ['airflow-serverless:StartWorkflowRun'], resourceArns: [WORKFLOW_ARN] });
  }
}

function driftAlarm(scope: Stack, id = 'Drift') {
  return new cloudwatch.Alarm(scope, id, {
    metric: new cloudwatch.Metric({ namespace: 'CdkMwaaMlops/Drift', metricName: 'DriftedFeatureShare', period: Duration.days(1) }),
    threshold: 0.3,
    evaluationPeriods: 1,
  });
}

function dagTrigger(stack: Stack = newStack()) {
  const environment = AirflowEnvironment.fromEnvironmentAttributes(stack, 'Env', { environmentName: 'ml-env' });
  return { stack, trigger: new DagTrigger(stack, 'Trigger', { environment }) };
}

function onlyRule(stack: Stack): any {
  const rules = Object.values(template(stack).findResources('AWS::Events::Rule'));
  expect(rules).toHaveLength(1);
  return rules[0];
}

const DAG_INPUT = /^\{"dagId":"([a-z_]+)","rule":"<aws\.events\.rule-name>","event":<aws\.events\.event\.json>\}$/;

describe('DagTrigger.onAlarm', () => {
  test('the alarm\'s changes to ALARM (default): its ARN in resources, the state in detail; the function is the target', () => {
    const { stack, trigger } = dagTrigger();
    const alarm = driftAlarm(stack);
    const rule = trigger.onAlarm('Retrain', { alarm, dagId: 'churn_training' });
    expect(trigger.rules).toEqual([rule]);
    const resource = onlyRule(stack);
    expect(resource.Properties.EventPattern).toEqual({
      'source': ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      'resources': [{ 'Fn::GetAtt': [expect.stringMatching(/^Drift/), 'Arn'] }],
      'detail': { state: { value: ['ALARM'] } },
    });
    expect(resource.Properties.Description).toBe('Starts Airflow DAG churn_training: alarm Test/Drift in ALARM');
    const [target] = resource.Properties.Targets;
    expect(target.InputTransformer.InputTemplate).toMatch(DAG_INPUT);
    expect(target.InputTransformer.InputTemplate.match(DAG_INPUT)[1]).toBe('churn_training');
    expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 });
    expect(target.DeadLetterConfig).toBeDefined();
  });

  test('the given states; an imported alarm by ARN', () => {
    const { stack, trigger } = dagTrigger();
    const alarm = cloudwatch.Alarm.fromAlarmArn(stack, 'Imported', 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:churn-drift');
    trigger.onAlarm('Both', { alarm, states: [cloudwatch.AlarmState.ALARM, cloudwatch.AlarmState.OK], dagId: 'x' });
    expect(onlyRule(stack).Properties.EventPattern).toMatchObject({
      resources: ['arn:aws:cloudwatch:us-east-1:123456789012:alarm:churn-drift'],
      detail: { state: { value: ['ALARM', 'OK'] } },
    });
  });

  test('a serverless workflow target: {workflowArn, rule, event}, StartWorkflowRun granted on it', () => {
    const stack = newStack();
    const trigger = new DagTrigger(stack, 'Trigger');
    trigger.onAlarm('Retrain', { alarm: driftAlarm(stack), workflow: new ImportedWorkflow(stack, 'W') });
    const rule = onlyRule(stack);
    expect(rule.Properties.Targets[0].InputTransformer.InputTemplate)
      .toBe(`{"workflowArn":"${WORKFLOW_ARN}","rule":"<aws.events.rule-name>","event":<aws.events.event.json>}`);
    expect(rule.Properties.Description).toBe('Starts MWAA Serverless workflow Test/W: alarm Test/Drift in ALARM');
    template(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([{ Effect: 'Allow', Action: 'airflow-serverless:StartWorkflowRun', Resource: WORKFLOW_ARN }]) },
    });
  });

  test.each<[string, (stack: Stack) => object, RegExp]>([
    ['no states', (s) => ({ alarm: driftAlarm(s), states: [], dagId: 'x' }),
      /^A\.states: \[\] matches no change of state; leave states out for ALARM only, or list some of ALARM, OK, INSUFFICIENT_DATA$/],
    ['a state listed twice', (s) => ({ alarm: driftAlarm(s), states: ['ALARM', 'ALARM'], dagId: 'x' }), /^A\.states: 'ALARM' is listed twice$/],
    ['an unknown state', (s) => ({ alarm: driftAlarm(s), states: ['alarm'], dagId: 'x' }),
      /^A\.states: 'alarm' is not an alarm state \(one of ALARM, OK, INSUFFICIENT_DATA\)$/],
    ['no alarm', () => ({ dagId: 'x' }), /^A\.alarm: give the CloudWatch alarm whose state changes start a run$/],
    ['an alarm of another region', (s) => ({
      alarm: cloudwatch.Alarm.fromAlarmArn(s, 'Far', 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:far'), dagId: 'x',
    }), /^A\.alarm: Test\/Far is in region eu-west-1, the trigger in us-east-1; CloudWatch sends an alarm's state changes only to the default event bus/],
    ['no target', (s) => ({ alarm: driftAlarm(s) }), /^A: set dagId/],
  ])('synth error: %s', (_name, options, message) => {
    const stack = new Stack(undefined, 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
    const { trigger } = dagTrigger(stack);
    expect(() => trigger.onAlarm('A', options(stack) as any)).toThrow(message);
  });

  test('an environment-agnostic stack accepts an alarm of any environment (EventBridge decides at deploy time)', () => {
    const { stack, trigger } = dagTrigger();
    const alarm = cloudwatch.Alarm.fromAlarmArn(stack, 'Far', 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:far');
    expect(() => trigger.onAlarm('A', { alarm, dagId: 'x' })).not.toThrow();
  });
});

describe('DagTrigger.onSchedule', () => {
  test('a scheduled rule (no pattern) targeting the function with the same input as the event rules', () => {
    const { stack, trigger } = dagTrigger();
    trigger.onSchedule('Daily', { schedule: events.Schedule.rate(Duration.days(1)), dagId: 'churn_drift' });
    const rule = onlyRule(stack);
    expect(rule.Properties.ScheduleExpression).toBe('rate(1 day)');
    expect(rule.Properties.EventPattern).toBeUndefined();
    expect(rule.Properties.State).toBe('ENABLED');
    expect(rule.Properties.Description).toBe('Starts Airflow DAG churn_drift: schedule rate(1 day)');
    const [target] = rule.Properties.Targets;
    expect(target.InputTransformer.InputTemplate.match(DAG_INPUT)[1]).toBe('churn_drift');
    expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 });
  });

  test('a cron schedule and a workflow target', () => {
    const stack = newStack();
    new DagTrigger(stack, 'Trigger').onSchedule('Nightly', {
      schedule: events.Schedule.cron({ hour: '2', minute: '0' }), workflow: new ImportedWorkflow(stack, 'W'),
    });
    const rule = onlyRule(stack);
    expect(rule.Properties.ScheduleExpression).toBe('cron(0 2 * * ? *)');
    expect(rule.Properties.Targets[0].InputTransformer.InputTemplate).toContain(`{"workflowArn":"${WORKFLOW_ARN}"`);
  });

  test('synth errors: no schedule; a DAG without an environment', () => {
    const { trigger } = dagTrigger();
    expect(() => trigger.onSchedule('S', { dagId: 'x' } as any)).toThrow(/^S\.schedule: give an events\.Schedule, e\.g\. events\.Schedule\.rate\(Duration\.days\(1\)\)$/);
    const stack = newStack();
    expect(() => new DagTrigger(stack, 'T').onSchedule('S', { schedule: events.Schedule.rate(Duration.days(1)), dagId: 'x' }))
      .toThrow(/^S\.dagId: 'x' is a DAG, but this DagTrigger has no MWAA environment/);
  });

  test('cdk-nag AwsSolutions: no unacknowledged findings on a trigger with alarm and schedule rules', () => {
    const { stack, trigger } = dagTrigger();
    trigger.onAlarm('Retrain', { alarm: driftAlarm(stack), dagId: 'churn_training' });
    trigger.onSchedule('Daily', { schedule: events.Schedule.rate(Duration.days(1)), dagId: 'churn_drift' });
    expect(nagFindings(stack).filter((f) => f.includes('Test/Trigger'))).toEqual([]);
  });
});

function parse(event: unknown, target: Record<string, string> = { dagId: 'churn_training' }) {
  const parsed = parseTriggerInput({ ...target, rule: 'R', event });
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.request;
}

function rejection(event: unknown): string {
  const parsed = parseTriggerInput(triggerInput('churn_training', event));
  if (parsed.ok) throw new Error('accepted');
  return parsed.reason;
}

describe('cloudwatch_alarm: conf and run id', () => {
  test('the documented event: the alarm\'s facts; the run id names the alarm and the state', () => {
    const event = sampleEvent('cloudwatch-alarm-state-change');
    const request = parse(event);
    expect(request.kind).toBe('cloudwatch_alarm');
    expect(request.dagRunId).toMatch(/^cloudwatch_alarm__ServerCpuTooHigh\.ALARM__[0-9a-f]{20}$/);
    expect(request.conf).toEqual({
      trigger_conf_version: TRIGGER_CONF_VERSION,
      source_kind: 'cloudwatch_alarm',
      event_id: event.id,
      event_time: '2019-10-02T17:04:40Z',
      event_source: 'aws.cloudwatch',
      event_detail_type: 'CloudWatch Alarm State Change',
      account: '123456789012',
      region: 'us-east-1',
      alarm_name: 'ServerCpuTooHigh',
      alarm_arn: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh',
      alarm_state: 'ALARM',
      alarm_previous_state: 'OK',
      alarm_reason: event.detail.state.reason,
      alarm_state_time: '2019-10-02T17:04:40.989+0000',
    });
  });

  test('one run per change of state: a redelivery (even under another event id) has the run id; the next change has another', () => {
    const first = parse(alarmChange('ALARM', 'OK', '2026-12-01T02:10:00.000+0000'));
    const redelivered = parse(alarmChange('ALARM', 'OK', '2026-12-01T02:10:00.000+0000', 'churn-drift', 'other-event-id'));
    const sameInstant = parse(alarmChange('ALARM', 'OK', '2026-12-01T02:10:00Z'));
    const recovered = parse(alarmChange('OK', 'ALARM', '2026-12-02T02:10:00.000+0000'));
    const again = parse(alarmChange('ALARM', 'OK', '2026-12-03T02:10:00.000+0000'));
    const otherAlarm = parse(alarmChange('ALARM', 'OK', '2026-12-01T02:10:00.000+0000', 'fraud-drift'));
    expect(redelivered.dagRunId).toBe(first.dagRunId);
    expect(sameInstant.dagRunId).toBe(first.dagRunId);
    expect(new Set([first, recovered, again, otherAlarm].map((r) => r.dagRunId)).size).toBe(4);
  });

  test('a state change without a previous state or reason still runs; the conf leaves those keys out', () => {
    const event = alarmChange('ALARM', 'OK', '2026-12-01T02:10:00.000+0000');
    delete event.detail.previousState;
    delete event.detail.state.reason;
    const conf = parse(event).conf;
    expect(conf).not.toHaveProperty('alarm_previous_state');
    expect(conf).not.toHaveProperty('alarm_reason');
    expect(conf.alarm_state).toBe('ALARM');
  });

  test.each<[string, (e: any) => void, string]>([
    ['no resources', (e) => delete e.resources, 'CloudWatch alarm resources[0] is missing, not an alarm ARN'],
    ['a resource that is not an alarm ARN', (e) => (e.resources = ['arn:aws:sns:us-east-1:123456789012:topic']),
      'CloudWatch alarm resources[0] is "arn:aws:sns:us-east-1:123456789012:topic", not an alarm ARN'],
    ['no alarmName', (e) => delete e.detail.alarmName, 'CloudWatch alarmName is missing'],
    ['no state', (e) => delete e.detail.state, 'CloudWatch alarm state is missing'],
    ['a state without a value', (e) => (e.detail.state.value = ''), 'CloudWatch alarm state.value is ""'],
    ['a state without a timestamp', (e) => delete e.detail.state.timestamp, 'CloudWatch alarm state.timestamp is missing, not an ISO 8601 time'],
    ['a timestamp that is no time', (e) => (e.detail.state.timestamp = 'yesterday'),
      'CloudWatch alarm state.timestamp is "yesterday", not an ISO 8601 time'],
  ])('malformed: %s', (_name, spoil, reason) => {
    const event = sampleEvent('cloudwatch-alarm-state-change');
    spoil(event);
    expect(rejection(event)).toBe(reason);
  });
});

describe('schedule: conf and run id', () => {
  test('the documented event: the rule and the time it fired', () => {
    const event = sampleEvent('scheduled-event');
    const request = parse(event);
    expect(request.kind).toBe('schedule');
    expect(request.dagRunId).toMatch(/^schedule__my-scheduled-rule\.2015-10-08T16:53:06Z__[0-9a-f]{20}$/);
    expect(request.conf).toEqual({
      trigger_conf_version: TRIGGER_CONF_VERSION,
      source_kind: 'schedule',
      event_id: event.id,
      event_time: '2015-10-08T16:53:06Z',
      event_source: 'aws.events',
      event_detail_type: 'Scheduled Event',
      account: '123456789012',
      region: 'us-east-1',
      schedule_rule_arn: 'arn:aws:events:us-east-1:123456789012:rule/my-scheduled-rule',
      scheduled_time: '2015-10-08T16:53:06Z',
    });
  });

  test('one run per firing: a redelivery has the run id; the next firing and another rule have others', () => {
    const fired = (time: string, rule = 'my-scheduled-rule', id = 'e1') => ({
      ...sampleEvent('scheduled-event'), id, time, resources: [`arn:aws:events:us-east-1:123456789012:rule/${rule}`],
    });
    const first = parse(fired('2026-12-01T02:00:00Z')).dagRunId;
    expect(parse(fired('2026-12-01T02:00:00Z', 'my-scheduled-rule', 'e2')).dagRunId).toBe(first);
    expect(parse(fired('2026-12-02T02:00:00Z')).dagRunId).not.toBe(first);
    expect(parse(fired('2026-12-01T02:00:00Z', 'other-rule')).dagRunId).not.toBe(first);
  });

  test.each<[string, (e: any) => void, string]>([
    ['no resources', (e) => (e.resources = []), 'scheduled event resources[0] is missing, not a rule ARN'],
    ['a resource that is not a rule ARN', (e) => (e.resources = ['my-scheduled-rule']), 'scheduled event resources[0] is "my-scheduled-rule", not a rule ARN'],
    ['a time that is no time', (e) => (e.time = 'now'), 'scheduled event time is "now", not an ISO 8601 time'],
  ])('malformed: %s', (_name, spoil, reason) => {
    const event = sampleEvent('scheduled-event');
    spoil(event);
    expect(rejection(event)).toBe(reason);
  });
});

describe('through the trigger: one run per happening, malformed events rejected and counted', () => {
  function newTrigger(client: FakeClient) {
    const records: any[] = [];
    const log: Logger = { info: (r) => records.push(r), warn: (r) => records.push(r), error: (r) => records.push(r) };
    return { trigger: createTrigger({ client, environmentName: 'ml-env', log, sleep: async () => {} }), records };
  }
  const conflict = new RestApiClientException('RestApiClientException', 'airflow 409', { statusCode: 400, headers: {} },
    { RestApiStatusCode: 409, RestApiResponse: { detail: 'exists' } });

  test.each([
    ['an alarm change', alarmChange('ALARM', 'OK', '2026-12-01T02:10:00.000+0000'), 'cloudwatch_alarm'],
    ['a scheduled firing', sampleEvent('scheduled-event'), 'schedule'],
  ])('DAG: %s starts a run; its redelivery is already_triggered (Airflow 409 for the run id)', async (_name, event, kind) => {
    const client = new FakeClient();
    client.restApi.resolvesOnce({ RestApiStatusCode: 200 }).rejects(conflict);
    const { trigger, records } = newTrigger(client);
    expect((await trigger(triggerInput('churn_training', event))).outcome).toBe('triggered');
    expect((await trigger(triggerInput('churn_training', { ...event, id: 'redelivered' }))).outcome).toBe('already_triggered');
    const [first, second] = client.restApi.calls as any[];
    expect(first).toMatchObject({ Name: 'ml-env', Method: 'POST', Path: '/dags/churn_training/dagRuns' });
    expect(second.Body.dag_run_id).toBe(first.Body.dag_run_id);
    expect(first.Body.conf.source_kind).toBe(kind);
    expect(records.map((r) => [r.outcome, r.sourceKind])).toEqual([['triggered', kind], ['already_triggered', kind]]);
  });

  test.each([
    ['an alarm change', alarmChange('ALARM', 'OK', '2026-12-01T02:10:00.000+0000')],
    ['a scheduled firing', sampleEvent('scheduled-event')],
  ])('workflow: %s is one StartWorkflowRun whose ClientToken is the run id and whose parameters are the conf', async (_name, event) => {
    const client = new FakeClient();
    client.workflowRun.resolves({ $metadata: { httpStatusCode: 200 }, RunId: 'run-1', Status: 'STARTING' });
    const { trigger } = newTrigger(client);
    const input = { workflowArn: WORKFLOW_ARN, rule: 'R', event };
    await trigger(input);
    await trigger({ ...input, event: { ...event, id: 'redelivered' } });
    const request = parse(event, { workflowArn: WORKFLOW_ARN });
    expect(client.workflowRun.calls).toEqual([
      expect.objectContaining({ WorkflowArn: WORKFLOW_ARN, ClientToken: clientToken(request.dagRunId), OverrideParameters: request.conf }),
      expect.objectContaining({ ClientToken: clientToken(request.dagRunId) }),
    ]);
  });

  test.each([
    ['an alarm event whose state has no time', alarmChange('ALARM', 'OK', 'x')],
    ['a scheduled event without its rule', { ...sampleEvent('scheduled-event'), resources: [] }],
  ])('%s is rejected as malformed_event, logged with the input, and never sent', async (_name, event) => {
    const client = new FakeClient();
    const { trigger, records } = newTrigger(client);
    const result = await trigger(triggerInput('churn_training', event));
    expect(result.outcome).toBe('rejected');
    expect(client.restApi.calls).toEqual([]);
    expect(records).toEqual([expect.objectContaining({ outcome: 'rejected', final: true, reason: 'malformed_event', environment: 'ml-env', input: expect.anything() })]);
  });
});
