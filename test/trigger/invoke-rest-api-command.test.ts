import { Readable } from 'stream';
import { AccessDeniedException, MWAAClient, MWAAServiceException, ResourceNotFoundException } from '@aws-sdk/client-mwaa';
import { HttpRequest, HttpResponse } from '@smithy/protocol-http';
import {
  InvokeRestApiCommand,
  RestApiClientException,
  RestApiServerException,
} from '../../src/trigger/runtime/invoke-rest-api-command';

/** A request handler that records the serialized HTTP request and answers with a canned response. */
function recordingClient(response: { status: number; headers?: Record<string, string>; body: unknown }, config: object = {}) {
  const requests: HttpRequest[] = [];
  const client = new MWAAClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts: 1,
    requestHandler: {
      handle: async (request: HttpRequest) => {
        requests.push(request);
        return {
          response: new HttpResponse({
            statusCode: response.status,
            headers: { 'content-type': 'application/json', ...response.headers },
            body: Readable.from([Buffer.from(JSON.stringify(response.body))]),
          }),
        };
      },
    } as any,
    ...config,
  });
  return { client, requests };
}

const input = {
  Name: 'ml-env',
  Path: '/dags/train_model/dagRuns',
  Method: 'POST' as const,
  Body: { dag_run_id: 'r1', logical_date: null, conf: { a: 1 } },
};

describe('InvokeRestApiCommand wire format', () => {
  test('POSTs JSON to /restapi/{Name} on the env. host, signed for the airflow service', async () => {
    const { client, requests } = recordingClient({ status: 200, body: { RestApiStatusCode: 200, RestApiResponse: { state: 'queued' } } });
    const output = await client.send(new InvokeRestApiCommand(input) as any);

    expect(requests).toHaveLength(1);
    const request = requests[0];
    expect(request.method).toBe('POST');
    expect(request.protocol).toBe('https:');
    expect(request.hostname).toBe('env.airflow.eu-west-1.amazonaws.com');
    expect(request.path).toBe('/restapi/ml-env');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers.authorization).toMatch(/Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/airflow\/aws4_request/);
    // The name travels in the path only; the body is exactly the REST call.
    expect(JSON.parse(request.body)).toEqual({
      Path: '/dags/train_model/dagRuns',
      Method: 'POST',
      Body: { dag_run_id: 'r1', logical_date: null, conf: { a: 1 } },
    });
    expect(output).toMatchObject({ RestApiStatusCode: 200, RestApiResponse: { state: 'queued' }, $metadata: { httpStatusCode: 200 } });
  });

  test('sends QueryParameters when given and leaves out Body when absent', async () => {
    const { client, requests } = recordingClient({ status: 200, body: { RestApiStatusCode: 200, RestApiResponse: {} } });
    await client.send(new InvokeRestApiCommand({ Name: 'ml-env', Path: '/dags', Method: 'GET', QueryParameters: { limit: 5 } }) as any);
    expect(JSON.parse(requests[0].body)).toEqual({ Path: '/dags', Method: 'GET', QueryParameters: { limit: 5 } });
  });

  test('escapes the environment name as a path label', async () => {
    const { client, requests } = recordingClient({ status: 200, body: {} });
    await client.send(new InvokeRestApiCommand({ ...input, Name: 'a b' }) as any);
    expect(requests[0].path).toBe('/restapi/a%20b');
  });

  test('honours disableHostPrefix (custom endpoints, VPC endpoints)', async () => {
    const { client, requests } = recordingClient(
      { status: 200, body: {} },
      { endpoint: 'http://127.0.0.1:9999', disableHostPrefix: true },
    );
    await client.send(new InvokeRestApiCommand(input) as any);
    expect(requests[0].hostname).toBe('127.0.0.1');
    expect(requests[0].port).toBe(9999);
    expect(requests[0].protocol).toBe('http:');
  });

  test('maps an Airflow 4xx to RestApiClientException with Airflow status and response', async () => {
    const { client } = recordingClient({
      status: 400,
      headers: { 'x-amzn-errortype': 'RestApiClientException:http://internal.amazon.com/coral/com.amazonaws.airflow/' },
      body: { RestApiStatusCode: 409, RestApiResponse: { detail: 'exists' }, Message: 'Conflict' },
    });
    const error = await client.send(new InvokeRestApiCommand(input) as any).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RestApiClientException);
    expect(error).toBeInstanceOf(MWAAServiceException);
    expect(error).toMatchObject({ name: 'RestApiClientException', RestApiStatusCode: 409, RestApiResponse: { detail: 'exists' }, message: 'Conflict', $fault: 'client' });
    expect((error as RestApiClientException).$metadata.httpStatusCode).toBe(400);
  });

  test('maps an Airflow 5xx to RestApiServerException', async () => {
    const { client } = recordingClient({
      status: 400,
      headers: { 'x-amzn-errortype': 'RestApiServerException' },
      body: { RestApiStatusCode: 503, RestApiResponse: { detail: 'starting' } },
    });
    const error = await client.send(new InvokeRestApiCommand(input) as any).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RestApiServerException);
    expect(error).toMatchObject({ RestApiStatusCode: 503 });
  });

  test.each([
    ['AccessDeniedException', 403, AccessDeniedException],
    ['ResourceNotFoundException', 404, ResourceNotFoundException],
  ])('maps %s to the package\'s own exception class', async (type, status, cls) => {
    const { client } = recordingClient({ status, headers: { 'x-amzn-errortype': type }, body: { Message: 'no' } });
    const error = await client.send(new InvokeRestApiCommand(input) as any).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(cls);
    expect((error as Error).message).toBe('no');
  });

  test('an unmodelled error keeps its name (e.g. throttling) for the retry decision', async () => {
    const { client } = recordingClient({ status: 429, headers: { 'x-amzn-errortype': 'ThrottlingException' }, body: { message: 'slow down' } });
    const error = await client.send(new InvokeRestApiCommand(input) as any).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MWAAServiceException);
    expect(error).toMatchObject({ name: 'ThrottlingException', message: 'slow down' });
  });
});
