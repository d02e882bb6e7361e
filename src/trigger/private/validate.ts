import { Arn, ArnFormat, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import { validateNumber } from '../../private/validate-number';
import { DAG_ID_PATTERN } from '../dag-id';
import type { DagTriggerProps } from '../dag-trigger';
import { LIFECYCLE_VALUE_PATTERN, MODEL_STAGE_PATTERN } from '../model-stage';
import type { AlarmTriggerOptions, DagRunTargetOptions, ScheduleTriggerOptions } from '../trigger-options';

const GROUP_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
/** How many values EventBridge allows in a pattern's array is far larger; ten stages keep a rule readable. */
const MAX_STAGES = 10;

/** Checks the trigger's numeric props against the service limits (tokens are left to deploy time). */
export function validateTriggerProps(props: Pick<DagTriggerProps, 'retryAttempts' | 'maxEventAge' | 'timeout' | 'reservedConcurrency'>): void {
  validateNumber('reservedConcurrency', props.reservedConcurrency, {
    min: 1, wholeNumber: true, note: '0 would stop every trigger; leave it out for no reservation',
  });
  validateNumber('retryAttempts', props.retryAttempts, { min: 0, max: 185, wholeNumber: true, note: 'EventBridge retries at most 185 times' });
  validateNumber('maxEventAge', props.maxEventAge?.toSeconds(), { min: 60, max: 86_400, unit: 'seconds', note: 'EventBridge keeps events 60 seconds to 24 hours' });
  validateNumber('timeout', props.timeout?.toSeconds(), { min: 10, max: 900, unit: 'seconds', note: '10 seconds leave room for one retry' });
}

export function validateDagId(dagId: string, prop: string): void {
  if (Token.isUnresolved(dagId)) {
    throw new Error(`${prop}: must be a literal DAG id, not a token; it becomes part of the rule's target input`);
  }
  if (!DAG_ID_PATTERN.test(dagId)) {
    throw new Error(`${prop}: '${dagId}' is not allowed; use 1 to 50 letters, digits, '_', '.' or '-' (Airflow's dag_id characters; MWAA's InvokeRestApi path holds at most 64 characters)`);
  }
}

/** Exactly one target per rule; a DAG needs the trigger's environment. */
export function validateTarget(id: string, options: DagRunTargetOptions, hasEnvironment: boolean): void {
  if (options.dagId !== undefined && options.workflow !== undefined) {
    throw new Error(`${id}: set dagId ('${options.dagId}') or workflow (${options.workflow.node.path}), not both: a rule starts one target`);
  }
  if (options.dagId === undefined && options.workflow === undefined) {
    throw new Error(`${id}: set dagId (a DAG of the trigger's MWAA environment) or workflow (an MWAA Serverless workflow)`);
  }
  if (options.dagId !== undefined) {
    validateDagId(options.dagId, `${id}.dagId`);
    if (!hasEnvironment) {
      throw new Error(`${id}.dagId: '${options.dagId}' is a DAG, but this DagTrigger has no MWAA environment; set DagTriggerProps.environment, or start a serverless workflow with ${id}.workflow instead`);
    }
  }
}

export function validatePrefix(prefix: string | undefined): void {
  if (prefix === undefined || Token.isUnresolved(prefix)) return;
  if (prefix.length === 0) throw new Error("prefix: '' matches every key; leave prefix out instead");
  if (prefix.startsWith('/')) throw new Error(`prefix: '${prefix}' starts with '/'; S3 keys do not, so nothing would match (use e.g. 'raw/')`);
}

export function validateTagPrefixes(prefixes: string[] | undefined): void {
  if (prefixes === undefined) return;
  if (prefixes.length === 0) throw new Error('imageTagPrefixes: [] matches no push; leave it out to match every push');
  for (const prefix of prefixes) {
    if (!Token.isUnresolved(prefix) && prefix.length === 0) {
      throw new Error("imageTagPrefixes: '' matches every tag but not untagged pushes; leave imageTagPrefixes out instead");
    }
  }
}

export function validateGroupName(name: string): void {
  if (Token.isUnresolved(name)) return;
  if (!GROUP_NAME_PATTERN.test(name)) {
    throw new Error(`modelPackageGroupName: '${name}' is not a SageMaker model package group name (1 to 63 letters, digits and '-', starting and ending with a letter or digit)`);
  }
}

export function validateEventPattern(pattern: events.EventPattern): void {
  const fields = Object.entries(pattern).filter(([, value]) => value !== undefined);
  if (fields.length === 0) {
    throw new Error('eventPattern: an empty pattern matches nothing in EventBridge; match on at least one field (e.g. source)');
  }
}

/** The stage rule's stages: literal, distinct, stage names within SageMaker's limit of 63 characters. */
export function validateStages(stages: string[]): void {
  if (!Array.isArray(stages) || stages.length === 0 || stages.length > MAX_STAGES) {
    throw new Error(`stages: give 1 to ${MAX_STAGES} lifecycle stage names (got ${Array.isArray(stages) ? stages.length : String(stages)})`);
  }
  const seen = new Set<string>();
  for (const stage of stages) {
    if (typeof stage !== 'string' || Token.isUnresolved(stage)) {
      throw new Error('stages: each stage must be a literal name, not a token; it becomes part of the rule\'s pattern');
    }
    if (!MODEL_STAGE_PATTERN.test(stage) || stage.length > 63) {
      throw new Error(`stages: '${stage}' is not allowed; use at most 63 lowercase letters and digits in hyphen-separated words (e.g. 'dev', 'pre-prod')`);
    }
    if (seen.has(stage)) throw new Error(`stages: '${stage}' is listed twice`);
    seen.add(stage);
  }
}

/** A `ModelLifeCycle.StageStatus` value SageMaker accepts. */
export function validateStageStatus(status: string): void {
  if (Token.isUnresolved(status)) {
    throw new Error('stageStatus: must be a literal status, not a token; it becomes part of the rule\'s pattern');
  }
  if (!LIFECYCLE_VALUE_PATTERN.test(status)) {
    throw new Error(`stageStatus: '${status}' is not a SageMaker stage status (1 to 63 letters, digits and '-', starting and ending with a letter or digit, e.g. 'Approved')`);
  }
}

const ALARM_STATES: readonly string[] = Object.values(cloudwatch.AlarmState);

/** The alarm rule's alarm and states: an alarm of the trigger's account and region; distinct, known states. */
export function validateAlarmOptions(scope: Construct, id: string, options: AlarmTriggerOptions): void {
  if (!options.alarm) throw new Error(`${id}.alarm: give the CloudWatch alarm whose state changes start a run`);
  const here = Stack.of(scope);
  const arn = options.alarm.alarmArn;
  const there = Token.isUnresolved(arn) ? options.alarm.env : Arn.split(arn, ArnFormat.COLON_RESOURCE_NAME);
  for (const [what, theirs, ours] of [['account', there.account, here.account], ['region', there.region, here.region]]) {
    if (!Token.isUnresolved(theirs) && !Token.isUnresolved(ours) && theirs !== ours) {
      throw new Error(`${id}.alarm: ${options.alarm.node.path} is in ${what} ${theirs}, the trigger in ${ours}; CloudWatch sends an alarm's state changes only to the default event bus of the alarm's own account and region`);
    }
  }
  const states = options.states;
  if (states === undefined) return;
  if (!Array.isArray(states) || states.length === 0) {
    throw new Error(`${id}.states: [] matches no change of state; leave states out for ALARM only, or list some of ${ALARM_STATES.join(', ')}`);
  }
  const seen = new Set<string>();
  for (const state of states) {
    if (!ALARM_STATES.includes(state)) throw new Error(`${id}.states: '${String(state)}' is not an alarm state (one of ${ALARM_STATES.join(', ')})`);
    if (seen.has(state)) throw new Error(`${id}.states: '${state}' is listed twice`);
    seen.add(state);
  }
}

export function validateScheduleOptions(id: string, options: ScheduleTriggerOptions): void {
  if (!options.schedule || typeof options.schedule.expressionString !== 'string') {
    throw new Error(`${id}.schedule: give an events.Schedule, e.g. events.Schedule.rate(Duration.days(1))`);
  }
}
