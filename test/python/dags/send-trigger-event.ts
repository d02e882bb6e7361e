/**
 * The bridge from the DAG tests (pytest) to the trigger handler: it hands one EventBridge event to the bundled handler
 * (assets/, as deployed), whose InvokeRestApi calls go through the local MWAA stand-in of the trigger tests to a real
 * Airflow API server. A script, not a library call, because the handler is Node and the DAG runs are Python.
 *
 * Usage: ts-node send-trigger-event.ts <Airflow API server URL> <DAG id> < event.json
 * Prints `{ result, calls }`: what the handler returned, and the InvokeRestApi requests it made.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { HandlerOptions, Trigger } from '../../../src/trigger/dag-trigger.lambda';
import { MwaaInvokeRestApiStandIn } from '../../trigger/mwaa-invoke-rest-api-stand-in';

const BUNDLE = path.join(__dirname, '..', '..', '..', 'assets', 'trigger', 'dag-trigger.lambda', 'index.js');

async function main(): Promise<void> {
  const [airflowUrl, dagId] = process.argv.slice(2);
  const event = JSON.parse(fs.readFileSync(0, 'utf8'));
  const standIn = await MwaaInvokeRestApiStandIn.start(airflowUrl, 'ml-env');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createHandler } = require(BUNDLE) as { createHandler: (o: HandlerOptions) => Trigger };
    const quiet = () => {};
    const trigger = createHandler({
      environmentName: 'ml-env',
      log: { info: quiet, warn: quiet, error: quiet },
      sleep: async () => {},
      clientConfig: {
        region: event.region,
        endpoint: standIn.endpoint,
        disableHostPrefix: true,
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      },
    });
    const result = await trigger({ dagId, rule: 'ModelApprovedRule', event });
    process.stdout.write(JSON.stringify({ result, calls: standIn.calls.map((c) => c.body) }));
  } finally {
    await standIn.stop();
  }
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ?? error}\n`);
  process.exit(1);
});
