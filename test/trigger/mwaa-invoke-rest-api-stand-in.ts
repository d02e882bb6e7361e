import * as http from 'http';
import * as net from 'net';

export interface RecordedCall {
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: any;
}

/**
 * A local stand-in for MWAA's `POST /restapi/{Name}`: it forwards `Method`, `Path` (under `/api/v2`),
 * `QueryParameters` and `Body` to an Airflow API server and answers the way MWAA does: 200 with
 * `{ RestApiStatusCode, RestApiResponse }`, or for an Airflow 4xx/5xx a 400 whose `x-amzn-errortype` is
 * `RestApiClientException`/`RestApiServerException` with Airflow's status and response.
 */
export class MwaaInvokeRestApiStandIn {
  static async start(airflowUrl: string, environmentName: string): Promise<MwaaInvokeRestApiStandIn> {
    const standIn = new MwaaInvokeRestApiStandIn(airflowUrl, environmentName);
    await new Promise<void>((resolve) => standIn.server.listen(0, '127.0.0.1', resolve));
    return standIn;
  }

  readonly calls: RecordedCall[] = [];
  private readonly server: http.Server;

  private constructor(private readonly airflowUrl: string, private readonly environmentName: string) {
    this.server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk) => { raw += chunk; });
      req.on('end', () => {
        this.handle(req, raw).then(
          ({ status, headers, body }) => { res.writeHead(status, { 'content-type': 'application/json', ...headers }); res.end(JSON.stringify(body)); },
          (err) => { res.writeHead(500, { 'x-amzn-errortype': 'InternalServerException' }); res.end(JSON.stringify({ message: String(err) })); },
        );
      });
    });
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  private async handle(req: http.IncomingMessage, raw: string) {
    const body = raw ? JSON.parse(raw) : {};
    this.calls.push({ path: req.url ?? '', headers: req.headers, body });
    if (req.method !== 'POST' || req.url !== `/restapi/${this.environmentName}`) {
      return { status: 404, headers: { 'x-amzn-errortype': 'ResourceNotFoundException' }, body: { message: `no environment at ${req.url}` } };
    }
    if (!String(req.headers.authorization ?? '').includes('/airflow/aws4_request')) {
      return { status: 403, headers: { 'x-amzn-errortype': 'AccessDeniedException' }, body: { Message: 'not SigV4-signed for airflow' } };
    }
    const query = body.QueryParameters ? `?${new URLSearchParams(body.QueryParameters).toString()}` : '';
    const res = await fetch(`${this.airflowUrl}/api/v2${body.Path}${query}`, {
      method: body.Method,
      headers: { 'content-type': 'application/json' },
      body: body.Body === undefined ? undefined : JSON.stringify(body.Body),
    });
    const text = await res.text();
    const restApiResponse = text ? JSON.parse(text) : {};
    if (res.status < 400) return { status: 200, headers: {}, body: { RestApiStatusCode: res.status, RestApiResponse: restApiResponse } };
    const type = res.status < 500 ? 'RestApiClientException' : 'RestApiServerException';
    return { status: 400, headers: { 'x-amzn-errortype': type }, body: { RestApiStatusCode: res.status, RestApiResponse: restApiResponse, Message: `Airflow answered ${res.status}` } };
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
  }
}
