import { MWAAClient, MWAAClientConfig } from '@aws-sdk/client-mwaa';
import { createTrigger, InvocationContext, TriggerDependencies, TriggerResult } from './runtime/trigger-dag-run';

export type Trigger = (input: unknown, context?: InvocationContext) => Promise<TriggerResult>;

export interface HandlerOptions extends Omit<TriggerDependencies, 'client'> {
  /** Configuration for the bundled MWAA client (tests and benchmarks point it at a local endpoint). */
  readonly clientConfig?: MWAAClientConfig;
}

/** Builds the trigger on the MWAA client bundled with it, so the InvokeRestApi command and the client always match. */
export function createHandler(options: HandlerOptions): Trigger {
  return createTrigger({ ...options, client: new MWAAClient({ maxAttempts: 2, ...options.clientConfig }) });
}

let trigger: Trigger | undefined;

/** Entry point of the DagTrigger function: one EventBridge event in, at most one Airflow DAG run out. */
export async function handler(input: unknown, context?: InvocationContext): Promise<TriggerResult> {
  trigger ??= createHandler({ environmentName: requiredEnv('MWAA_ENVIRONMENT_NAME') });
  return trigger(input, context);
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; the DagTrigger construct sets it to the MWAA environment name`);
  return value;
}
