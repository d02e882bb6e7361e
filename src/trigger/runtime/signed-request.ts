/**
 * The trigger's one request-signing core, shared by both bridges: MWAA's `InvokeRestApi` (invoke-rest-api.ts) and
 * MWAA Serverless's `StartWorkflowRun` (start-workflow-run.ts).
 *
 * Why not the AWS SDK: the npm registry this project builds from serves `@aws-sdk/client-mwaa` only up to 3.523.0
 * (before `InvokeRestApi`) and no `@aws-sdk/client-mwaa-serverless` at all, and the SDK client made the handler
 * 345 KiB with a cold import 9x an empty module's and each event 5x a plain POST. Each bridge sends one JSON POST, so
 * this core does what the client did for it, on small well-kept parts:
 * - SigV4 by `@smithy/signature-v4` (the signer every AWS SDK for JavaScript v3 client uses) with SHA-256/HMAC from
 *   node's crypto;
 * - credentials from the Lambda environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`: the
 *   function role's credentials, which Lambda sets for the life of the execution environment), read per request;
 * - node's http(s) with keep-alive, a connection timeout (3 s) and a request timeout (20 s without a byte of answer),
 *   and an abort signal (the trigger's deadline);
 * - one immediate second attempt (`maxAttempts` 2) for a request that got no answer at all (a reset keep-alive
 *   socket, a timeout): both operations are idempotent by the run id / ClientToken. Throttling and 5xx answers go
 *   back to the trigger, which backs off (trigger-dag-run.ts).
 */
import { createHash, createHmac, Hash, Hmac } from 'crypto';
import * as http from 'http';
import * as https from 'https';
import { SignatureV4 } from '@smithy/signature-v4';

/** How long a request waits for its TCP (and TLS) connection. */
export const CONNECTION_TIMEOUT_MS = 3_000;
/** How long a connected request waits for the answer (socket inactivity). */
export const REQUEST_TIMEOUT_MS = 20_000;

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * How the handler reaches AWS. The field names are those of the SDK client config the handler took before, so
 * callers that point the handler at a local endpoint keep working.
 */
export interface ClientConfig {
  /** The region of the MWAA environment (InvokeRestApi). @default AWS_REGION */
  readonly region?: string;
  /** An endpoint for InvokeRestApi instead of `https://env.airflow.<region>.amazonaws.com` (tests, VPC endpoints). */
  readonly endpoint?: string;
  /** With `endpoint`: do not put `env.` in front of its host name. @default false */
  readonly disableHostPrefix?: boolean;
  /** An endpoint for StartWorkflowRun instead of `https://airflow-serverless.<region>.amazonaws.com`. */
  readonly serverlessEndpoint?: string;
  /** @default - from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN */
  readonly credentials?: AwsCredentials;
  /** Attempts per call for a request that got no answer (reset connection, timeout). @default 2 */
  readonly maxAttempts?: number;
  /** @default CONNECTION_TIMEOUT_MS */
  readonly connectionTimeoutMs?: number;
  /** @default REQUEST_TIMEOUT_MS */
  readonly requestTimeoutMs?: number;
}

/** One JSON POST to sign and send. */
export interface AwsRequest {
  /** `https://host[:port]` (or `http://` for a local stand-in). */
  readonly endpoint: string;
  readonly path: string;
  /** The SigV4 signing name (`airflow`, `airflow-serverless`) and region. */
  readonly service: string;
  readonly region: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface AwsResponse {
  readonly statusCode: number;
  /** Lower-case names. */
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface SendOptions {
  readonly abortSignal?: AbortSignal;
  /** The signing time (tests). @default now */
  readonly signingDate?: Date;
}

/** Sends one signed request; resolves with any HTTP answer, rejects only when there is none. */
export type SendSigned = (request: AwsRequest, options?: SendOptions) => Promise<AwsResponse>;

/** An AWS error answer, named by its error type (`ThrottlingException`, `RestApiClientException`, ...). */
export class AwsServiceError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { readonly httpStatusCode?: number; readonly requestId?: string };
  /** The answer's other members (e.g. `RetryAfterSeconds`, `Reason`, `RestApiStatusCode`). */
  readonly [member: string]: unknown;

  constructor(name: string, message: string, response: Pick<AwsResponse, 'statusCode' | 'headers'>, members: Record<string, unknown> = {}) {
    super(message);
    Object.assign(this, members);
    this.name = name;
    this.$fault = response.statusCode >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: response.statusCode, requestId: response.headers['x-amzn-requestid'] ?? response.headers['x-amz-request-id'] };
  }
}

/** The body as a JSON object, or `{}` when it is none (the status and `x-amzn-errortype` still tell what happened). */
export function parseJsonObject(body: string): Record<string, any> {
  try {
    const parsed: unknown = body.length ? JSON.parse(body) : {};
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed as Record<string, any> : {};
  } catch {
    return {};
  }
}

/**
 * The error type of an AWS JSON answer, the way the SDKs read it: the `x-amzn-errortype` header, else the body's
 * `code` or `__type`; `Type:http://...`, `Type,more` and `namespace#Type` all name `Type`.
 */
export function errorType(response: AwsResponse, data: Record<string, any>): string | undefined {
  const raw = response.headers['x-amzn-errortype'] ?? data.code ?? data.__type;
  if (raw === undefined || raw === null) return undefined;
  let code = String(raw).split(',')[0].split(':')[0];
  if (code.includes('#')) code = code.split('#')[1];
  return code || undefined;
}

/** A SHA-256 (or, with a secret, HMAC-SHA256) checksum on node's crypto, in the shape the smithy signer takes. */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
  reset(): void {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytes(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

function environmentCredentials(): AwsCredentials {
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw Object.assign(new Error('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (Lambda sets them from the function role)'), { name: 'CredentialsProviderError' });
  }
  return { accessKeyId, secretAccessKey, sessionToken: process.env.AWS_SESSION_TOKEN || undefined };
}

/** Errors of a request that got no answer and may go again at once. */
function noAnswer(error: unknown): boolean {
  const e = error as { name?: string; code?: string } | undefined;
  return e?.name === 'TimeoutError' || ['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT', 'EAI_AGAIN'].includes(e?.code ?? '');
}

function timeoutError(message: string): Error {
  return Object.assign(new Error(message), { name: 'TimeoutError' });
}

/** Builds the core: signer settings, credentials and keep-alive agents live as long as the Lambda environment. */
export function createSigner(config: ClientConfig = {}): SendSigned {
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 50 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 50 }),
  };
  const connectionTimeout = config.connectionTimeoutMs ?? CONNECTION_TIMEOUT_MS;
  const requestTimeout = config.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  const maxAttempts = Math.max(1, config.maxAttempts ?? 2);

  // One signer per service, region and credentials: it keeps the day's signing key (four HMACs saved per request).
  const signers = new Map<string, SignatureV4>();
  function signerFor(service: string, region: string): SignatureV4 {
    const credentials = config.credentials ?? environmentCredentials();
    const key = [service, region, credentials.accessKeyId, credentials.secretAccessKey, credentials.sessionToken].join('\n');
    let signer = signers.get(key);
    if (!signer) {
      if (signers.size >= 16) signers.clear();
      signer = new SignatureV4({ service, region, credentials, sha256: NodeSha256 });
      signers.set(key, signer);
    }
    return signer;
  }

  async function sign(request: AwsRequest, url: URL, signingDate?: Date): Promise<Record<string, string>> {
    const signer = signerFor(request.service, request.region);
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: request.path,
      query: {},
      headers: {
        ...request.headers,
        'host': url.host,
        'content-length': String(Buffer.byteLength(request.body)),
      },
      body: request.body,
    }, { signingDate });
    return signed.headers;
  }

  function once(url: URL, request: AwsRequest, headers: Record<string, string>, signal?: AbortSignal): Promise<AwsResponse> {
    const transport = url.protocol === 'http:' ? http : https;
    return new Promise<AwsResponse>((resolve, reject) => {
      const req = transport.request({
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port || undefined,
        method: 'POST',
        path: request.path,
        headers,
        agent: agents[url.protocol === 'http:' ? 'http:' : 'https:'],
        signal,
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const flat: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
          }
          resolve({ statusCode: res.statusCode ?? 0, headers: flat, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.on('error', reject);
      req.on('socket', (socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(() => req.destroy(timeoutError(`no connection to ${url.host} within ${connectionTimeout} ms`)), connectionTimeout);
        socket.once('connect', () => clearTimeout(timer));
        socket.once('close', () => clearTimeout(timer));
      });
      req.setTimeout(requestTimeout, () => req.destroy(timeoutError(`no answer from ${url.host} within ${requestTimeout} ms`)));
      req.end(request.body);
    });
  }

  return async function send(request, options = {}) {
    const url = new URL(request.endpoint);
    const headers = await sign(request, url, options.signingDate);
    for (let attempt = 1; ; attempt++) {
      try {
        return await once(url, request, headers, options.abortSignal);
      } catch (error) {
        if (attempt >= maxAttempts || options.abortSignal?.aborted || !noAnswer(error)) throw error;
      }
    }
  };
}
