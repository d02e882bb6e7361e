/**
 * `InvokeRestApiCommand` for `@aws-sdk/client-mwaa` 3.523.0.
 *
 * Why this file exists: the npm registry this project builds from serves `@aws-sdk/client-mwaa` only up to
 * 3.523.0, which predates MWAA's `InvokeRestApi` operation. This file defines that one command the way the package
 * defines its own (smithy `Command.classBuilder`, restJson1 serializer and deserializer, the `env.` host prefix), so
 * it runs through the package's `MWAAClient` with its signing, retries and endpoint resolution. The handler bundle
 * includes the client, so this command and the client always match.
 *
 * Delete this file and import `InvokeRestApiCommand` from `@aws-sdk/client-mwaa` once the registry serves a version
 * that exports it (the input, output and error shapes below are the service model's).
 */
import {
  AccessDeniedException,
  InternalServerException,
  MWAAClientResolvedConfig,
  MWAAServiceException,
  ResourceNotFoundException,
  ServiceInputTypes,
  ServiceOutputTypes,
  ValidationException,
} from '@aws-sdk/client-mwaa';
import { requestBuilder } from '@smithy/core';
import { getEndpointPlugin } from '@smithy/middleware-endpoint';
import { getSerdePlugin } from '@smithy/middleware-serde';
import { HttpRequest, HttpResponse, isValidHostname } from '@smithy/protocol-http';
import {
  Command,
  collectBody,
  decorateServiceException,
  expectInt32,
  ExceptionOptionType,
  take,
  withBaseException,
} from '@smithy/smithy-client';
import { DocumentType, MetadataBearer, ResponseMetadata, SerdeContext } from '@smithy/types';

/** The HTTP methods `InvokeRestApi` accepts. */
export type RestApiMethod = 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

export interface InvokeRestApiCommandInput {
  /** The MWAA environment name. */
  readonly Name: string;
  /** The Airflow REST API path without the `/api/v1|v2` prefix, e.g. `/dags/my_dag/dagRuns` (at most 64 characters). */
  readonly Path: string;
  readonly Method: RestApiMethod;
  readonly QueryParameters?: DocumentType;
  readonly Body?: DocumentType;
}

export interface InvokeRestApiCommandOutput extends MetadataBearer {
  readonly RestApiStatusCode?: number;
  readonly RestApiResponse?: DocumentType;
}

type RestApiExceptionOptions = ExceptionOptionType<RestApiClientException, MWAAServiceException>;

/** What MWAA returns when Airflow itself answered with an error: Airflow's status and response body. */
abstract class RestApiException extends MWAAServiceException {
  readonly $fault = 'client' as const;
  readonly RestApiStatusCode?: number;
  readonly RestApiResponse?: DocumentType;
  protected constructor(name: string, opts: RestApiExceptionOptions) {
    super({ name, $fault: 'client', ...opts });
    this.RestApiStatusCode = opts.RestApiStatusCode;
    this.RestApiResponse = opts.RestApiResponse;
  }
}

/** Airflow answered with a 4xx; `RestApiStatusCode` carries Airflow's own status (409 for a duplicate run id). */
export class RestApiClientException extends RestApiException {
  readonly name = 'RestApiClientException' as const;
  constructor(opts: RestApiExceptionOptions) {
    super('RestApiClientException', opts);
    Object.setPrototypeOf(this, RestApiClientException.prototype);
  }
}

/** Airflow answered with a 5xx. */
export class RestApiServerException extends RestApiException {
  readonly name = 'RestApiServerException' as const;
  constructor(opts: RestApiExceptionOptions) {
    super('RestApiServerException', opts);
    Object.setPrototypeOf(this, RestApiServerException.prototype);
  }
}

type Context = SerdeContext & { disableHostPrefix?: boolean };

async function serialize(input: InvokeRestApiCommandInput, context: Context): Promise<HttpRequest> {
  const b = requestBuilder(input, context);
  b.bp('/restapi/{Name}');
  b.p('Name', () => input.Name, '{Name}', false);
  const body = JSON.stringify(
    take(input, {
      Body: (d: DocumentType) => d,
      Method: [],
      Path: [],
      QueryParameters: (d: DocumentType) => d,
    }),
  );
  let { hostname } = await context.endpoint();
  if (context.disableHostPrefix !== true) {
    hostname = 'env.' + hostname;
    if (!isValidHostname(hostname)) {
      throw new Error('ValidationError: prefixed hostname must be hostname compatible.');
    }
  }
  b.hn(hostname);
  b.m('POST').h({ 'content-type': 'application/json' }).b(body);
  return b.build();
}

/**
 * The body as JSON, or `{}` when it is not JSON: the HTTP status alone says whether the call went through (a 200
 * means Airflow answered 2xx), and an error still gets its type from `x-amzn-errortype`.
 */
async function parseJson(body: unknown, context: Context): Promise<Record<string, any>> {
  const text = context.utf8Encoder(await collectBody(body, context));
  try {
    const parsed: unknown = text.length ? JSON.parse(text) : {};
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed as Record<string, any> : {};
  } catch {
    return {};
  }
}

function metadata(output: HttpResponse): ResponseMetadata {
  return {
    httpStatusCode: output.statusCode,
    requestId: output.headers['x-amzn-requestid'] ?? output.headers['x-amzn-request-id'] ?? output.headers['x-amz-request-id'],
    extendedRequestId: output.headers['x-amz-id-2'],
    cfId: output.headers['x-amz-cf-id'],
  };
}

function errorCode(output: HttpResponse, data: Record<string, any>): string | undefined {
  const header = Object.keys(output.headers).find((k) => k.toLowerCase() === 'x-amzn-errortype');
  const raw = header !== undefined ? output.headers[header] : data.code ?? data.__type;
  if (raw === undefined) return undefined;
  let code = String(raw).split(',')[0].split(':')[0];
  if (code.includes('#')) code = code.split('#')[1];
  return code;
}

const throwDefaultError = withBaseException(MWAAServiceException);

async function deserializeError(output: HttpResponse, context: Context): Promise<never> {
  const data = await parseJson(output.body, context);
  data.message = data.message ?? data.Message;
  const $metadata = metadata(output);
  const code = errorCode(output, data);
  switch (code) {
    case 'RestApiClientException':
      throw decorateServiceException(new RestApiClientException({ $metadata, ...restApiFields(data) }), data);
    case 'RestApiServerException':
      throw decorateServiceException(new RestApiServerException({ $metadata, ...restApiFields(data) }), data);
    case 'AccessDeniedException':
      throw decorateServiceException(new AccessDeniedException({ $metadata, message: data.message, Message: data.message } as any), data);
    case 'ResourceNotFoundException':
      throw decorateServiceException(new ResourceNotFoundException({ $metadata, message: data.message }), data);
    case 'ValidationException':
      throw decorateServiceException(new ValidationException({ $metadata, message: data.message }), data);
    case 'InternalServerException':
      throw decorateServiceException(new InternalServerException({ $metadata, message: data.message }), data);
    default:
      return throwDefaultError({ output, parsedBody: data, errorCode: code }) as never;
  }
}

function restApiFields(data: Record<string, any>) {
  return {
    message: data.message,
    RestApiStatusCode: expectInt32(data.RestApiStatusCode),
    RestApiResponse: data.RestApiResponse as DocumentType | undefined,
  };
}

async function deserialize(output: HttpResponse, context: Context): Promise<InvokeRestApiCommandOutput> {
  if (output.statusCode !== 200 && output.statusCode >= 300) {
    return deserializeError(output, context);
  }
  const data = await parseJson(output.body, context);
  return {
    $metadata: metadata(output),
    RestApiStatusCode: expectInt32(data.RestApiStatusCode),
    RestApiResponse: data.RestApiResponse as DocumentType | undefined,
  };
}

/** The parameters the package's own commands hand to endpoint resolution (its `commonParams`, not exported). */
const endpointParams = {
  UseFIPS: { type: 'builtInParams', name: 'useFipsEndpoint' },
  Endpoint: { type: 'builtInParams', name: 'endpoint' },
  Region: { type: 'builtInParams', name: 'region' },
  UseDualStack: { type: 'builtInParams', name: 'useDualstackEndpoint' },
} as const;

/** Invokes the Apache Airflow REST API on the environment's webserver (`POST /restapi/{Name}`, host prefix `env.`). */
export class InvokeRestApiCommand extends Command.classBuilder<
  InvokeRestApiCommandInput,
  InvokeRestApiCommandOutput,
  MWAAClientResolvedConfig,
  ServiceInputTypes,
  ServiceOutputTypes
>()
  .ep({ ...endpointParams })
  .m(function (this: any, CommandCtor: any, _cs: any, config: MWAAClientResolvedConfig) {
    return [
      getSerdePlugin(config, this.serialize, this.deserialize),
      getEndpointPlugin(config, CommandCtor.getEndpointParameterInstructions()),
    ];
  })
  .s('AmazonMWAA', 'InvokeRestApi', {})
  .n('MWAAClient', 'InvokeRestApiCommand')
  .f(undefined, undefined)
  .ser(serialize as any)
  .de(deserialize as any)
  .build() {}
