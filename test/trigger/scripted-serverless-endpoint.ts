import * as http from 'http';
import * as net from 'net';

/** One request as it arrived: method, path, headers (lower-case) and the raw body. */
export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export type ServerlessAnswer = { readonly status: number; readonly headers?: Record<string, string>; readonly body: unknown } | 'hang';

/**
 * A scripted local stand-in for MWAA Serverless's JSON 1.0 endpoint on 127.0.0.1: it records every request as it
 * arrived and answers with `script`. `serverlessLike` answers the way the API documents an idempotent
 * StartWorkflowRun: a new ClientToken starts a run; a known one with the same parameters returns that run; a known
 * one with other parameters is a ConflictException (this last one is our assumption, see trigger-dag-run.ts).
 */
export class ScriptedServerlessEndpoint {
  static async start(script: (request: RawRequest) => ServerlessAnswer = serverlessLike()): Promise<ScriptedServerlessEndpoint> {
    const endpoint = new ScriptedServerlessEndpoint(script);
    await new Promise<void>((resolve) => endpoint.server.listen(0, '127.0.0.1', resolve));
    return endpoint;
  }

  readonly requests: RawRequest[] = [];
  private readonly server: http.Server;

  private constructor(public script: (request: RawRequest) => ServerlessAnswer) {
    this.server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk) => { raw += chunk; });
      req.on('end', () => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name] = value;
        const request = { method: req.method ?? '', path: req.url ?? '', headers, body: raw };
        this.requests.push(request);
        const answer = this.script(request);
        if (answer === 'hang') return;
        res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0', ...answer.headers });
        res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
      });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  /** The parsed bodies, in order. */
  get bodies(): any[] {
    return this.requests.map((r) => JSON.parse(r.body));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** An error answer the way AWS JSON 1.0 services send one. */
export function jsonError(status: number, type: string, members: Record<string, unknown> = {}): ServerlessAnswer {
  return { status, headers: { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazonaws.airflowserverless/` }, body: { __type: `com.amazonaws.airflowserverless#${type}`, Message: `${type} from the stand-in`, ...members } };
}

/** StartWorkflowRun with ClientToken idempotency (see the class comment). */
export function serverlessLike(): (request: RawRequest) => ServerlessAnswer {
  const runs = new Map<string, { runId: string; parameters: string }>();
  return (request) => {
    const body = JSON.parse(request.body);
    const key = `${body.WorkflowArn} ${body.ClientToken}`;
    const parameters = JSON.stringify(body.OverrideParameters ?? {});
    const known = runs.get(key);
    if (known && known.parameters !== parameters) return jsonError(409, 'ConflictException', { ResourceId: body.ClientToken, ResourceType: 'WorkflowRun' });
    const run = known ?? { runId: `run-${runs.size + 1}`, parameters };
    runs.set(key, run);
    return { status: 200, body: { RunId: run.runId, Status: 'STARTING', StartedAt: 1_764_000_000.5 } };
  };
}
