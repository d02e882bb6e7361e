import * as fs from 'fs';
import * as path from 'path';
import { AirflowApiServer } from './airflow-api-server';
import { sampleEvent, triggerInput } from './events';
import { MwaaInvokeRestApiStandIn } from './mwaa-invoke-rest-api-stand-in';
import type { HandlerOptions, Trigger } from '../../src/trigger/dag-trigger.lambda';

/**
 * The bundled handler (assets/, as deployed) against a real Apache Airflow 3 API server, through a local stand-in
 * for MWAA's InvokeRestApi endpoint, on each Airflow version MWAA offers (the project's venvs, one server at a time).
 * This is what proves each version's Airflow accepts the body the trigger sends and answers as the handler expects.
 */
const BUNDLE = path.join(__dirname, '..', '..', 'assets', 'trigger', 'dag-trigger.lambda', 'index.js');
const DAGS = path.join(__dirname, '..', 'fixtures', 'airflow-dags');
const AIRFLOW_VENVS = ['.venv-airflow-3.0.6', '.venv-airflow-3.2.1', '.venv'];

jest.setTimeout(180_000);

describe.each(AIRFLOW_VENVS)('Airflow from %s', (venv) => {
  let airflow: AirflowApiServer;
  let standIn: MwaaInvokeRestApiStandIn;
  let trigger: Trigger;
  const logged: any[] = [];

  beforeAll(async () => {
    if (!fs.existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npx projen bundle\` (the test task does it first)`);
    airflow = await AirflowApiServer.start(DAGS, venv);
    standIn = await MwaaInvokeRestApiStandIn.start(airflow.url, 'ml-env');
    // The bundle is a build output loaded by path at run time (jest runs without ESM support for import()).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createHandler } = require(BUNDLE) as { createHandler: (o: HandlerOptions) => Trigger };
    const record = (level: string) => (r: object) => logged.push({ level, ...r });
    trigger = createHandler({
      environmentName: 'ml-env',
      log: { info: record('info'), warn: record('warn'), error: record('error') },
      sleep: async () => {},
      clientConfig: {
        region: 'us-east-1',
        endpoint: standIn.endpoint,
        disableHostPrefix: true,
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      },
    });
  });

  afterAll(async () => {
    await standIn?.stop();
    await airflow?.stop();
  });

  test('an ECR push creates the run with its conf; InvokeRestApi carried Path, Method and Body', async () => {
    const event = sampleEvent('ecr-image-action');
    const result = await trigger(triggerInput('train_model', event));
    expect(result.outcome).toBe('triggered');

    const run = await airflow.get(`/dags/train_model/dagRuns/${result.dagRunId}`);
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ dag_id: 'train_model', dag_run_id: result.dagRunId, logical_date: null, run_type: 'manual', state: 'queued' });
    expect(run.body.conf).toMatchObject({
      trigger_conf_version: 1,
      source_kind: 'ecr_image_push',
      event_id: event.id,
      image_uri: `123456789012.dkr.ecr.us-west-2.amazonaws.com/my-repository-name@${event.detail['image-digest']}`,
    });

    const call = standIn.calls.at(-1)!;
    expect(call.path).toBe('/restapi/ml-env');
    expect(call.headers.authorization).toMatch(/\/us-east-1\/airflow\/aws4_request/);
    expect(call.body).toMatchObject({ Method: 'POST', Path: '/dags/train_model/dagRuns', Body: { dag_run_id: result.dagRunId, logical_date: null } });
  });

  test('a redelivered event gets 409 from Airflow, counts as already triggered, and leaves one run', async () => {
    const event = sampleEvent('s3-object-created');
    const first = await trigger(triggerInput('train_model', event));
    const redelivery = await trigger(triggerInput('train_model', { ...event, id: 'redelivered-id', time: '2030-01-01T00:00:00Z' }));
    expect(first.outcome).toBe('triggered');
    expect(redelivery).toMatchObject({ outcome: 'already_triggered', dagRunId: first.dagRunId });

    const runs = await airflow.get('/dags/train_model/dagRuns?limit=100');
    expect(runs.body.dag_runs.filter((r: any) => r.dag_run_id === first.dagRunId)).toHaveLength(1);
    const lastCall = standIn.calls.at(-1)!;
    expect(lastCall.body.Body.dag_run_id).toBe(first.dagRunId);
  });

  test('a model package approval starts the deployment DAG with the package ARN', async () => {
    const result = await trigger(triggerInput('deploy_model', sampleEvent('sagemaker-model-package-state-change')));
    expect(result.outcome).toBe('triggered');
    const run = await airflow.get(`/dags/deploy_model/dagRuns/${result.dagRunId}`);
    expect(run.body.conf.model_package_arn).toBe('arn:aws:sagemaker:us-east-2:123456789012:model-package/versionedmp-p-idy6c3e1fiqj/2');
  });

  test('approving a package again (a roll back) starts a second deployment run; its redelivery does not', async () => {
    const approval = (modified: number, id: string) => {
      const event = sampleEvent('sagemaker-model-package-state-change');
      return triggerInput('deploy_model', { ...event, id, detail: { ...event.detail, ModelPackageVersion: 7, LastModifiedTime: modified } });
    };
    const first = await trigger(approval(1_763_000_000_000, 'a-1'));
    const again = await trigger(approval(1_763_000_900_000, 'a-2'));
    const redelivered = await trigger(approval(1_763_000_900_000, 'a-2-redelivered'));
    expect([first.outcome, again.outcome, redelivered.outcome]).toEqual(['triggered', 'triggered', 'already_triggered']);
    const runs = await airflow.get('/dags/deploy_model/dagRuns?limit=100');
    const ids = runs.body.dag_runs.map((r: any) => r.dag_run_id);
    expect(ids).toEqual(expect.arrayContaining([first.dagRunId, again.dagRunId]));
    expect(ids.filter((i: string) => i === again.dagRunId)).toHaveLength(1);
  });

  test('an S3 key delivered URL-encoded reaches the DAG run decoded', async () => {
    const event = sampleEvent('s3-object-created');
    event.detail.object.key = 'raw/caf%C3%A9+sales.csv';
    const result = await trigger(triggerInput('train_model', event));
    expect(result.outcome).toBe('triggered');
    const run = await airflow.get(`/dags/train_model/dagRuns/${result.dagRunId}`);
    expect(run.body.conf).toMatchObject({ s3_key: 'raw/café sales.csv', s3_uri: 's3://amzn-s3-demo-bucket1/raw/café sales.csv' });
  });

  test('an unknown DAG gives Airflow\'s 404: rejected as dag_not_found, logged with the event, not retried', async () => {
    const callsBefore = standIn.calls.length;
    const input = triggerInput('no_such_dag', sampleEvent('ecr-image-action'));
    const result = await trigger(input);
    expect(result).toMatchObject({ outcome: 'rejected', reason: 'dag_not_found' });
    expect(standIn.calls.length - callsBefore).toBe(1);
    expect(logged.at(-1)).toMatchObject({ level: 'warn', outcome: 'rejected', reason: 'dag_not_found', status: 404, input });
  });
});
