import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { ResolvedStage } from '../../promotion/private/pipeline-stages';
import { EndpointDeployment, EndpointKind, TrafficShiftingType } from '../endpoint-deployment';

/** The version of the config's shape (assets/dags/cdk_mwaa_mlops/pipeline_config.schema.json; config.py). */
export const CONFIG_VERSION = 1;

export interface PipelineConfigValues {
  readonly pipelineName: string;
  readonly awsConnectionId: string;
  readonly topicArn?: string;
  readonly maxActiveRuns: number;
  readonly retries: number;
  readonly pollSeconds: number;
  readonly dataBucketName: string;
  readonly prefixes: { raw: string; processed: string; artifacts: string; checkpoints: string };
  readonly keyArn: string;
  readonly glueJobName: string;
  readonly scriptLocationPrefix: string;
  readonly split: { seed: number; train: number; validation: number };
  readonly imageRepositoryName: string;
  readonly sagemakerRoleArn: string;
  readonly training: {
    instanceType: string;
    instanceCount: number;
    volumeSizeGb: number;
    maxRuntimeSeconds: number;
    hyperparameters: { [name: string]: string };
    spotMaxWaitSeconds?: number;
  };
  readonly evaluation: { instanceType: string; metric: string; threshold: number; comparison: string };
  readonly modelPackageGroupName: string;
  readonly autoApprove: boolean;
  readonly deployment: EndpointDeployment;
  readonly endpointName?: string;
  readonly rollbackAlarms: cloudwatch.IAlarm[];
  /** The deployment stages; with stages the config has a `stages` section instead of `deployment`. */
  readonly stages?: ResolvedStage[];
  /** The `drift` section (`driftSection()`), when drift detection is on. */
  readonly drift?: Record<string, unknown>;
}

/** The JSON document `cdk_mwaa_mlops_pipelines/<pipeline>.json` that the DAGs read (deploy-time values as tokens). */
export function pipelineConfig(v: PipelineConfigValues): Record<string, unknown> {
  return {
    config_version: CONFIG_VERSION,
    pipeline_name: v.pipelineName,
    aws_conn_id: v.awsConnectionId,
    ...(v.topicArn ? { notification_topic_arn: v.topicArn } : {}),
    max_active_runs: v.maxActiveRuns,
    retries: v.retries,
    poll_interval_seconds: v.pollSeconds,
    data: {
      bucket: v.dataBucketName,
      raw_prefix: v.prefixes.raw,
      processed_prefix: v.prefixes.processed,
      artifacts_prefix: v.prefixes.artifacts,
      checkpoints_prefix: v.prefixes.checkpoints,
      kms_key_arn: v.keyArn,
    },
    preprocessing: {
      glue_job_name: v.glueJobName,
      script_prefix: v.scriptLocationPrefix,
      seed: v.split.seed,
      train_fraction: v.split.train,
      validation_fraction: v.split.validation,
    },
    training: {
      image_repository_name: v.imageRepositoryName,
      role_arn: v.sagemakerRoleArn,
      instance_type: v.training.instanceType,
      instance_count: v.training.instanceCount,
      volume_size_gb: v.training.volumeSizeGb,
      max_runtime_seconds: v.training.maxRuntimeSeconds,
      hyperparameters: v.training.hyperparameters,
      ...(v.training.spotMaxWaitSeconds !== undefined ? { spot: { max_wait_seconds: v.training.spotMaxWaitSeconds } } : {}),
    },
    evaluation: {
      instance_type: v.evaluation.instanceType,
      metric: v.evaluation.metric,
      threshold: v.evaluation.threshold,
      comparison: v.evaluation.comparison,
    },
    registry: { model_package_group_name: v.modelPackageGroupName, auto_approve: v.autoApprove },
    ...(v.stages
      ? { stages: v.stages.map(stageSection) }
      : { deployment: deploymentSection(v.deployment, v.endpointName, v.rollbackAlarms.map((alarm) => alarm.alarmName)) }),
    ...(v.drift ? { drift: v.drift } : {}),
  };
}

function stageSection(stage: ResolvedStage): Record<string, unknown> {
  return {
    name: stage.name,
    account: stage.account,
    region: stage.region,
    role_arn: stage.deployRoleArn,
    model_role_arn: stage.modelRoleArn,
    kms_key_id: stage.keyAliasArn,
    ...(stage.gate ? { gate: stage.gate } : {}),
    checks: {
      sample_rows: stage.checks.sampleRows,
      max_error_rate: stage.checks.maxErrorRate,
      max_latency_ms: stage.checks.maxLatencyMs,
    },
    deployment: deploymentSection(stage.deployment, stage.endpointName, stage.rollbackAlarmNames),
  };
}

function deploymentSection(d: EndpointDeployment, endpointName: string | undefined, rollbackAlarmNames: string[]): Record<string, unknown> {
  switch (d.kind) {
    case EndpointKind.SERVERLESS:
      return {
        mode: d.kind,
        endpoint_name: endpointName,
        serverless_memory_mb: d.memorySizeMb,
        serverless_max_concurrency: d.maxConcurrency,
      };
    case EndpointKind.REAL_TIME: {
      const shifting = d.trafficShifting!;
      return {
        mode: d.kind,
        endpoint_name: endpointName,
        instance_type: d.instanceType,
        initial_instance_count: d.initialInstanceCount,
        termination_wait_seconds: d.terminationWait!.toSeconds(),
        traffic_shifting: {
          type: shifting.type,
          ...(shifting.type !== TrafficShiftingType.ALL_AT_ONCE ? { step_percent: shifting.percent } : {}),
          wait_seconds: shifting.wait.toSeconds(),
        },
        rollback_alarm_names: rollbackAlarmNames,
      };
    }
    default:
      return { mode: d.kind };
  }
}
