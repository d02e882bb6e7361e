import { MWAAClient, MWAAClientConfig } from '@aws-sdk/client-mwaa';
import { createTrigger, InvocationContext, TriggerDependencies, TriggerResult } from './runtime/trigger-dag-run';

export type Trigger = (input: unknown, context?: InvocationContext) => Promise<TriggerResult>;

export interface HandlerOptions extends Omit<TriggerDependencies, 'client'> {
  /** Configuration for the bundled MWAA client (tests and benchmarks point it at a local endpoint). */
  readonly clientConfig?: MWAAClientConfig;
}

/** How long the client waits for a TCP connection to MWAA. */
export const CONNECTION_TIMEOUT_MS = 3_000;
/** How long the client waits for MWAA's answer once connected (socket inactivity). */
export const REQUEST_TIMEOUT_MS = 20_000;

/**
 * Builds the trigger on the MWAA client bundled with it, so the InvokeRestApi command and the client always match.
 * The HTTP handler's timeouts bound each request; the trigger also aborts every attempt before Lambda's deadline.
 */
export function createHandler(options: HandlerOptions): Trigger {
  return createTrigger({ ...options, client: createMwaaClient(options.clientConfig) });
}

/** The MWAA client the handler uses: two SDK attempts per call, connection and request timeouts. */
export function createMwaaClient(config?: MWAAClientConfig): MWAAClient {
  return new MWAAClient({
    maxAttempts: 2,
    // client-mwaa 3.523 builds its NodeHttpHandler from these options (NodeHttpHandler.create).
    requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS } as MWAAClientConfig['requestHandler'],
    ...config,
  });
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
