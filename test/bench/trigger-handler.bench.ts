/*
 * Benchmark of the bundled trigger handler (assets/, as deployed), every figure a ratio to a baseline measured in
 * this run, interleaved, so machine noise affects both alike:
 * - bundle size (bytes, gzip);
 * - cold import: `require()` of the bundle in a fresh Node process vs `require()` of an empty module;
 * - per-event overhead: one event through the handler (parse, run id, SigV4-signed InvokeRestApi call; and the same for
 *   a serverless workflow's StartWorkflowRun) vs one plain HTTP POST of the same JSON to the same local endpoint.
 * Targets (issue 19): cold import and per-event ratios <= 3x. Before the handler's own signing core (SDK client
 * bundled): 345 KiB, cold import 9x, per event 5.2-5.5x.
 * Usage: npx projen bench (after `npx projen bundle`, which the task runs); or, after `npx projen bundle`,
 * `npx ts-node --transpile-only test/bench/trigger-handler.bench.ts`
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import * as zlib from 'zlib';
import type { HandlerOptions, Trigger } from '../../src/trigger/dag-trigger.lambda';

const BUNDLE = path.resolve(__dirname, '..', '..', 'assets', 'trigger', 'dag-trigger.lambda', 'index.js');
const EVENT = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'events', 'ecr-image-action.json'), 'utf8'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function importMs(file: string): number {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  return Number(execFileSync(process.execPath, ['-e', script], { env: { ...process.env, MWAA_ENVIRONMENT_NAME: 'bench' } }).toString());
}

async function main() {
  const bytes = fs.statSync(BUNDLE).size;
  const gzip = zlib.gzipSync(fs.readFileSync(BUNDLE)).length;
  console.log('trigger handler benchmark');
  console.log(`  bundle: ${(bytes / 1024).toFixed(1)} KiB (${(gzip / 1024).toFixed(1)} KiB gzip), signer included, no SDK client`);

  const empty = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-')), 'empty.js');
  fs.writeFileSync(empty, '');
  const rounds = 15;
  importMs(empty); importMs(BUNDLE);
  const emptyMs: number[] = [];
  const bundleMs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    emptyMs.push(importMs(empty));
    bundleMs.push(importMs(BUNDLE));
  }
  console.log(`  cold import, median of ${rounds} fresh processes: bundle ${median(bundleMs).toFixed(1)} ms vs empty module ${median(emptyMs).toFixed(2)} ms`
    + ` => ${(median(bundleMs) / median(emptyMs)).toFixed(1)}x (target <= 3x)`);

  // A local endpoint that answers every InvokeRestApi call the way MWAA answers a created run.
  const server = http.createServer((req, res) => {
    req.resume();
    const answer = req.headers['x-amz-target'] ? '{"RunId":"r","Status":"STARTING","StartedAt":1764000000}' : '{"RestApiStatusCode":200,"RestApiResponse":{}}';
    req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(answer); });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const agent = new http.Agent({ keepAlive: true });

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createHandler } = require(BUNDLE) as { createHandler: (o: HandlerOptions) => Trigger };
  const trigger = createHandler({
    environmentName: 'bench',
    log: { info: () => {}, warn: () => {}, error: () => {} },
    clientConfig: { region: 'us-east-1', endpoint, disableHostPrefix: true, serverlessEndpoint: endpoint, credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } },
  });
  const body = JSON.stringify({ Path: '/dags/train_model/dagRuns', Method: 'POST', Body: { dag_run_id: 'x', logical_date: null, conf: EVENT.detail } });
  const rawPost = () => new Promise<void>((resolve, reject) => {
    const req = http.request(`${endpoint}/restapi/bench`, { method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(body);
  });
  let n = 0;
  const target = (serverless: boolean) => (serverless
    ? { workflowArn: 'arn:aws:airflow-serverless:us-east-1:123456789012:workflow/bench-0123456789' }
    : { dagId: 'train_model' });
  const eventThrough = (serverless: boolean) => async () => {
    const result = await trigger({ ...target(serverless), event: { ...EVENT, detail: { ...EVENT.detail, 'image-digest': `sha256:${(n++).toString(16).padStart(64, '0')}` } } });
    if (result.outcome !== 'triggered') throw new Error(`unexpected outcome ${result.outcome}`);
  };
  const oneEvent = eventThrough(false);
  const oneServerlessEvent = eventThrough(true);
  // Wall time per call; and CPU time (this process: the caller and the local endpoint alike), which other load on a
  // shared machine disturbs less.
  const cpuUs = new Map<() => Promise<void>, number[]>();
  const timeBatch = async (fn: () => Promise<void>, count: number) => {
    const cpu = process.cpuUsage();
    const start = performance.now();
    for (let i = 0; i < count; i++) await fn();
    const wall = ((performance.now() - start) / count) * 1000;
    const used = process.cpuUsage(cpu);
    cpuUs.set(fn, [...(cpuUs.get(fn) ?? []), (used.user + used.system) / count]);
    return wall;
  };
  await timeBatch(oneEvent, 200); await timeBatch(oneServerlessEvent, 200); await timeBatch(rawPost, 200); // warm-up
  cpuUs.clear();
  const handlerUs: number[] = [];
  const serverlessUs: number[] = [];
  const rawUs: number[] = [];
  for (let i = 0; i < 10; i++) {
    handlerUs.push(await timeBatch(oneEvent, 100));
    rawUs.push(await timeBatch(rawPost, 100));
    serverlessUs.push(await timeBatch(oneServerlessEvent, 100));
  }
  console.log(`  per event against a local endpoint, median of 10 interleaved batches of 100: handler (InvokeRestApi) ${median(handlerUs).toFixed(0)} us`
    + ` vs plain HTTP POST ${median(rawUs).toFixed(0)} us => ${(median(handlerUs) / median(rawUs)).toFixed(1)}x (target <= 3x)`
    + ` (overhead ${(median(handlerUs) - median(rawUs)).toFixed(0)} us per event)`);
  console.log(`  per event, serverless workflow (StartWorkflowRun): ${median(serverlessUs).toFixed(0)} us => ${(median(serverlessUs) / median(rawUs)).toFixed(1)}x`);
  const cpu = (fn: () => Promise<void>) => median(cpuUs.get(fn)!);
  console.log(`  CPU time per event (this process, endpoint included): handler ${cpu(oneEvent).toFixed(0)} us, serverless ${cpu(oneServerlessEvent).toFixed(0)} us`
    + ` vs plain HTTP POST ${cpu(rawPost).toFixed(0)} us => ${(cpu(oneEvent) / cpu(rawPost)).toFixed(1)}x, ${(cpu(oneServerlessEvent) / cpu(rawPost)).toFixed(1)}x`);
  agent.destroy();
  server.close();
}

main().catch((err) => { console.error(err); process.exit(1); });
