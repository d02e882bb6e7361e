/**
 * Prints (JSON) the requests the trigger's handler sends for sample events, exactly as they arrive at local stand-ins:
 * StartWorkflowRun requests (MWAA Serverless) and one InvokeRestApi request (MWAA), with the credentials they were
 * signed with. test/python/test_trigger_requests.py checks them with botocore: the StartWorkflowRun input against
 * the `mwaa-serverless` service model, and every signature against botocore's own SigV4 signer.
 *
 * Usage: ts-node --transpile-only test/trigger/capture-signed-requests.ts
 */
import { sampleEvent } from './events';
import { airflowLike, ScriptedMwaaEndpoint } from './scripted-mwaa-endpoint';
import { RawRequest, ScriptedServerlessEndpoint } from './scripted-serverless-endpoint';
import { createHandler } from '../../src/trigger/dag-trigger.lambda';

export const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'FwoGZXIvYXdzEXAMPLE//token+/=' };
export const WORKFLOW_ARN = 'arn:aws:airflow-serverless:us-east-1:123456789012:workflow/churn_training-AbCdEfGh12';

/** Sample inputs: each source kind, a model package with a label long enough to make the run id exceed 128 characters, nested detail. */
export function serverlessInputs(): Array<Record<string, unknown>> {
  const approval = sampleEvent('sagemaker-model-package-state-change');
  const longGroup = 'g'.repeat(63);
  const long = {
    ...approval,
    detail: { ...approval.detail, ModelPackageGroupName: longGroup, ModelPackageVersion: 123456, ModelPackageArn: `arn:aws:sagemaker:us-east-1:123456789012:model-package/${longGroup}/123456` },
  };
  const custom = { ...sampleEvent('ecr-image-action'), 'source': 'my.app', 'detail-type': 'Data Ready', 'detail': { table: 'sales', rows: 3, nested: { ok: true, list: [1, 'two', null] } } };
  const alarm = sampleEvent('cloudwatch-alarm-state-change');
  return [sampleEvent('ecr-image-action'), sampleEvent('s3-object-created'), approval, long, custom, alarm, sampleEvent('scheduled-event')]
    .map((event) => ({ workflowArn: WORKFLOW_ARN, rule: 'Rule', event }));
}

async function main(): Promise<void> {
  const serverless = await ScriptedServerlessEndpoint.start();
  const mwaa = await ScriptedMwaaEndpoint.start(airflowLike());
  const rest: RawRequest[] = [];
  const http = await import('http');
  // A recording hop in front of the MWAA stand-in, to keep the raw headers of the InvokeRestApi request.
  const hop = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => { raw += c; });
    req.on('end', async () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[name] = value;
      rest.push({ method: req.method!, path: req.url!, headers, body: raw });
      const answer = await fetch(`${mwaa.url}${req.url}`, { method: 'POST', body: raw });
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(await answer.text());
    });
  });
  await new Promise<void>((resolve) => hop.listen(0, '127.0.0.1', resolve));
  try {
    const quiet = () => {};
    const trigger = createHandler({
      environmentName: 'ml-env',
      log: { info: quiet, warn: quiet, error: quiet },
      sleep: async () => {},
      clientConfig: {
        region: 'eu-west-1',
        endpoint: `http://127.0.0.1:${(hop.address() as { port: number }).port}`,
        disableHostPrefix: true,
        serverlessEndpoint: serverless.url,
        credentials: CREDENTIALS,
      },
    });
    const results = [];
    for (const input of serverlessInputs()) results.push(await trigger(input));
    results.push(await trigger({ dagId: 'train_model', rule: 'Rule', event: sampleEvent('ecr-image-action') }));
    process.stdout.write(JSON.stringify({
      credentials: CREDENTIALS,
      results,
      startWorkflowRun: serverless.requests.map((r) => ({ ...r, region: 'us-east-1', service: 'airflow-serverless' })),
      invokeRestApi: rest.map((r) => ({ ...r, region: 'eu-west-1', service: 'airflow' })),
    }));
  } finally {
    hop.closeAllConnections();
    hop.close();
    await serverless.stop();
    await mwaa.stop();
  }
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${error?.stack ?? error}\n`);
    process.exit(1);
  });
}
