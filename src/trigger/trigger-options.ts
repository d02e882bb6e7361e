import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as events from 'aws-cdk-lib/aws-events';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { IServerlessWorkflow } from '../serverless/serverless-workflow-ref';

/** The approval statuses of a SageMaker model package. */
export enum ModelApprovalStatus {
  /** Approved for deployment. */
  APPROVED = 'Approved',
  /** Rejected. */
  REJECTED = 'Rejected',
  /** Waiting for a person to decide. */
  PENDING_MANUAL_APPROVAL = 'PendingManualApproval',
}

/** What every trigger source needs: what to start, a DAG of the MWAA environment or an MWAA Serverless workflow. */
export interface DagRunTargetOptions {
  /**
   * The id of the DAG to start on the trigger's MWAA environment. Airflow's dag_id characters (letters, digits, `_`,
   * `.`, `-`), at most 50 of them: MWAA's `InvokeRestApi` limits the request path to 64 characters. Set exactly one
   * of `dagId` and `workflow`; `dagId` needs `DagTriggerProps.environment`.
   *
   * @default - none: set `workflow`
   */
  readonly dagId?: string;

  /**
   * The MWAA Serverless workflow to start (`StartWorkflowRun`; the function may start runs of this workflow only).
   * The run's `OverrideParameters` are the `conf` a DAG run would get, and its `ClientToken` is the run id (shortened
   * to 128 characters), so a redelivered event does not start a second run. Set exactly one of `dagId` and
   * `workflow`.
   *
   * @default - none: set `dagId`
   */
  readonly workflow?: IServerlessWorkflow;

  /**
   * A description for the EventBridge rule.
   *
   * @default - says which source starts which DAG
   */
  readonly description?: string;
}

/** Start a DAG run when an image is pushed to an ECR repository. */
export interface ImagePushedTriggerOptions extends DagRunTargetOptions {
  /** The repository to watch. */
  readonly repository: ecr.IRepository;

  /**
   * Only pushes with a tag starting with one of these prefixes start a run (e.g. `['v', 'release-']`).
   *
   * @default - every successful push, tagged or not
   */
  readonly imageTagPrefixes?: string[];
}

/** Start a DAG run when an object is created in an S3 bucket. */
export interface ObjectCreatedTriggerOptions extends DagRunTargetOptions {
  /**
   * The bucket to watch. For a bucket this stack creates (`s3.Bucket`), the trigger turns on its EventBridge
   * notifications. For an imported bucket, turn them on yourself (S3 console: Properties, Amazon EventBridge; or
   * `aws s3api put-bucket-notification-configuration --notification-configuration '{"EventBridgeConfiguration": {}}'`,
   * which replaces the bucket's other notification settings); the construct adds a synth warning as a reminder.
   */
  readonly bucket: s3.IBucket;

  /**
   * Only objects whose key starts with this prefix start a run (e.g. `raw/`).
   *
   * @default - every object in the bucket
   */
  readonly prefix?: string;
}

/** Start a DAG run when a model package in a group reaches an approval status. */
export interface ModelPackageTriggerOptions extends DagRunTargetOptions {
  /** The name of the SageMaker model package group to watch. */
  readonly modelPackageGroupName: string;

  /**
   * The status that starts a run. Each state change starts one run, however often EventBridge delivers it (the run
   * id follows the package, the status and the change's `LastModifiedTime`); approving a package again, e.g. to roll
   * back to it, is a new change and starts a new run.
   *
   * @default ModelApprovalStatus.APPROVED
   */
  readonly approvalStatus?: ModelApprovalStatus;
}

/**
 * Start a DAG run when an approved model package of a group is set to a status (default Approved) for one of the
 * given lifecycle stages: the SageMaker Model Registry's staging construct, `ModelLifeCycle {Stage, StageStatus}`
 * (https://docs.aws.amazon.com/sagemaker/latest/dg/model-registry-staging-construct.html).
 */
export interface ModelPackageStageTriggerOptions extends DagRunTargetOptions {
  /** The name of the SageMaker model package group to watch. */
  readonly modelPackageGroupName: string;

  /**
   * The lifecycle stages (`ModelLifeCycle.Stage`) whose change starts a run: 1 to 10 distinct literal names of
   * lowercase letters and digits in hyphen-separated words (e.g. `['dev', 'staging', 'prod']`). The run's `conf`
   * carries the stage as `model_package_stage`.
   */
  readonly stages: string[];

  /**
   * The stage status (`ModelLifeCycle.StageStatus`) that starts a run. Only a change of the package's lifecycle starts
   * one, and only for a package whose approval status is Approved. Each change starts one run, however often
   * EventBridge delivers it; setting the same stage and status again later (e.g. to roll back to the package) is a new
   * change and starts a new run.
   *
   * @default 'Approved'
   */
  readonly stageStatus?: string;
}

/** Start a DAG run for any event that matches a pattern. */
export interface EventPatternTriggerOptions extends DagRunTargetOptions {
  /** The EventBridge pattern; it must match on at least one field. The run's `conf` carries the event's `detail`. */
  readonly eventPattern: events.EventPattern;

  /**
   * The bus the events arrive on.
   *
   * @default - the account's default event bus
   */
  readonly eventBus?: events.IEventBus;
}

/**
 * Start a DAG run when a CloudWatch alarm changes to one of the given states. The run's `conf` carries the alarm's
 * name, ARN, new and previous state, the reason and the time of the change (`alarm_*` keys).
 */
export interface AlarmTriggerOptions extends DagRunTargetOptions {
  /**
   * The alarm to watch (a metric or composite alarm). CloudWatch sends its state changes to the default event bus of
   * the alarm's own account and region, so the alarm must be in the trigger's account and region.
   */
  readonly alarm: cloudwatch.IAlarm;

  /**
   * The states whose entry starts a run. Each change of state starts one run, however often EventBridge delivers it
   * (the run id follows the alarm and the time of the change); the alarm entering the state again later is a new change
   * and starts a new run. CloudWatch reports a change of state only, never an alarm that stays in its state.
   *
   * @default [cloudwatch.AlarmState.ALARM]
   */
  readonly states?: cloudwatch.AlarmState[];
}

/**
 * Start a DAG run on a schedule (an EventBridge scheduled rule). The run's `conf` carries the rule's ARN
 * (`schedule_rule_arn`) and the time the rule fired (`scheduled_time`); each firing starts one run.
 */
export interface ScheduleTriggerOptions extends DagRunTargetOptions {
  /** When to start a run, e.g. `events.Schedule.rate(Duration.days(1))` or `events.Schedule.cron({ hour: '2', minute: '0' })` (UTC). */
  readonly schedule: events.Schedule;
}
