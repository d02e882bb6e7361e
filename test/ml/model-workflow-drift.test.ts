import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { churnWorkflow, dagConfig, render, rendered, roleStatements, workflowStack } from './util';
import { AirflowEnvironment, AirflowVersion, DriftDetectionOptions, EndpointDeployment, ModelWorkflow } from '../../src';
import { nagFindings } from '../nag';

function driftWorkflow(drift: DriftDetectionOptions = {}, props: Parameters<typeof churnWorkflow>[1] = {}) {
  const parts = workflowStack();
  const workflow = churnWorkflow(parts, { drift, ...props });
  return { parts, workflow, t: Template.fromStack(parts.stack) };
}

describe('ModelWorkflow with drift detection', () => {
  const { parts, workflow, t } = driftWorkflow();

  test('the config has a drift section with the defaults, the staged script and the region\'s scikit-learn image', () => {
    const drift = dagConfig(parts.app, parts.stack, 'churn').drift;
    expect(drift).toMatchObject({
      capture_prefix: 'capture/churn/',
      sampling_percentage: 100,
      instance_type: 'ml.m5.large',
      max_runtime_seconds: 3600,
      baseline_sample_rows: 10000,
      psi_threshold: 0.2,
      ks_alpha: 0.05,
      min_rows: 100,
      cool_down_seconds: 86400,
      metric_namespace: 'CdkMwaaMlops/Drift/churn',
    });
    expect(drift.script_uri).toMatch(/^s3:\/\/<ChurnDataBucket\w+>\/artifacts\/churn\/code\/drift\/[0-9a-f]{16}\/drift_check\.py$/);
    // The stack's region is unknown at synth: the account comes from a mapping by region.
    expect(JSON.stringify(drift.image_uri)).toContain('CdkMwaaMlopsSklearnImageAccounts');
    expect(JSON.stringify(drift.image_uri)).toContain('sagemaker-scikit-learn:1.2-1-cpu-py3');
  });

  test('the script is written under its content hash, and earlier versions stay', () => {
    const deployment = Object.values(t.findResources('Custom::CDKBucketDeployment'))
      .find((d) => /code\/drift\//.test(JSON.stringify(d.Properties.DestinationBucketKeyPrefix)))!;
    expect(deployment.Properties.DestinationBucketKeyPrefix).toMatch(/^artifacts\/churn\/code\/drift\/[0-9a-f]{16}\/$/);
    expect(deployment.Properties.Prune).toBe(false);
  });

  test('the alarm watches the share of drifted features of this pipeline\'s endpoint, once a day, keeping its state without data', () => {
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'churn-data-drift',
      Namespace: 'CdkMwaaMlops/Drift/churn',
      MetricName: 'DriftedFeatureShare',
      Dimensions: [{ Name: 'Endpoint', Value: 'churn' }, { Name: 'Pipeline', Value: 'churn' }],
      Statistic: 'Maximum',
      Period: 86400,
      EvaluationPeriods: 1,
      Threshold: 0.3,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'ignore',
    });
    expect(workflow.driftAlarm).toBeDefined();
    expect(workflow.driftDagId).toBe('churn_drift');
    expect(workflow.retrainOnDrift).toBe(true);
    expect(workflow.capturePrefix).toBe('capture/churn/');
    expect(workflow.metricDriftedFeatureShare().namespace).toBe('CdkMwaaMlops/Drift/churn');
  });

  test('the SageMaker role writes and reads the captures below the capture prefix only, and publishes to its own pipeline\'s drift namespace only', () => {
    const statements = rendered(roleStatements(t, 'ChurnSageMakerRole'));
    const captures = statements.find((s) => s.resources.some((r: string) => r.endsWith('/capture/churn/*')))!;
    expect(captures.actions).toEqual(['s3:GetObject', 's3:PutObject']);
    expect(statements).toContainEqual(expect.objectContaining({
      actions: ['s3:ListBucket'],
      conditions: { StringLike: { 's3:prefix': ['capture/churn/*'] } },
    }));
    const metrics = statements.find((s) => s.actions.includes('cloudwatch:PutMetricData'))!;
    expect(metrics.conditions).toEqual({ StringLike: { 'cloudwatch:namespace': ['/aws/sagemaker/*', 'CdkMwaaMlops/Drift/churn'] } });
  });

  test('the execution role runs the pipeline\'s baseline and drift jobs and reads what is deployed, nothing broader', () => {
    const statements = rendered(roleStatements(t, 'AirflowExecutionRole'));
    const jobs = statements.filter((s) => s.actions.includes('sagemaker:CreateProcessingJob')).flatMap((s) => s.resources)
      .filter((r: string) => r.includes(':processing-job/'));
    expect(jobs).toEqual(expect.arrayContaining([
      expect.stringMatching(/processing-job\/churn-base-\*$/),
      expect.stringMatching(/processing-job\/churn-drift-\*$/),
    ]));
    expect(jobs.every((r: string) => /processing-job\/churn-(eval|base|drift)-\*$/.test(r))).toBe(true);
    const reads = statements.find((s) => s.actions.includes('sagemaker:DescribeEndpointConfig') && s.actions.includes('sagemaker:DescribeModelPackage'))!;
    expect(reads.resources.map((r: string) => r.replace(/^arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:/, ''))).toEqual([
      'endpoint/churn', 'endpoint-config/churn-config-*', 'model/churn-model-*', 'model-package/churn-models/*',
    ]);
    const list = statements.find((s) => s.actions.includes('sagemaker:ListTrainingJobs'))!;
    expect(list).toEqual({ actions: ['sagemaker:ListTrainingJobs'], resources: ['*'] });
  });

  test('cdk-nag finds nothing unexplained', () => {
    expect(nagFindings(parts.stack)).toEqual([]);
  });
});

describe('ModelWorkflow drift settings', () => {
  test('given settings reach the config and the alarm', () => {
    const { parts, workflow, t } = driftWorkflow({
      samplingPercentage: 20,
      threshold: 0.5,
      coolDown: Duration.hours(12),
      psiThreshold: 0.25,
      ksAlpha: 0.01,
      minRecords: 500,
      baselineSampleRows: 5000,
      instanceType: 'ml.m5.xlarge',
      maxRuntime: Duration.minutes(30),
      retrainOnDrift: false,
      imageUri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/drift:1',
    }, { dataPrefixes: { capture: 'traffic/' } });
    expect(dagConfig(parts.app, parts.stack, 'churn').drift).toMatchObject({
      capture_prefix: 'traffic/churn/',
      sampling_percentage: 20,
      cool_down_seconds: 43200,
      psi_threshold: 0.25,
      ks_alpha: 0.01,
      min_rows: 500,
      baseline_sample_rows: 5000,
      instance_type: 'ml.m5.xlarge',
      max_runtime_seconds: 1800,
      image_uri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/drift:1',
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'churn-data-drift', Threshold: 0.5 });
    expect(workflow.retrainOnDrift).toBe(false);
  });

  test('a stack in a known region gets that region\'s image literally; an unknown region is an error naming imageUri', () => {
    const image = (region: string) => {
      const app = new App();
      const stack = new Stack(app, 'Regional', { env: { account: '111111111111', region } });
      const environment = new AirflowEnvironment(stack, 'Airflow', { airflowVersion: AirflowVersion.V3_3_1 });
      new ModelWorkflow(stack, 'Churn', {
        environment,
        pipelineName: 'churn',
        drift: {},
        imageRepository: ecr.Repository.fromRepositoryName(stack, 'Images', 'churn-model'),
        preprocessingCode: { bucket: s3.Bucket.fromBucketName(stack, 'Code', 'ml-code'), prefix: 'preprocessing/' },
      });
      return dagConfig(app, stack, 'churn').drift.image_uri;
    };
    expect(image('eu-west-1')).toBe('141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3');
    expect(() => image('mx-central-1')).toThrow(/drift.imageUri: no SageMaker scikit-learn image is known for region mx-central-1/);
  });

  test('without drift: no section, no alarm, no capture grant, no script', () => {
    const parts = workflowStack();
    const workflow = churnWorkflow(parts);
    const t = Template.fromStack(parts.stack);
    expect(dagConfig(parts.app, parts.stack, 'churn').drift).toBeUndefined();
    expect(workflow.driftAlarm).toBeUndefined();
    expect(workflow.driftDagId).toBeUndefined();
    expect(JSON.stringify(t.toJSON())).not.toMatch(/capture\/churn|code\/drift|DriftedFeatureShare/);
    expect(() => workflow.metricDriftedFeatureShare()).toThrow(/pipeline churn has no drift detection; set drift/);
  });
});

describe('ModelWorkflow drift: errors name the prop', () => {
  const cases: Array<[string, DriftDetectionOptions, Parameters<typeof churnWorkflow>[1], string | RegExp]> = [
    ['a serverless endpoint', {}, { deployment: EndpointDeployment.serverless() },
      /drift: pipeline churn deploys a serverless endpoint, and serverless endpoints cannot capture data .*use EndpointDeployment.realTime\(\)/],
    ['no endpoint', {}, { deployment: EndpointDeployment.none() }, /drift: pipeline churn deploys no endpoint/],
    ['stages', {}, { stages: [{ name: 'dev' }] }, /drift: pipeline churn has stages/],
    ['sampling 0', { samplingPercentage: 0 }, {}, 'drift.samplingPercentage: 0 is not allowed; use a whole number from 1 to 100'],
    ['sampling 101', { samplingPercentage: 101 }, {}, /drift.samplingPercentage: 101 is not allowed/],
    ['threshold above 1', { threshold: 1.5 }, {}, /drift.threshold: 1.5 is not allowed; use a number from 0.01 to 1/],
    ['KS alpha 0', { ksAlpha: 0 }, {}, /drift.ksAlpha: 0 is not allowed/],
    ['fractional rows', { minRecords: 10.5 }, {}, /drift.minRecords: 10.5 is not allowed; use a whole number/],
    ['instance type', { instanceType: 'm5.large' }, {}, /drift.instanceType: 'm5.large' is not a SageMaker instance type/],
    ['runtime', { maxRuntime: Duration.days(2) }, {}, /drift.maxRuntime: 172800 seconds is not allowed/],
    ['image', { imageUri: 'python:3.12' }, {}, /drift.imageUri: 'python:3.12' is not an ECR image URI/],
  ];
  test.each(cases)('%s', (_name, drift, props, message) => {
    const parts = workflowStack();
    expect(() => churnWorkflow(parts, { drift, ...props })).toThrow(message);
  });
});

test.each(['base', 'drift'])('a pipeline name with the job segment %s is refused: its jobs would fall under another pipeline\'s grants', (segment) => {
  expect(() => churnWorkflow(workflowStack(), { pipelineName: `churn-${segment}` })).toThrow(`pipelineName: 'churn-${segment}' contains the segment '${segment}'`);
});

test('the rendered alarm dimensions are literal (the drift check publishes exactly these)', () => {
  const { t } = driftWorkflow();
  const alarm = Object.values(t.findResources('AWS::CloudWatch::Alarm')).find((a) => a.Properties.AlarmName === 'churn-data-drift')!;
  expect(alarm.Properties.Dimensions.map((d: any) => `${d.Name}=${render(d.Value)}`)).toEqual(['Endpoint=churn', 'Pipeline=churn']);
});
