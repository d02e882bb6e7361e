import { createHash, createHmac } from 'crypto';
import * as http from 'http';
import * as net from 'net';
import { SignatureV4 } from '@smithy/signature-v4';
import * as fc from 'fast-check';
import { createSigner, signV4, SigningKeyCache } from '../../src/trigger/runtime/signed-request';

/** The AWS SDK for JavaScript v3's own SigV4 signer, on node's crypto, as the reference. */
class NodeSha256 {
  private readonly hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: any) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', Buffer.from(secret));
  }
  update(data: any) {
    this.hash.update(typeof data === 'string' ? data : Buffer.from(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

async function smithyAuthorization(input: Parameters<typeof signV4>[0]): Promise<Record<string, string>> {
  const signer = new SignatureV4({ service: input.service, region: input.region, credentials: input.credentials, sha256: NodeSha256 as any });
  const [hostname, port] = input.headers.host.split(':');
  const signed = await signer.sign({
    method: input.method,
    protocol: 'https:',
    hostname,
    port: port ? Number(port) : undefined,
    path: input.path,
    query: {},
    headers: { ...input.headers },
    body: input.body,
  }, { signingDate: input.date });
  return signed.headers;
}

const segment = fc.stringMatching(/^[A-Za-z0-9._~%-]{0,12}$/);
const request = fc.record({
  method: fc.constant('POST'),
  path: fc.oneof(fc.constant('/'), fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`), fc.constant('/restapi/a%20b')),
  headers: fc.record({
    'host': fc.constantFrom('airflow-serverless.us-east-1.amazonaws.com', 'env.airflow.eu-west-1.amazonaws.com', '127.0.0.1:8443'),
    'content-type': fc.constantFrom('application/x-amz-json-1.0', 'application/json'),
    'x-amz-target': fc.constantFrom('AmazonMWAAServerless.StartWorkflowRun', '  spaced   value  '),
  }),
  body: fc.oneof(fc.string(), fc.json(), fc.string({ unit: 'grapheme' })),
  service: fc.constantFrom('airflow-serverless', 'airflow'),
  region: fc.constantFrom('us-east-1', 'eu-west-1', 'cn-north-1'),
  credentials: fc.record({
    accessKeyId: fc.stringMatching(/^[A-Z0-9]{16,20}$/),
    secretAccessKey: fc.stringMatching(/^[A-Za-z0-9/+]{40}$/),
    sessionToken: fc.option(fc.stringMatching(/^[A-Za-z0-9/+=]{20,80}$/), { nil: undefined }),
  }),
  date: fc.date({ min: new Date('2020-01-01'), max: new Date('2035-01-01'), noInvalidDate: true }),
});

test('signV4 gives the headers the AWS SDK\'s signer gives, for generated requests', async () => {
  const keys = new SigningKeyCache();
  await fc.assert(fc.asyncProperty(request, async (input) => {
    const ours = signV4(input, keys);
    const theirs = await smithyAuthorization(input);
    expect(ours.authorization).toBe(theirs.authorization);
    for (const name of ['x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token']) expect(ours[name]).toBe(theirs[name]);
  }), { numRuns: 500 });
});

test('AWS\'s documented example: the signing key of the SigV4 documentation', () => {
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html (derived key of the example secret).
  const key = new SigningKeyCache().get('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', '20120215', 'us-east-1', 'iam');
  expect(key.toString('hex')).toBe('f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d');
});

describe('createSigner: the transport', () => {
  let server: http.Server;
  let url: string;
  const seen: http.IncomingHttpHeaders[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(req.headers);
      req.resume().on('end', () => { res.writeHead(418, { 'x-amzn-requestid': 'rid' }); res.end('{"a":1}'); });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('sends the signed headers and resolves with any HTTP answer', async () => {
    const send = createSigner({ credentials: { accessKeyId: 'AKID', secretAccessKey: 'S' } });
    const response = await send({ endpoint: url, path: '/x', service: 's', region: 'us-east-1', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(response).toEqual({ statusCode: 418, headers: expect.objectContaining({ 'x-amzn-requestid': 'rid' }), body: '{"a":1}' });
    expect(seen.at(-1)).toMatchObject({ 'content-type': 'application/json', 'content-length': '2', 'host': url.slice(7), 'authorization': expect.stringMatching(/^AWS4-HMAC-SHA256 Credential=AKID\/\d{8}\/us-east-1\/s\/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/) });
  });

  test('without configured credentials and without the Lambda variables, the call fails as a credentials error', async () => {
    const saved = { ...process.env };
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    try {
      const thrown = await createSigner()({ endpoint: url, path: '/', service: 's', region: 'r', headers: {}, body: '' }).catch((e: Error) => e);
      expect(thrown).toMatchObject({ name: 'CredentialsProviderError' });
    } finally {
      process.env = saved;
    }
  });

  test('an aborted call rejects at once, and is not sent again', async () => {
    const before = seen.length;
    const controller = new AbortController();
    controller.abort();
    const thrown = await createSigner({ credentials: { accessKeyId: 'A', secretAccessKey: 'S' } })(
      { endpoint: url, path: '/', service: 's', region: 'r', headers: {}, body: '' }, { abortSignal: controller.signal },
    ).catch((e: Error) => e);
    expect(thrown).toMatchObject({ name: 'AbortError' });
    expect(seen.length).toBe(before);
  });

  test('a refused connection is tried once more at once (maxAttempts 2), then rejects with the network error', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const started = Date.now();
    const thrown = await createSigner({ credentials: { accessKeyId: 'A', secretAccessKey: 'S' } })(
      { endpoint: `http://127.0.0.1:${port}`, path: '/', service: 's', region: 'r', headers: {}, body: '' },
    ).catch((e: Error) => e);
    expect(thrown).toMatchObject({ code: 'ECONNREFUSED' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
