import { invokeRestApi, InvokeRestApiInput, RestApiClientException, RestApiServerException } from '../../src/trigger/runtime/invoke-rest-api';
import { AwsRequest, AwsServiceError, ClientConfig, SendSigned } from '../../src/trigger/runtime/signed-request';

/** A signing core stand-in that records the request the bridge builds and answers with a canned response. */
function recording(response: { status: number; headers?: Record<string, string>; body: unknown }) {
  const requests: AwsRequest[] = [];
  const send: SendSigned = async (request) => {
    requests.push(request);
    const body = typeof response.body === 'string' ? response.body : JSON.stringify(response.body);
    return { statusCode: response.status, headers: { 'content-type': 'application/json', ...response.headers }, body };
  };
  return { send, requests };
}

const input: InvokeRestApiInput = {
  Name: 'ml-env',
  Path: '/dags/train_model/dagRuns',
  Method: 'POST',
  Body: { dag_run_id: 'r1', logical_date: null, conf: { a: 1 } },
};

async function call(response: Parameters<typeof recording>[0], config: ClientConfig = {}, given: InvokeRestApiInput = input) {
  const { send, requests } = recording(response);
  const output = await invokeRestApi(send, config, 'eu-west-1', given).catch((e: unknown) => e);
  return { output, requests };
}

describe('InvokeRestApi wire format (restJson1)', () => {
  test('POSTs JSON to /restapi/{Name} on the env. host, signed for the airflow service', async () => {
    const { output, requests } = await call({ status: 200, body: { RestApiStatusCode: 200, RestApiResponse: { state: 'queued' } } });
    expect(requests).toHaveLength(1);
    const request = requests[0];
    expect(request).toMatchObject({
      endpoint: 'https://env.airflow.eu-west-1.amazonaws.com',
      path: '/restapi/ml-env',
      service: 'airflow',
      region: 'eu-west-1',
      headers: { 'content-type': 'application/json' },
    });
    // The name travels in the path only; the body is exactly the REST call.
    expect(JSON.parse(request.body)).toEqual({ Path: '/dags/train_model/dagRuns', Method: 'POST', Body: { dag_run_id: 'r1', logical_date: null, conf: { a: 1 } } });
    expect(output).toEqual({ RestApiStatusCode: 200, RestApiResponse: { state: 'queued' }, $metadata: { httpStatusCode: 200 } });
  });

  test('sends QueryParameters when given and leaves out Body when absent', async () => {
    const { requests } = await call({ status: 200, body: {} }, {}, { Name: 'ml-env', Path: '/dags', Method: 'GET', QueryParameters: { limit: 5 } });
    expect(JSON.parse(requests[0].body)).toEqual({ Path: '/dags', Method: 'GET', QueryParameters: { limit: 5 } });
  });

  test('escapes the environment name as a path label', async () => {
    const { requests } = await call({ status: 200, body: {} }, {}, { ...input, Name: 'a b' });
    expect(requests[0].path).toBe('/restapi/a%20b');
  });

  test('a China region gets its DNS suffix', async () => {
    const { send, requests } = recording({ status: 200, body: {} });
    await invokeRestApi(send, {}, 'cn-north-1', input);
    expect(requests[0].endpoint).toBe('https://env.airflow.cn-north-1.amazonaws.com.cn');
  });

  test('a custom endpoint gets the env. prefix, unless disableHostPrefix (custom endpoints, VPC endpoints, local stand-ins)', async () => {
    expect((await call({ status: 200, body: {} }, { endpoint: 'https://vpce.example.com' })).requests[0].endpoint).toBe('https://env.vpce.example.com');
    expect((await call({ status: 200, body: {} }, { endpoint: 'http://127.0.0.1:9999', disableHostPrefix: true })).requests[0].endpoint).toBe('http://127.0.0.1:9999');
  });
});

describe('InvokeRestApi answers', () => {
  test('an Airflow 4xx is RestApiClientException with Airflow status and response (x-amzn-errortype with a namespace URL)', async () => {
    const { output } = await call({
      status: 400,
      headers: { 'x-amzn-errortype': 'RestApiClientException:http://internal.amazon.com/coral/com.amazonaws.airflow/' },
      body: { RestApiStatusCode: 409, RestApiResponse: { detail: 'exists' }, Message: 'Conflict' },
    });
    expect(output).toBeInstanceOf(RestApiClientException);
    expect(output).toBeInstanceOf(AwsServiceError);
    expect(output).toMatchObject({ name: 'RestApiClientException', RestApiStatusCode: 409, RestApiResponse: { detail: 'exists' }, message: 'Conflict', $fault: 'client' });
    expect((output as RestApiClientException).$metadata.httpStatusCode).toBe(400);
  });

  test('an Airflow 5xx is RestApiServerException, though both are HTTP 400 on the wire', async () => {
    const { output } = await call({ status: 400, headers: { 'x-amzn-errortype': 'RestApiServerException' }, body: { RestApiStatusCode: 503, RestApiResponse: { detail: 'starting' } } });
    expect(output).toBeInstanceOf(RestApiServerException);
    expect(output).not.toBeInstanceOf(RestApiClientException);
    expect(output).toMatchObject({ RestApiStatusCode: 503 });
  });

  test.each([
    ['AccessDeniedException', 403],
    ['ResourceNotFoundException', 404],
    ['ValidationException', 400],
    ['InternalServerException', 500],
  ])('%s keeps its type as its name, with the message', async (type, status) => {
    const { output } = await call({ status, headers: { 'x-amzn-errortype': type }, body: { Message: 'no' } });
    expect(output).toBeInstanceOf(AwsServiceError);
    expect(output).toMatchObject({ name: type, message: 'no', $metadata: { httpStatusCode: status } });
  });

  test('an unmodelled error keeps its name (e.g. throttling) for the retry decision', async () => {
    const { output } = await call({ status: 429, headers: { 'x-amzn-errortype': 'ThrottlingException' }, body: { message: 'slow down' } });
    expect(output).toMatchObject({ name: 'ThrottlingException', message: 'slow down' });
  });

  test('without x-amzn-errortype the body\'s __type names the error', async () => {
    const { output } = await call({ status: 400, body: { __type: 'com.amazonaws.airflow#ValidationException', message: 'bad' } });
    expect(output).toMatchObject({ name: 'ValidationException', message: 'bad' });
  });

  test('a 200 whose body is not JSON is an answer without members; an error body that is not JSON keeps the type', async () => {
    expect((await call({ status: 200, body: '<html>ok</html>' })).output).toEqual({ $metadata: { httpStatusCode: 200 }, RestApiStatusCode: undefined, RestApiResponse: undefined });
    expect((await call({ status: 503, headers: { 'x-amzn-errortype': 'ServiceUnavailableException' }, body: '<html>busy</html>' })).output)
      .toMatchObject({ name: 'ServiceUnavailableException', $fault: 'server' });
  });
});
