import * as http from 'http';
import * as net from 'net';

/** What the endpoint does with one request: answer it, or hold the connection open and never answer. */
export type Answer = { readonly status: number; readonly headers?: Record<string, string>; readonly body: string } | 'hang';

/** The InvokeRestApi request body the handler sent. */
export interface InvokeRequest {
  readonly Path: string;
  readonly Method: string;
  readonly Body: { dag_run_id: string; logical_date: null; conf: Record<string, any> };
}

/**
 * A scripted local stand-in for MWAA's `POST /restapi/{Name}` on 127.0.0.1: each request is answered by `script`.
 * `airflowLike` answers the way MWAA does for an Airflow that keeps its runs: 200 for a new run id, and a
 * `RestApiClientException` with Airflow's 409 for one it already has.
 */
export class ScriptedMwaaEndpoint {
  static async start(script: (request: InvokeRequest) => Answer = airflowLike()): Promise<ScriptedMwaaEndpoint> {
    const endpoint = new ScriptedMwaaEndpoint(script);
    await new Promise<void>((resolve) => endpoint.server.listen(0, '127.0.0.1', resolve));
    return endpoint;
  }

  readonly requests: InvokeRequest[] = [];
  private readonly server: http.Server;

  private constructor(public script: (request: InvokeRequest) => Answer) {
    this.server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk) => { raw += chunk; });
      req.on('end', () => {
        const request = JSON.parse(raw) as InvokeRequest;
        this.requests.push(request);
        const answer = this.script(request);
        if (answer === 'hang') return;
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
        res.end(answer.body);
      });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  /** The run ids the handler asked for, in order. */
  get runIds(): string[] {
    return this.requests.map((r) => r.Body.dag_run_id);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** MWAA in front of an Airflow that answers 409 for a run id it already has. */
export function airflowLike(): (request: InvokeRequest) => Answer {
  const runs = new Set<string>();
  return (request) => {
    const id = `${request.Path} ${request.Body.dag_run_id}`;
    if (runs.has(id)) {
      return {
        status: 400,
        headers: { 'x-amzn-errortype': 'RestApiClientException' },
        body: JSON.stringify({ RestApiStatusCode: 409, RestApiResponse: { detail: 'exists' }, Message: 'Airflow answered 409' }),
      };
    }
    runs.add(id);
    return { status: 200, body: JSON.stringify({ RestApiStatusCode: 200, RestApiResponse: { dag_run_id: request.Body.dag_run_id } }) };
  };
}
