import { invokeRestApi } from './runtime/invoke-rest-api';
import { ClientConfig, createSigner } from './runtime/signed-request';
import { startWorkflowRun } from './runtime/start-workflow-run';
import { createTrigger, InvocationContext, TriggerClient, TriggerDependencies, TriggerResult } from './runtime/trigger-dag-run';

export { CONNECTION_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from './runtime/signed-request';

export type Trigger = (input: unknown, context?: InvocationContext) => Promise<TriggerResult>;

export interface HandlerOptions extends Omit<TriggerDependencies, 'client'> {
  /** How the handler reaches MWAA and MWAA Serverless (tests and benchmarks point it at local endpoints). */
  readonly clientConfig?: ClientConfig;
}

/**
 * Builds the trigger on the handler's signing core: both calls (InvokeRestApi for DAGs on MWAA, StartWorkflowRun for
 * MWAA Serverless workflows) are signed and sent by the same core, with its connection and request timeouts; the
 * trigger also aborts every attempt before Lambda's deadline.
 */
export function createHandler(options: HandlerOptions): Trigger {
  return createTrigger({ ...options, client: createClient(options.clientConfig) });
}

/** The two calls, on one signing core (keep-alive connections, credentials from the Lambda environment). */
export function createClient(config: ClientConfig = {}): TriggerClient {
  const send = createSigner(config);
  const region = () => {
    const value = config.region ?? process.env.AWS_REGION;
    if (!value) throw Object.assign(new Error('AWS_REGION is not set'), { name: 'ConfigurationError' });
    return value;
  };
  return {
    invokeRestApi: (input, options) => invokeRestApi(send, config, region(), input, options),
    startWorkflowRun: (input, options) => startWorkflowRun(send, config, input, options),
  };
}

let trigger: Trigger | undefined;

/**
 * Entry point of the DagTrigger function: one EventBridge event in, at most one run out (an Airflow DAG run on MWAA,
 * or an MWAA Serverless workflow run).
 */
export async function handler(input: unknown, context?: InvocationContext): Promise<TriggerResult> {
  trigger ??= createHandler({
    environmentName: process.env.MWAA_ENVIRONMENT_NAME || undefined,
    metricDimension: process.env.TRIGGER_METRIC_DIMENSION || undefined,
  });
  return trigger(input, context);
}
