import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

/** A real Apache Airflow 3 API server on 127.0.0.1, from one of the project's venvs, with its own home and DAG folder. */
export class AirflowApiServer {
  /** `venv`: `.venv` (the newest Airflow) or `.venv-airflow-<version>` (an older one), as `npx projen python:venv` makes them. */
  static async start(dagsFolder: string, venv = '.venv'): Promise<AirflowApiServer> {
    const AIRFLOW = path.join(__dirname, '..', '..', venv, 'bin', 'airflow');
    if (!fs.existsSync(AIRFLOW)) {
      throw new Error(`${AIRFLOW} is missing: run \`npx projen python:venv\` (the test task does it first)`);
    }
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'airflow-home-'));
    const port = await freePort();
    const env = {
      ...process.env,
      AIRFLOW_HOME: home,
      AIRFLOW__CORE__DAGS_FOLDER: dagsFolder,
      AIRFLOW__CORE__LOAD_EXAMPLES: 'False',
      // SimpleAuthManager (Airflow 3's default) without logins: the stand-in plays MWAA's authenticated hop.
      AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS: 'True',
      AIRFLOW__LOGGING__LOGGING_LEVEL: 'WARNING',
    };
    execFileSync(AIRFLOW, ['db', 'migrate'], { env, stdio: 'pipe' });
    execFileSync(AIRFLOW, ['dags', 'reserialize'], { env, stdio: 'pipe' });
    const child = spawn(AIRFLOW, ['api-server', '--host', '127.0.0.1', '--port', String(port), '--workers', '1'], {
      env, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d) => { output = (output + d).slice(-20_000); });
    child.stderr!.on('data', (d) => { output = (output + d).slice(-20_000); });
    const server = new AirflowApiServer(child, home, `http://127.0.0.1:${port}`);
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) break;
      try {
        const res = await fetch(`${server.url}/api/v2/monitor/health`);
        if (res.ok) return server;
      } catch { /* not listening yet */ }
      await new Promise((r) => setTimeout(r, 500));
    }
    await server.stop();
    throw new Error(`Airflow API server did not become healthy:\n${output}`);
  }

  private constructor(private readonly child: ChildProcess, private readonly home: string, readonly url: string) {}

  /** GET on the Airflow REST API (`/api/v2` + path). */
  async get(apiPath: string): Promise<{ status: number; body: any }> {
    const res = await fetch(`${this.url}/api/v2${apiPath}`);
    return { status: res.status, body: await res.json() };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.pid) {
      const exited = new Promise((r) => this.child.once('exit', r));
      process.kill(-this.child.pid, 'SIGTERM');
      const timer = setTimeout(() => this.child.pid && process.kill(-this.child.pid, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.home, { recursive: true, force: true });
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}
