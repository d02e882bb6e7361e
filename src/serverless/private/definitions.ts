import * as path from 'path';
import { Token } from 'aws-cdk-lib';

/**
 * The MWAA Serverless workflow definitions of a pipeline: dag-factory documents (JSON, which is YAML) that run the same
 * steps as the provisioned training, deployment and drift DAGs.
 *
 * One source of truth: every step that calls AWS is a `PythonOperator` task whose callable lives in the DAGs' Python
 * package (`assets/dags/cdk_mwaa_mlops/serverless.py`, shipped as the workflow's code package), called with the
 * pipeline config `pipelineConfig()` writes for the provisioned DAGs, embedded here in each task's `op_kwargs` (a run's
 * `OverrideParameters` cannot change it). Those callables build the provider operators with the very builders the DAGs
 * use; nothing below knows what a SageMaker or Glue request looks like. What this file adds is only the service's shape:
 * flat run parameters, the task graph, the allowlisted sensors that wait for jobs, and the service's task limits.
 */

/**
 * The limits MWAA Serverless puts on every task ("Supported Airflow parameters", MWAA Serverless user guide,
 * https://docs.aws.amazon.com/mwaa/latest/mwaa-serverless-userguide/supported-airflow-parameters.html; see
 * research/mwaa-serverless.md §3).
 */
export const SERVERLESS_LIMITS = {
  /** `retries`: 0 to 3 (the service's default is 1). */
  retries: 3,
  /** `retry_delay`: 0 to 300 seconds (the service's default is 300). */
  retryDelaySeconds: 300,
  /** `execution_timeout`: at most 3600 seconds, which is also the service's default. */
  executionTimeoutSeconds: 3600,
  /**
   * The largest workflow definition the service accepts, in bytes ("MWAA Serverless quotas",
   * https://docs.aws.amazon.com/mwaa/latest/mwaa-serverless-userguide/mwaa-serverless-quotas.html, as a third party
   * reads it: 50 KB of YAML).
   */
  definitionBytes: 50 * 1024,
} as const;

/**
 * How long a sensor of these definitions can wait for a job: every try of the sensor is cut at the service's
 * `execution_timeout` and retried, up to the service's retry limit.
 */
export const WAIT_BUDGET_SECONDS = (SERVERLESS_LIMITS.retries + 1) * SERVERLESS_LIMITS.executionTimeoutSeconds;
/** Kept out of a job's budget for SageMaker or Glue to start it (instances, image) before its own clock runs. */
export const JOB_START_MARGIN_SECONDS = 900;
/** Kept out of an endpoint deployment's budget for SageMaker to launch and check the new fleet. */
export const ENDPOINT_START_MARGIN_SECONDS = 1800;
/** The delay before a sensor's next try (after its try reached the task limit). */
export const SENSOR_RETRY_DELAY_SECONDS = 30;
/** The delay before a step's retry (as the provisioned DAGs' first retry). */
export const STEP_RETRY_DELAY_SECONDS = 60;

/** The operator of every step: the Airflow 3 path of PythonOperator (allowlisted with a `Code` package since Aug 2026). */
export const PYTHON_OPERATOR = 'airflow.providers.standard.operators.python.PythonOperator';
/** The allowlisted sensors that wait for the jobs the steps start. */
export const SENSORS = {
  glueJob: 'airflow.providers.amazon.aws.sensors.glue.GlueJobSensor',
  training: 'airflow.providers.amazon.aws.sensors.sagemaker.SageMakerTrainingSensor',
  processing: 'airflow.providers.amazon.aws.sensors.sagemaker.SageMakerProcessingSensor',
  endpoint: 'airflow.providers.amazon.aws.sensors.sagemaker.SageMakerEndpointSensor',
} as const;
/** The module of the step callables, at the root of the code package. */
export const STEPS_MODULE = 'cdk_mwaa_mlops.serverless';

/**
 * The code package: this directory, zipped so that the `cdk_mwaa_mlops` package is at the zip's root (the service
 * extracts it to /usr/local/airflow/dags, which is on `sys.path`), without what only a provisioned environment reads.
 * Its `.airflowignore` stays: the package's modules name both "airflow" and "dag", so a DAG processor scanning the
 * folder would otherwise parse each as a DAG file.
 */
export const SERVERLESS_CODE_DIRECTORY = path.join(__dirname, '..', '..', '..', 'assets', 'dags');
/** What the code package leaves out of `SERVERLESS_CODE_DIRECTORY` (glob patterns, as `Asset`'s `exclude`). */
export const SERVERLESS_CODE_EXCLUDE: string[] = [
  'cdk_mwaa_mlops_dags.py',
  'cdk_mwaa_mlops_pipelines',
  '**/__pycache__',
  '**/*.pyc',
];

/**
 * The run parameters of every workflow: every key the trigger Lambda puts in a provisioned run's `conf`
 * (src/trigger/runtime/dag-run-request.ts), which it sends as `OverrideParameters`, so any key it sends is a declared
 * parameter. All default to null (flat params: `{{ params.<key> }}`).
 */
export const RUN_PARAMETERS: readonly string[] = [
  'trigger_conf_version', 'source_kind', 'event_id', 'event_time', 'event_source', 'event_detail_type', 'account', 'region',
  'repository_name', 'image_digest', 'image_tag', 'image_uri',
  's3_bucket', 's3_key', 's3_version_id', 's3_etag', 's3_size', 's3_uri',
  'model_package_arn', 'model_package_group_name', 'model_package_version', 'model_approval_status', 'model_package_modified_time',
  'model_package_stage', 'model_package_stage_status',
  'alarm_name', 'alarm_arn', 'alarm_state', 'alarm_previous_state', 'alarm_reason', 'alarm_state_time',
  'schedule_rule_arn', 'scheduled_time',
  'detail',
];

export interface DefinitionInputs {
  /** The pipeline config (`pipelineConfig(...)`'s output; it may hold tokens). */
  readonly config: Record<string, unknown>;
  /** The training workflow's name (the definition's DAG name and `dag_id`). */
  readonly trainingWorkflowName: string;
  /** The deployment workflow's name (required for `deploymentDefinition`). */
  readonly deploymentWorkflowName?: string;
  /** The drift workflow's name (required for `driftDefinition`). */
  readonly driftWorkflowName?: string;
  /** The deployment workflow's ARN: the training workflow starts it when it registers an approved package. */
  readonly deploymentWorkflowArn?: string;
  /** The Glue job's timeout (the `preprocessing.timeout` prop), checked against what the workflow can wait for. */
  readonly preprocessingTimeoutMinutes?: number;
}

type Json = Record<string, unknown>;

/**
 * The training workflow: resolve → preprocess (+ wait) → train (+ wait) → evaluate (+ wait) → gate → register (→ deploy).
 * With drift detection, a cool-down step comes first (a run the drift alarm started ends there while the pipeline's last
 * training job is recent), and the drift baseline (+ wait) runs beside training, from the preprocessed split; register
 * waits for both.
 */
export function trainingDefinition(i: DefinitionInputs): Json {
  checkServerlessLimits(i.config, i.preprocessingTimeoutMinutes);
  const config = i.config;
  const registry = section(config, 'registry');
  const deployment = section(config, 'deployment');
  const drift = config.drift !== undefined;
  const poll = config.poll_interval_seconds;
  const tasks: Json = {
    ...(drift ? { cool_down: step('cool_down', config) } : {}),
    resolve_run: step('resolve_run', config, drift ? ['cool_down'] : []),
    preprocess: step('preprocess', config, ['resolve_run']),
    wait_for_preprocessing: sensor('wait_for_preprocessing', SENSORS.glueJob, ['preprocess'], poll, {
      job_name: section(config, 'preprocessing').glue_job_name,
      run_id: pulled('preprocess'),
      deferrable: false,
      verbose: false,
    }),
    ...(drift ? {
      drift_baseline: step('drift_baseline', config, ['wait_for_preprocessing']),
      wait_for_baseline: processingSensor('wait_for_baseline', 'drift_baseline', poll),
    } : {}),
    start_training: step('start_training', config, ['wait_for_preprocessing']),
    wait_for_training: sensor('wait_for_training', SENSORS.training, ['start_training'], poll, {
      job_name: pulled('start_training', 'Training', 'TrainingJobName'),
      print_log: false,
    }),
    train: step('train', config, ['wait_for_training']),
    evaluate: step('evaluate', config, ['train']),
    wait_for_evaluation: processingSensor('wait_for_evaluation', 'evaluate', poll),
    quality_gate: step('quality_gate', config, ['wait_for_evaluation']),
    register: step('register', config, drift ? ['quality_gate', 'wait_for_baseline'] : ['quality_gate']),
  };
  if (registry.auto_approve === true && deployment.mode !== 'none') {
    if (!i.deploymentWorkflowArn) {
      throw new Error('trainingDefinition: deploymentWorkflowArn is required when packages are approved automatically and deployed');
    }
    tasks.start_deployment = step('start_deployment', config, ['register'], { deployment_workflow_arn: i.deploymentWorkflowArn });
  }
  return dag(i.trainingWorkflowName, config, tasks, config.max_active_runs ?? 1);
}

/**
 * The drift workflow (config with a `drift` section): resolve what the endpoint serves and the baseline of its model →
 * the drift check processing job (+ wait). The check publishes its metrics itself. A run with nothing to check (no
 * endpoint in service, no baseline, no captured traffic) skips in its resolve step, and so do the tasks after it. It
 * has no schedule: the trigger starts it on the drift schedule's rule.
 */
export function driftDefinition(i: DefinitionInputs): Json {
  checkServerlessLimits(i.config, i.preprocessingTimeoutMinutes);
  if (!i.driftWorkflowName) throw new Error('driftDefinition: driftWorkflowName is required');
  const config = i.config;
  if (config.drift === undefined) throw new Error('driftDefinition: the pipeline config has no drift section');
  // The config's deployment mode defaults to real_time (config.py).
  if (Array.isArray(config.stages) || (section(config, 'deployment').mode ?? 'real_time') !== 'real_time') {
    throw new Error('driftDefinition: drift detection checks the captured traffic of one real-time endpoint (deployment.mode real_time, no stages)');
  }
  const tasks: Json = {
    resolve_drift: step('resolve_drift', config),
    drift_check: step('drift_check', config, ['resolve_drift']),
    wait_for_drift_check: processingSensor('wait_for_drift_check', 'drift_check', config.poll_interval_seconds),
  };
  // One check at a time: a second would read the same capture and publish the same verdict.
  return dag(i.driftWorkflowName, config, tasks, 1);
}

/** The deployment workflow: resolve the package → model → endpoint config → deploy (+ wait) → verify. */
export function deploymentDefinition(i: DefinitionInputs): Json {
  checkServerlessLimits(i.config, i.preprocessingTimeoutMinutes);
  if (!i.deploymentWorkflowName) throw new Error('deploymentDefinition: deploymentWorkflowName is required');
  const config = i.config;
  if (Array.isArray(config.stages)) return stageDeploymentDefinition(i.deploymentWorkflowName, config);
  const deployment = section(config, 'deployment');
  if (deployment.mode === 'none') {
    throw new Error("deploymentDefinition: deployment.mode is 'none': this pipeline only registers packages and has no deployment workflow");
  }
  const tasks: Json = {
    resolve_package: step('resolve_package', config),
    create_model: step('create_model', config, ['resolve_package']),
    create_endpoint_config: step('create_endpoint_config', config, ['create_model']),
    deploy_endpoint: step('deploy_endpoint', config, ['create_endpoint_config']),
    wait_for_endpoint: sensor('wait_for_endpoint', SENSORS.endpoint, ['deploy_endpoint'], config.poll_interval_seconds, {
      endpoint_name: deployment.endpoint_name,
    }),
    verify_endpoint: step('verify_endpoint', config, ['wait_for_endpoint']),
  };
  // One deployment at a time: an endpoint that is updating refuses another update (as the provisioned DAG).
  return dag(i.deploymentWorkflowName, config, tasks, 1);
}

/**
 * The deployment workflow of a pipeline with stages: resolve the package and the stage → inspect the stage's endpoint →
 * model → endpoint config → deploy → wait → verify → checks → promote (assets/dags/cdk_mwaa_mlops/promotion_steps.py).
 * The wait is a step, not the allowlisted endpoint sensor: the stage's endpoint is reached through the stage's deploy
 * role, which the sensor cannot assume. A failed verification or check rejects the stage within its task.
 */
function stageDeploymentDefinition(name: string, config: Json): Json {
  const tasks: Json = {
    resolve_package: step('resolve_package', config),
    inspect_stage: step('inspect_stage', config, ['resolve_package']),
    create_model: step('create_model', config, ['inspect_stage']),
    create_endpoint_config: step('create_endpoint_config', config, ['create_model']),
    deploy_endpoint: step('deploy_endpoint', config, ['create_endpoint_config']),
    // Each try polls up to the task limit; as many tries as the service allows.
    wait_for_endpoint: { ...step('wait_for_endpoint', config, ['deploy_endpoint']), retries: SERVERLESS_LIMITS.retries },
    verify_endpoint: step('verify_endpoint', config, ['wait_for_endpoint']),
    check_stage: step('check_stage', config, ['verify_endpoint']),
    promote: step('promote', config, ['check_stage']),
  };
  return dag(name, config, tasks, 1);
}

/**
 * Refuses, at synth, a pipeline config MWAA Serverless cannot run as these definitions run it. Each message names the
 * prop, its value and the limit. Unresolved tokens are not checked.
 */
export function checkServerlessLimits(config: Record<string, unknown>, preprocessingTimeoutMinutes?: number): void {
  const problems: string[] = [];
  const known = (value: unknown): value is number => typeof value === 'number' && !Token.isUnresolved(value);

  const retries = config.retries;
  if (known(retries) && retries > SERVERLESS_LIMITS.retries) {
    problems.push(`retries: ${retries} is more than MWAA Serverless allows a task (at most ${SERVERLESS_LIMITS.retries})`);
  }
  const budget = WAIT_BUDGET_SECONDS;
  const waits = `a sensor waits at most ${SERVERLESS_LIMITS.retries + 1} tries of ${SERVERLESS_LIMITS.executionTimeoutSeconds} s ` +
    '(MWAA Serverless: execution_timeout at most 3600 s, retries at most 3)';
  const jobLimit = budget - JOB_START_MARGIN_SECONDS;
  const training = section(config, 'training');
  const spot = training.spot as Json | undefined;
  const spotWait = spot?.max_wait_seconds;
  if (known(spotWait)) {
    if (spotWait > jobLimit) {
      problems.push(`training.spot.maxWait: ${spotWait} s is longer than a serverless workflow can wait for a training job ` +
        `(at most ${jobLimit} s: ${waits}, less ${JOB_START_MARGIN_SECONDS} s for SageMaker to start the job)`);
    }
  } else if (known(training.max_runtime_seconds) && training.max_runtime_seconds > jobLimit) {
    problems.push(`training.maxRuntime: ${training.max_runtime_seconds} s is longer than a serverless workflow can wait for a ` +
      `training job (at most ${jobLimit} s: ${waits}, less ${JOB_START_MARGIN_SECONDS} s for SageMaker to start the job)`);
  }
  const driftRuntime = config.drift === undefined ? undefined : section(config, 'drift').max_runtime_seconds;
  if (known(driftRuntime) && driftRuntime > jobLimit) {
    problems.push(`drift.maxRuntime: ${driftRuntime} s is longer than a serverless workflow can wait for a drift processing job ` +
      `(the baseline or the check; at most ${jobLimit} s: ${waits}, less ${JOB_START_MARGIN_SECONDS} s for SageMaker to start the job)`);
  }
  if (known(preprocessingTimeoutMinutes) && preprocessingTimeoutMinutes * 60 > jobLimit) {
    problems.push(`preprocessing.timeout: ${preprocessingTimeoutMinutes} minutes is longer than a serverless workflow can wait ` +
      `for the Glue job (at most ${Math.floor(jobLimit / 60)} minutes: ${waits}, less ${JOB_START_MARGIN_SECONDS} s to start it)`);
  }
  const endpointLimit = budget - ENDPOINT_START_MARGIN_SECONDS;
  const deployments: Array<[string, Json]> = Array.isArray(config.stages)
    ? config.stages.map((stage, index) => [`stages[${index}].deployment`, section(stage as Json, 'deployment')])
    : [['deployment', section(config, 'deployment')]];
  for (const [where, deployment] of deployments) {
    const rollout = rolloutSeconds(deployment);
    if (rollout !== undefined && rollout > endpointLimit) {
      problems.push(`${where} trafficShifting and terminationWait: a blue/green update takes ${rollout} s of waits ` +
        '(traffic shifting steps and termination wait), more than a serverless workflow can wait for an endpoint ' +
        `(at most ${endpointLimit} s: ${waits}, less ${ENDPOINT_START_MARGIN_SECONDS} s for SageMaker to launch the new fleet)`);
    }
  }
  for (const [where, value] of strings(config, '')) {
    if (/\{\{|\{%|\{#/.test(value)) {
      problems.push(`${where}: '${value}' holds Jinja markup, which the workflow would render (MWAA Serverless templates every step's op_kwargs)`);
    }
    if (value.includes('$')) {
      problems.push(`${where}: '${value}' holds '$', which the workflow loader (dag-factory) expands as an environment variable`);
    }
  }
  if (problems.length > 0) {
    throw new Error(`This pipeline cannot run on MWAA Serverless:\n- ${problems.join('\n- ')}`);
  }
}

/** The seconds a blue/green update of a real-time endpoint spends waiting (traffic shifting, then termination). */
function rolloutSeconds(deployment: Json): number | undefined {
  if (deployment.mode !== 'real_time') return undefined;
  const shifting = (deployment.traffic_shifting ?? {}) as Json;
  const wait = shifting.wait_seconds;
  const termination = deployment.termination_wait_seconds;
  const percent = shifting.step_percent;
  if (typeof wait !== 'number' || typeof termination !== 'number' || Token.isUnresolved(wait) || Token.isUnresolved(termination)) {
    return undefined;
  }
  // CANARY: the canary's wait, then the rest at once; ALL_AT_ONCE: one bake period; LINEAR: one wait per step.
  const steps = shifting.type === 'LINEAR' && typeof percent === 'number' ? Math.ceil(100 / percent) : 1;
  return steps * wait + termination;
}

function dag(name: string, config: Json, tasks: Json, maxActiveRuns: unknown): Json {
  const retries = config.retries;
  return {
    [name]: {
      dag_id: name,
      schedule: null,
      max_active_runs: maxActiveRuns,
      params: Object.fromEntries(RUN_PARAMETERS.map((key) => [key, null])),
      // No execution_timeout: the service's default is its limit (3600 s), and the form it accepts for one (seconds, a
      // duration string, or dag-factory's `__type__: datetime.timedelta`) is not documented.
      default_args: {
        owner: 'cdk-mwaa-mlops',
        retries,
        retry_delay: STEP_RETRY_DELAY_SECONDS,
      },
      tasks,
    },
  };
}

/** A step: the package's callable of that name, given the pipeline config (and `extra` keyword arguments). */
function step(name: string, config: Json, dependencies: string[] = [], extra: Json = {}): Json {
  return {
    operator: PYTHON_OPERATOR,
    task_id: name,
    python_callable: `${STEPS_MODULE}.${name}`,
    op_kwargs: { config, ...extra },
    ...(dependencies.length > 0 ? { dependencies } : {}),
  };
}

/** A sensor that waits for a job a step started: each try at most the task limit, as many tries as the service allows. */
function sensor(name: string, operator: string, dependencies: string[], poll: unknown, args: Json): Json {
  return {
    operator,
    task_id: name,
    ...args,
    mode: 'poke',
    poke_interval: poll,
    timeout: WAIT_BUDGET_SECONDS,
    retries: SERVERLESS_LIMITS.retries,
    retry_delay: SENSOR_RETRY_DELAY_SECONDS,
    dependencies,
  };
}

/** A sensor that waits for the processing job a step started (the job name is in the step's XCom). */
function processingSensor(name: string, submit: string, poll: unknown): Json {
  return sensor(name, SENSORS.processing, [submit], poll, { job_name: pulled(submit, 'Processing', 'ProcessingJobName') });
}

/** A Jinja expression for a value in a task's XCom (as the Python package's `common.pulled`). */
function pulled(taskId: string, ...keys: string[]): string {
  return `{{ ti.xcom_pull(task_ids='${taskId}')${keys.map((key) => `['${key}']`).join('')} }}`;
}

function section(config: Json, key: string): Json {
  const value = config[key];
  return (value && typeof value === 'object' ? value : {}) as Json;
}

function* strings(value: unknown, where: string): Generator<[string, string]> {
  if (typeof value === 'string') {
    if (!Token.isUnresolved(value)) yield [where, value];
  } else if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) yield* strings(item, `${where}[${index}]`);
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) yield* strings(item, where ? `${where}.${key}` : key);
  }
}
