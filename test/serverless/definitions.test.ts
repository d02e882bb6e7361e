import * as fs from 'fs';
import * as path from 'path';
import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { EndpointDeployment, TrafficShifting } from '../../src/ml/endpoint-deployment';
import { pipelineConfig, PipelineConfigValues } from '../../src/ml/private/pipeline-config';
import { PromotionGate } from '../../src/promotion/deployment-stage';
import { resolveStages } from '../../src/promotion/private/pipeline-stages';
import {
  checkServerlessLimits, deploymentDefinition, driftDefinition, PYTHON_OPERATOR, RUN_PARAMETERS, SENSORS, SERVERLESS_CODE_DIRECTORY,
  SERVERLESS_CODE_EXCLUDE, SERVERLESS_LIMITS, STEPS_MODULE, trainingDefinition, WAIT_BUDGET_SECONDS,
} from '../../src/serverless/private/definitions';

const DEPLOYMENT_ARN = 'arn:aws:airflow-serverless:eu-west-1:123456789012:workflow/churn-deployment-abcdefghij';

function values(overrides: Partial<PipelineConfigValues> = {}): PipelineConfigValues {
  return {
    pipelineName: 'churn',
    awsConnectionId: 'aws_default',
    maxActiveRuns: 1,
    retries: 2,
    pollSeconds: 60,
    dataBucketName: 'ml-data',
    prefixes: { raw: 'raw/', processed: 'processed/', artifacts: 'artifacts/', checkpoints: 'checkpoints/' },
    keyArn: 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    glueJobName: 'churn-preprocess',
    scriptLocationPrefix: 's3://ml-code/preprocessing/',
    split: { seed: 42, train: 0.7, validation: 0.15 },
    imageRepositoryName: 'churn-model',
    sagemakerRoleArn: 'arn:aws:iam::123456789012:role/churn-sagemaker',
    training: { instanceType: 'ml.m5.large', instanceCount: 1, volumeSizeGb: 30, maxRuntimeSeconds: 3600, hyperparameters: {} },
    evaluation: { instanceType: 'ml.m5.large', metric: 'auc', threshold: 0.9, comparison: 'GreaterThanOrEqualTo' },
    modelPackageGroupName: 'churn-models',
    autoApprove: true,
    deployment: EndpointDeployment.realTime({ trafficShifting: TrafficShifting.canary(10, Duration.minutes(5)) }),
    endpointName: 'churn',
    rollbackAlarms: [],
    ...overrides,
  };
}

function inputs(overrides: Partial<PipelineConfigValues> = {}) {
  return {
    config: pipelineConfig(values(overrides)),
    trainingWorkflowName: 'churn-training',
    deploymentWorkflowName: 'churn-deployment',
    deploymentWorkflowArn: DEPLOYMENT_ARN,
    driftWorkflowName: 'churn-drift',
  };
}

/** The config's `drift` section (drift-contract.md), as the CDK writes it. */
function driftSection(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    capture_prefix: 'capture/churn/',
    sampling_percentage: 100,
    image_uri: '141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3',
    script_uri: 's3://ml-data/artifacts/churn/code/drift/0123456789abcdef/drift_check.py',
    instance_type: 'ml.m5.large',
    max_runtime_seconds: 3600,
    baseline_sample_rows: 10000,
    psi_threshold: 0.2,
    ks_alpha: 0.05,
    min_rows: 100,
    cool_down_seconds: 86400,
    metric_namespace: 'CdkMwaaMlops/Drift/churn',
    ...overrides,
  };
}

type Task = Record<string, any>;

function tasksOf(definition: Record<string, unknown>, name: string): Record<string, Task> {
  expect(Object.keys(definition)).toEqual([name]);
  return (definition[name] as { tasks: Record<string, Task> }).tasks;
}

describe('trainingDefinition', () => {
  test('one DAG named after the workflow: manual only, flat null params for every key the trigger sends', () => {
    const definition = trainingDefinition(inputs());
    const dag = definition['churn-training'] as Record<string, any>;
    expect(dag.dag_id).toBe('churn-training');
    expect(dag.schedule).toBeNull();
    expect(dag.start_date).toBeUndefined();
    expect(Object.values(dag.params).every((value) => value === null)).toBe(true);
    expect(Object.keys(dag.params).sort()).toEqual([...RUN_PARAMETERS].sort());
    expect(dag.default_args).toEqual({ owner: 'cdk-mwaa-mlops', retries: 2, retry_delay: 60 });
  });

  test('the steps are the package\'s callables with the config, and sensors wait for the jobs', () => {
    const config = pipelineConfig(values());
    const tasks = tasksOf(trainingDefinition(inputs()), 'churn-training');
    expect(Object.keys(tasks)).toEqual([
      'resolve_run', 'preprocess', 'wait_for_preprocessing', 'start_training', 'wait_for_training', 'train', 'evaluate',
      'wait_for_evaluation', 'quality_gate', 'register', 'start_deployment',
    ]);
    for (const [id, task] of Object.entries(tasks)) {
      expect(task.task_id).toBe(id);
      if (task.operator === PYTHON_OPERATOR) {
        expect(task.python_callable).toBe(`${STEPS_MODULE}.${id}`);
        expect(task.op_kwargs.config).toEqual(config);
      } else {
        expect(Object.values(SENSORS)).toContain(task.operator);
        expect(task).toMatchObject({ mode: 'poke', retries: SERVERLESS_LIMITS.retries, timeout: WAIT_BUDGET_SECONDS, poke_interval: 60 });
      }
    }
    expect(tasks.wait_for_training.job_name).toBe("{{ ti.xcom_pull(task_ids='start_training')['Training']['TrainingJobName'] }}");
    expect(tasks.wait_for_preprocessing).toMatchObject({ job_name: 'churn-preprocess', run_id: "{{ ti.xcom_pull(task_ids='preprocess') }}" });
    expect(tasks.start_deployment.op_kwargs.deployment_workflow_arn).toBe(DEPLOYMENT_ARN);
    expect(tasks.register.dependencies).toEqual(['quality_gate']);
  });

  test('without automatic approval the training workflow only registers', () => {
    const tasks = tasksOf(trainingDefinition({ ...inputs({ autoApprove: false }), deploymentWorkflowArn: undefined }), 'churn-training');
    expect(tasks.start_deployment).toBeUndefined();
  });

  test('automatic approval with a deployment needs the deployment workflow', () => {
    expect(() => trainingDefinition({ ...inputs(), deploymentWorkflowArn: undefined })).toThrow(/deploymentWorkflowArn is required/);
  });

  test('the definition holds the tokens of deploy-time values and stays far below the service\'s size limit', () => {
    const stack = new Stack(new App());
    const bucket = new s3.Bucket(stack, 'Data');
    const definition = trainingDefinition(inputs({ dataBucketName: bucket.bucketName }));
    const text = JSON.stringify(stack.resolve(definition));
    expect(text).toContain(`{"Ref":"${stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket)}"}`);
    expect(Buffer.byteLength(JSON.stringify(definition))).toBeLessThan(SERVERLESS_LIMITS.definitionBytes / 2);
  });
});

describe('deploymentDefinition', () => {
  test('model, endpoint config, deploy, wait for the endpoint, verify', () => {
    const tasks = tasksOf(deploymentDefinition(inputs()), 'churn-deployment');
    expect(Object.keys(tasks)).toEqual([
      'resolve_package', 'create_model', 'create_endpoint_config', 'deploy_endpoint', 'wait_for_endpoint', 'verify_endpoint',
    ]);
    expect(tasks.wait_for_endpoint).toMatchObject({ operator: SENSORS.endpoint, endpoint_name: 'churn', dependencies: ['deploy_endpoint'] });
    expect((deploymentDefinition(inputs())['churn-deployment'] as any).max_active_runs).toBe(1);
  });

  test('with stages: the promotion steps in order, each waiting for the one before, no sensor, and the lifecycle parameters', () => {
    const stack = new Stack(new App(), 'Staged', { env: { account: '123456789012', region: 'eu-west-1' } });
    const stages = resolveStages(stack, 'churn', [
      { name: 'dev', deployment: EndpointDeployment.serverless(), gate: PromotionGate.AUTOMATIC },
      { name: 'prod', account: '210987654321' },
    ]);
    const definition = deploymentDefinition(inputs({ stages, endpointName: undefined }));
    const tasks = tasksOf(definition, 'churn-deployment');
    const steps = ['resolve_package', 'inspect_stage', 'create_model', 'create_endpoint_config', 'deploy_endpoint',
      'wait_for_endpoint', 'verify_endpoint', 'check_stage', 'promote'];
    expect(Object.keys(tasks)).toEqual(steps);
    steps.slice(1).forEach((id, i) => expect(tasks[id].dependencies).toEqual([steps[i]]));
    // The allowlisted endpoint sensor cannot assume the stage's role: every step is the package's own callable.
    for (const task of Object.values(tasks)) expect(task.operator).toBe(PYTHON_OPERATOR);
    const params = (definition['churn-deployment'] as any).params;
    expect(params).toHaveProperty('model_package_stage', null);
    expect(params).toHaveProperty('model_package_stage_status', null);
  });

  test('a pipeline that only registers has no deployment workflow', () => {
    expect(() => deploymentDefinition(inputs({ deployment: EndpointDeployment.none() }))).toThrow(/deployment.mode is 'none'/);
  });
});

describe('with drift detection', () => {
  const drifting = () => inputs({ drift: driftSection() });

  test('training: the cool-down first, the baseline (+ wait) beside training after preprocessing, register after both', () => {
    const config = pipelineConfig(values({ drift: driftSection() }));
    const tasks = tasksOf(trainingDefinition(drifting()), 'churn-training');
    expect(Object.keys(tasks)).toEqual([
      'cool_down', 'resolve_run', 'preprocess', 'wait_for_preprocessing', 'drift_baseline', 'wait_for_baseline', 'start_training',
      'wait_for_training', 'train', 'evaluate', 'wait_for_evaluation', 'quality_gate', 'register', 'start_deployment',
    ]);
    expect(tasks.cool_down.dependencies).toBeUndefined();
    expect(tasks.resolve_run.dependencies).toEqual(['cool_down']);
    expect(tasks.drift_baseline).toMatchObject({
      operator: PYTHON_OPERATOR, python_callable: `${STEPS_MODULE}.drift_baseline`, dependencies: ['wait_for_preprocessing'],
    });
    expect(tasks.drift_baseline.op_kwargs.config).toEqual(config);
    expect(tasks.start_training.dependencies).toEqual(['wait_for_preprocessing']);
    expect(tasks.wait_for_baseline).toMatchObject({
      operator: SENSORS.processing,
      job_name: "{{ ti.xcom_pull(task_ids='drift_baseline')['Processing']['ProcessingJobName'] }}",
      dependencies: ['drift_baseline'],
      mode: 'poke',
      timeout: WAIT_BUDGET_SECONDS,
      retries: SERVERLESS_LIMITS.retries,
    });
    expect(tasks.register.dependencies).toEqual(['quality_gate', 'wait_for_baseline']);
  });

  test('without drift the training workflow has no drift step', () => {
    const tasks = tasksOf(trainingDefinition(inputs()), 'churn-training');
    expect(Object.keys(tasks).filter((id) => /drift|baseline|cool_down/.test(id))).toEqual([]);
    expect(tasks.resolve_run.dependencies).toBeUndefined();
  });

  test('the drift workflow: resolve, submit the check, wait for it; manual only, one run at a time, the trigger\'s params', () => {
    const definition = driftDefinition(drifting());
    const tasks = tasksOf(definition, 'churn-drift');
    expect(Object.keys(tasks)).toEqual(['resolve_drift', 'drift_check', 'wait_for_drift_check']);
    expect(tasks.resolve_drift).toMatchObject({ operator: PYTHON_OPERATOR, python_callable: `${STEPS_MODULE}.resolve_drift` });
    expect(tasks.resolve_drift.dependencies).toBeUndefined();
    expect(tasks.drift_check).toMatchObject({ python_callable: `${STEPS_MODULE}.drift_check`, dependencies: ['resolve_drift'] });
    expect(tasks.drift_check.op_kwargs.config.drift).toEqual(driftSection());
    expect(tasks.wait_for_drift_check).toMatchObject({
      operator: SENSORS.processing,
      job_name: "{{ ti.xcom_pull(task_ids='drift_check')['Processing']['ProcessingJobName'] }}",
      dependencies: ['drift_check'],
      mode: 'poke',
      poke_interval: 60,
      timeout: WAIT_BUDGET_SECONDS,
      retries: SERVERLESS_LIMITS.retries,
    });
    const dag = definition['churn-drift'] as Record<string, any>;
    expect(dag).toMatchObject({ dag_id: 'churn-drift', schedule: null, max_active_runs: 1 });
    expect(Object.keys(dag.params).sort()).toEqual([...RUN_PARAMETERS].sort());
    expect(dag.params).toMatchObject({ schedule_rule_arn: null, scheduled_time: null });
    expect(Buffer.byteLength(JSON.stringify(definition))).toBeLessThan(SERVERLESS_LIMITS.definitionBytes / 4);
  });

  test('the training definition with drift stays below half the service\'s size limit', () => {
    expect(Buffer.byteLength(JSON.stringify(trainingDefinition(drifting())))).toBeLessThan(SERVERLESS_LIMITS.definitionBytes / 2);
  });

  test('the run parameters hold the alarm\'s and the schedule\'s facts the trigger sends', () => {
    expect(RUN_PARAMETERS).toEqual(expect.arrayContaining([
      'alarm_name', 'alarm_arn', 'alarm_state', 'alarm_previous_state', 'alarm_reason', 'alarm_state_time',
      'schedule_rule_arn', 'scheduled_time',
    ]));
    expect(new Set(RUN_PARAMETERS).size).toBe(RUN_PARAMETERS.length);
  });

  test('a drift workflow needs its name, a drift section and one real-time endpoint', () => {
    expect(() => driftDefinition({ ...drifting(), driftWorkflowName: undefined })).toThrow(/driftWorkflowName is required/);
    expect(() => driftDefinition(inputs())).toThrow(/has no drift section/);
    expect(() => driftDefinition(inputs({ drift: driftSection(), deployment: EndpointDeployment.serverless() })))
      .toThrow(/one real-time endpoint/);
  });

  test('a drift job longer than the sensor can wait is refused naming drift.maxRuntime, in every definition', () => {
    const long = inputs({ drift: driftSection({ max_runtime_seconds: 4 * 3600 }) });
    const refusal = /drift.maxRuntime: 14400 s is longer than a serverless workflow can wait for a drift processing job .*at most 13500 s/;
    expect(() => driftDefinition(long)).toThrow(refusal);
    expect(() => trainingDefinition(long)).toThrow(refusal);
    expect(() => checkServerlessLimits(long.config)).toThrow(refusal);
    expect(() => driftDefinition(inputs({ drift: driftSection({ max_runtime_seconds: 13500 }) }))).not.toThrow();
  });

  test('a drift runtime that is a token is not checked', () => {
    const stack = new Stack(new App());
    const runtime = new CfnParameter(stack, 'Runtime', { type: 'Number' }).valueAsNumber;
    expect(() => driftDefinition(inputs({ drift: driftSection({ max_runtime_seconds: runtime }) }))).not.toThrow();
  });
});

describe('checkServerlessLimits', () => {
  test('more retries than a serverless task may have', () => {
    expect(() => trainingDefinition(inputs({ retries: 4 }))).toThrow('retries: 4 is more than MWAA Serverless allows a task (at most 3)');
  });

  test('a training job longer than the sensor can wait', () => {
    const long = values().training;
    expect(() => trainingDefinition(inputs({ training: { ...long, maxRuntimeSeconds: 5 * 3600 } })))
      .toThrow(/training.maxRuntime: 18000 s is longer than a serverless workflow can wait for a training job \(at most 13500 s/);
    expect(() => trainingDefinition(inputs({ training: { ...long, maxRuntimeSeconds: 3600, spotMaxWaitSeconds: 6 * 3600 } })))
      .toThrow(/training.spot.maxWait: 21600 s/);
    expect(() => trainingDefinition(inputs({ training: { ...long, maxRuntimeSeconds: 13500 } }))).not.toThrow();
  });

  test('a Glue timeout longer than the sensor can wait', () => {
    expect(() => checkServerlessLimits(pipelineConfig(values()), 2880)).toThrow(/preprocessing.timeout: 2880 minutes .* \(at most 225 minutes/);
    expect(() => checkServerlessLimits(pipelineConfig(values()), 60)).not.toThrow();
  });

  test('a blue/green rollout whose waits outlast the sensor', () => {
    const slow = EndpointDeployment.realTime({ trafficShifting: TrafficShifting.linear(10, Duration.minutes(30)) });
    expect(() => deploymentDefinition(inputs({ deployment: slow }))).toThrow(/a blue\/green update takes 18300 s of waits/);
  });

  test('every problem in one message', () => {
    expect(() => trainingDefinition(inputs({ retries: 5, training: { ...values().training, maxRuntimeSeconds: 86400 } })))
      .toThrow(/cannot run on MWAA Serverless:\n- retries: 5 .*\n- training.maxRuntime: 86400 s/);
  });

  test('config text the loader or Jinja would change', () => {
    const training = { ...values().training, hyperparameters: { a: '{{ dag_run.conf }}', b: 'cost$HOME' } };
    expect(() => trainingDefinition(inputs({ training }))).toThrow(/training.hyperparameters.a: '\{\{ dag_run.conf \}\}' holds Jinja markup/);
    expect(() => trainingDefinition(inputs({ training }))).toThrow(/training.hyperparameters.b: 'cost\$HOME' holds '\$'/);
  });

  test('tokens are not checked', () => {
    const stack = new Stack(new App());
    const alarm = new cloudwatch.Alarm(stack, 'A', {
      metric: new cloudwatch.Metric({ namespace: 'N', metricName: 'M' }), threshold: 1, evaluationPeriods: 1,
    });
    expect(() => deploymentDefinition(inputs({ rollbackAlarms: [alarm] }))).not.toThrow();
  });
});

test('the code package is the DAG folder without what only a provisioned environment reads', () => {
  expect(fs.existsSync(path.join(SERVERLESS_CODE_DIRECTORY, 'cdk_mwaa_mlops', 'serverless.py'))).toBe(true);
  expect(SERVERLESS_CODE_EXCLUDE).toEqual(expect.arrayContaining(['cdk_mwaa_mlops_dags.py', 'cdk_mwaa_mlops_pipelines']));
  expect(SERVERLESS_CODE_EXCLUDE).not.toContain('.airflowignore');
});
