/**
 * MWAA's `InvokeRestApi`, hand-built on the trigger's signing core (signed-request.ts).
 *
 * Why this file exists: the npm registry this project builds from serves `@aws-sdk/client-mwaa` only up to 3.523.0,
 * which predates `InvokeRestApi`, and the SDK client cost the handler most of its bundle, cold start and per-event
 * time. The request and the error mapping are the service model's (restJson1): `POST /restapi/{Name}` on the `env.`
 * host of the MWAA API, SigV4 service `airflow`, body `{ Path, Method, QueryParameters?, Body? }`, answer
 * `{ RestApiStatusCode, RestApiResponse }`. Airflow's own 4xx and 5xx both come back as HTTP 400 and are told apart by
 * `x-amzn-errortype`: `RestApiClientException` and `RestApiServerException`, each with Airflow's status and answer.
 * Any other error answer keeps its type as its name (`AccessDeniedException`, `ThrottlingException`, ...).
 */
import { AwsResponse, AwsServiceError, ClientConfig, errorType, parseJsonObject, SendOptions, SendSigned } from './signed-request';

/** The HTTP methods `InvokeRestApi` accepts. */
export type RestApiMethod = 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface InvokeRestApiInput {
  /** The MWAA environment name. */
  readonly Name: string;
  /** The Airflow REST API path without the `/api/v1|v2` prefix, e.g. `/dags/my_dag/dagRuns` (at most 64 characters). */
  readonly Path: string;
  readonly Method: RestApiMethod;
  readonly QueryParameters?: unknown;
  readonly Body?: unknown;
}

export interface InvokeRestApiOutput {
  readonly $metadata: { readonly httpStatusCode: number };
  readonly RestApiStatusCode?: number;
  readonly RestApiResponse?: unknown;
}

/** Airflow answered with a 4xx; `RestApiStatusCode` carries Airflow's own status (409 for a duplicate run id). */
export class RestApiClientException extends AwsServiceError {
  declare readonly RestApiStatusCode?: number;
  declare readonly RestApiResponse?: unknown;
}

/** Airflow answered with a 5xx. */
export class RestApiServerException extends AwsServiceError {
  declare readonly RestApiStatusCode?: number;
  declare readonly RestApiResponse?: unknown;
}

/** `https://env.airflow.<region>.amazonaws.com`, or the configured endpoint (with `env.` unless disabled). */
export function invokeRestApiEndpoint(config: ClientConfig, region: string): string {
  if (!config.endpoint) return `https://env.airflow.${region}.${dnsSuffix(region)}`;
  if (config.disableHostPrefix) return config.endpoint;
  const url = new URL(config.endpoint);
  url.hostname = `env.${url.hostname}`;
  return url.origin;
}

export function dnsSuffix(region: string): string {
  return region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
}

function int32(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}

/** Reads an InvokeRestApi answer: the output for a 2xx, else the error it names, thrown. */
export function readInvokeRestApiResponse(response: AwsResponse): InvokeRestApiOutput {
  const data = parseJsonObject(response.body);
  if (response.statusCode >= 200 && response.statusCode < 300) {
    return {
      $metadata: { httpStatusCode: response.statusCode },
      RestApiStatusCode: int32(data.RestApiStatusCode),
      RestApiResponse: data.RestApiResponse,
    };
  }
  const type = errorType(response, data) ?? `Http${response.statusCode}Error`;
  const message = String(data.message ?? data.Message ?? type);
  if (type === 'RestApiClientException' || type === 'RestApiServerException') {
    const Exception = type === 'RestApiClientException' ? RestApiClientException : RestApiServerException;
    throw new Exception(type, message, response, { RestApiStatusCode: int32(data.RestApiStatusCode), RestApiResponse: data.RestApiResponse });
  }
  throw new AwsServiceError(type, message, response);
}

/** Calls InvokeRestApi on the environment `input.Name` in `region`. */
export async function invokeRestApi(
  send: SendSigned, config: ClientConfig, region: string, input: InvokeRestApiInput, options?: SendOptions,
): Promise<InvokeRestApiOutput> {
  const body: Record<string, unknown> = { Path: input.Path, Method: input.Method };
  if (input.QueryParameters !== undefined) body.QueryParameters = input.QueryParameters;
  if (input.Body !== undefined) body.Body = input.Body;
  const response = await send({
    endpoint: invokeRestApiEndpoint(config, region),
    path: `/restapi/${encodeURIComponent(input.Name)}`,
    service: 'airflow',
    region,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }, options);
  return readInvokeRestApiResponse(response);
}
