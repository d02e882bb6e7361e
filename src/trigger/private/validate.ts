import { Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { DAG_ID_PATTERN } from '../dag-id';
import type { DagTriggerProps } from '../dag-trigger';

const GROUP_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/** Checks the trigger's numeric props against the service limits (tokens are left to deploy time). */
export function validateTriggerProps(props: Pick<DagTriggerProps, 'retryAttempts' | 'maxEventAge' | 'timeout' | 'reservedConcurrency'>): void {
  const reserved = props.reservedConcurrency;
  if (reserved !== undefined && !Token.isUnresolved(reserved) && (!Number.isInteger(reserved) || reserved < 1)) {
    throw new Error(`reservedConcurrency: ${reserved} is not allowed; use a whole number of at least 1 (0 would stop every trigger), or leave it out`);
  }
  const retries = props.retryAttempts;
  if (retries !== undefined && !Token.isUnresolved(retries) && (!Number.isInteger(retries) || retries < 0 || retries > 185)) {
    throw new Error(`retryAttempts: ${retries} is not allowed; EventBridge retries 0 to 185 times`);
  }
  const age = props.maxEventAge?.toSeconds();
  if (age !== undefined && !Token.isUnresolved(age) && (age < 60 || age > 86_400)) {
    throw new Error(`maxEventAge: ${age} seconds is not allowed; EventBridge keeps events 60 seconds to 24 hours`);
  }
  const timeout = props.timeout?.toSeconds();
  if (timeout !== undefined && !Token.isUnresolved(timeout) && (timeout < 10 || timeout > 900)) {
    throw new Error(`timeout: ${timeout} seconds is not allowed; use 10 seconds (room for one retry) to 900 seconds`);
  }
}

export function validateDagId(dagId: string, prop: string): void {
  if (Token.isUnresolved(dagId)) {
    throw new Error(`${prop}: must be a literal DAG id, not a token; it becomes part of the rule's target input`);
  }
  if (!DAG_ID_PATTERN.test(dagId)) {
    throw new Error(`${prop}: '${dagId}' is not allowed; use 1 to 50 letters, digits, '_', '.' or '-' (Airflow's dag_id characters; MWAA's InvokeRestApi path holds at most 64 characters)`);
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
