/**
 * MWAA Serverless's `StartWorkflowRun`, hand-built on the trigger's signing core (signed-request.ts).
 *
 * Why this file exists: `@aws-sdk/client-mwaa-serverless` is not on the npm registry this project builds from, and
 * the Lambda runtime's bundled SDK is of unknown version (it may lack the client), so the handler cannot rely on
 * either. The request follows the service model (botocore `mwaa-serverless` 2024-07-26; the jest and Python tests
 * check it against that model): AWS JSON 1.0, `POST /` with `X-Amz-Target: AmazonMWAAServerless.StartWorkflowRun`
 * and `Content-Type: application/x-amz-json-1.0`, SigV4 service `airflow-serverless`, endpoint
 * `https://airflow-serverless.<region>.amazonaws.com`; input `{ WorkflowArn, ClientToken?, OverrideParameters?,
 * WorkflowVersion? }`, output `{ RunId, Status, StartedAt }`. Errors are named by `__type` (or `x-amzn-errortype`):
 * ConflictException, ServiceQuotaExceededException, ThrottlingException (with `RetryAfterSeconds`),
 * ValidationException (with `Reason`), ResourceNotFoundException, AccessDeniedException, InternalServerException
 * (with `RetryAfterSeconds`), OperationTimeoutException.
 *
 * Delete this file for the SDK's `StartWorkflowRunCommand` once the registry serves the client, if the bundle's cost
 * allows it.
 */
import { dnsSuffix } from './invoke-rest-api';
import { AwsServiceError, ClientConfig, errorType, parseJsonObject, SendOptions, SendSigned } from './signed-request';

/** The model's `WorkflowArn` pattern (anchored here: the model's patterns match anywhere). */
export const WORKFLOW_ARN_PATTERN =
  /^arn:aws(?:-(?:cn|us-gov|iso|iso-b|iso-e|iso-f))?:airflow-serverless:([a-z]{2}-[a-z]+-[0-9]{1}):([0-9]{12}):workflow\/([a-zA-Z0-9][a-zA-Z0-9.\-_]{0,254}-[a-zA-Z0-9]{10})$/;

/** The model's `ClientToken` constraints: 1 to 128 printable ASCII characters, no space. */
export const CLIENT_TOKEN_PATTERN = /^[\x21-\x7E]{1,128}$/;

export interface StartWorkflowRunInput {
  readonly WorkflowArn: string;
  readonly ClientToken?: string;
  /** Parameters of this run: a map of name to any JSON value (the model's `ObjectMap` of `Document`s). */
  readonly OverrideParameters?: Record<string, unknown>;
  readonly WorkflowVersion?: string;
}

export interface StartWorkflowRunOutput {
  readonly $metadata: { readonly httpStatusCode: number };
  readonly RunId?: string;
  readonly Status?: string;
  /** Epoch seconds, as the JSON protocol sends timestamps. */
  readonly StartedAt?: number;
}

export const TARGET = 'AmazonMWAAServerless.StartWorkflowRun';
export const CONTENT_TYPE = 'application/x-amz-json-1.0';

/** The region of a workflow ARN, or undefined for a malformed ARN. */
export function workflowRegion(workflowArn: string): string | undefined {
  return WORKFLOW_ARN_PATTERN.exec(workflowArn)?.[1];
}

/** `https://airflow-serverless.<region>.amazonaws.com`, or the configured endpoint. */
export function serverlessEndpoint(config: ClientConfig, region: string): string {
  return config.serverlessEndpoint ?? `https://airflow-serverless.${region}.${dnsSuffix(region)}`;
}

/** The JSON 1.0 body: the members that are set, in the model's order. */
export function startWorkflowRunBody(input: StartWorkflowRunInput): string {
  const body: Record<string, unknown> = { WorkflowArn: input.WorkflowArn };
  if (input.ClientToken !== undefined) body.ClientToken = input.ClientToken;
  if (input.OverrideParameters !== undefined) body.OverrideParameters = input.OverrideParameters;
  if (input.WorkflowVersion !== undefined) body.WorkflowVersion = input.WorkflowVersion;
  return JSON.stringify(body);
}

/** Starts a run of the workflow (in the workflow's own region); throws the service's error, named by its type. */
export async function startWorkflowRun(
  send: SendSigned, config: ClientConfig, input: StartWorkflowRunInput, options?: SendOptions,
): Promise<StartWorkflowRunOutput> {
  const region = workflowRegion(input.WorkflowArn);
  if (!region) throw Object.assign(new Error(`not a workflow ARN: ${input.WorkflowArn}`), { name: 'ValidationException' });
  const response = await send({
    endpoint: serverlessEndpoint(config, region),
    path: '/',
    service: 'airflow-serverless',
    region,
    headers: { 'content-type': CONTENT_TYPE, 'x-amz-target': TARGET },
    body: startWorkflowRunBody(input),
  }, options);
  const data = parseJsonObject(response.body);
  if (response.statusCode >= 200 && response.statusCode < 300) {
    return {
      $metadata: { httpStatusCode: response.statusCode },
      RunId: typeof data.RunId === 'string' ? data.RunId : undefined,
      Status: typeof data.Status === 'string' ? data.Status : undefined,
      StartedAt: typeof data.StartedAt === 'number' ? data.StartedAt : undefined,
    };
  }
  const type = errorType(response, data) ?? `Http${response.statusCode}Error`;
  const { message, Message, __type, ...members } = data;
  throw new AwsServiceError(type, String(message ?? Message ?? type), response, members);
}
