/**
 * The trigger's one request-signing core, shared by both bridges: MWAA's `InvokeRestApi` (invoke-rest-api.ts) and
 * MWAA Serverless's `StartWorkflowRun` (start-workflow-run.ts).
 *
 * Why not the AWS SDK: the npm registry this project builds from serves `@aws-sdk/client-mwaa` only up to 3.523.0
 * (before `InvokeRestApi`) and no `@aws-sdk/client-mwaa-serverless` at all, and the SDK client made the handler
 * 345 KiB with a cold import 9x an empty module's and each event 5x a plain POST. Each bridge sends one JSON POST, so
 * this core does what the client did for it, on node's own well-kept parts:
 * - SigV4 (`signV4`, about 40 lines on node's crypto, synchronous: under half the per-event time the SDK's
 *   promise-based signer took here), held equal to the SDK's own signer (`@smithy/signature-v4`, a property test
 *   over generated requests) and to botocore's `SigV4Auth` (test/python/test_trigger_requests.py);
 * - credentials from the Lambda environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`: the
 *   function role's credentials, which Lambda sets for the life of the execution environment), read per request;
 * - node's http(s) with keep-alive, a connection timeout (3 s) and a request timeout (20 s without a byte of answer),
 *   and an abort signal (the trigger's deadline);
 * - one immediate second attempt (`maxAttempts` 2) for a request that got no answer at all (a reset keep-alive
 *   socket, a timeout): both operations are idempotent by the run id / ClientToken. Throttling and 5xx answers go
 *   back to the trigger, which backs off (trigger-dag-run.ts).
 */
import { createHash, createHmac } from 'crypto';
import * as http from 'http';
import * as https from 'https';

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

const ALGORITHM = 'AWS4-HMAC-SHA256';

export interface SigningInput {
  readonly method: string;
  /** Already URI-encoded once (as sent); SigV4 encodes each segment again (every service but S3). */
  readonly path: string;
  /** Lower-case names; `host` included. */
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly service: string;
  readonly region: string;
  readonly credentials: AwsCredentials;
  readonly date: Date;
}

const sha256Hex = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/** `encodeURIComponent` plus the characters RFC 3986 reserves that it leaves alone (as the AWS signers do). */
function escapeUri(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The canonical URI: dot segments removed, each segment encoded (again). */
function canonicalPath(path: string): string {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized = `${path.startsWith('/') ? '/' : ''}${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return normalized.split('/').map(escapeUri).join('/') || '/';
}

/**
 * AWS Signature Version 4 for one request without a query string, synchronously on node's crypto: the headers to add
 * (`x-amz-date`, `x-amz-content-sha256`, `x-amz-security-token` with session credentials, `authorization`). It signs
 * every header it is given. Proven equal to the AWS SDK for JavaScript v3's signer (`@smithy/signature-v4`, a
 * property test) and to botocore's `SigV4Auth` (test/python/test_trigger_requests.py).
 */
export function signV4(input: SigningInput, keys: SigningKeyCache = new SigningKeyCache()): Record<string, string> {
  const amzDate = input.date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const shortDate = amzDate.slice(0, 8);
  const payloadHash = sha256Hex(input.body);
  const added: Record<string, string> = { 'x-amz-date': amzDate, 'x-amz-content-sha256': payloadHash };
  if (input.credentials.sessionToken) added['x-amz-security-token'] = input.credentials.sessionToken;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries({ ...input.headers, ...added })) headers[name.toLowerCase()] = value;
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(';');
  const canonicalHeaders = names.map((name) => `${name}:${headers[name].trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonicalRequest = [input.method, canonicalPath(input.path), '', canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${shortDate}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signature = createHmac('sha256', keys.get(input.credentials.secretAccessKey, shortDate, input.region, input.service)).update(stringToSign).digest('hex');
  return {
    ...added,
    authorization: `${ALGORITHM} Credential=${input.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}

/** The day's signing keys (four HMACs each), by secret, date, region and service. */
export class SigningKeyCache {
  private readonly keys = new Map<string, Buffer>();
  get(secret: string, shortDate: string, region: string, service: string): Buffer {
    const id = `${shortDate}\n${region}\n${service}\n${secret}`;
    let key = this.keys.get(id);
    if (!key) {
      key = hmac(hmac(hmac(hmac(`AWS4${secret}`, shortDate), region), service), 'aws4_request');
      if (this.keys.size >= 16) this.keys.clear();
      this.keys.set(id, key);
    }
    return key;
  }
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

  const keys = new SigningKeyCache();

  function sign(request: AwsRequest, url: URL, signingDate?: Date): Record<string, string> {
    const headers = { ...request.headers, 'host': url.host, 'content-length': String(Buffer.byteLength(request.body)) };
    return {
      ...headers,
      ...signV4({
        method: 'POST',
        path: request.path,
        headers,
        body: request.body,
        service: request.service,
        region: request.region,
        credentials: config.credentials ?? environmentCredentials(),
        date: signingDate ?? new Date(),
      }, keys),
    };
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
    const headers = sign(request, url, options.signingDate);
    for (let attempt = 1; ; attempt++) {
      try {
        return await once(url, request, headers, options.abortSignal);
      } catch (error) {
        if (attempt >= maxAttempts || options.abortSignal?.aborted || !noAnswer(error)) throw error;
      }
    }
  };
}
