import { MWAAClient } from '@aws-sdk/client-mwaa';
import { createTrigger, InvocationContext, TriggerResult } from './runtime/trigger-dag-run';

export { createTrigger } from './runtime/trigger-dag-run';

let trigger: ((input: unknown, context?: InvocationContext) => Promise<TriggerResult>) | undefined;

/** Entry point of the DagTrigger function: one EventBridge event in, at most one Airflow DAG run out. */
export async function handler(input: unknown, context?: InvocationContext): Promise<TriggerResult> {
  trigger ??= createTrigger({
    client: new MWAAClient({ maxAttempts: 2 }),
    environmentName: requiredEnv('MWAA_ENVIRONMENT_NAME'),
  });
  return trigger(input, context);
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set; the DagTrigger construct sets it to the MWAA environment name`);
  return value;
}
