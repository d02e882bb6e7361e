import { Annotations, Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DagTriggerFunction } from './dag-trigger-function';
import { IAirflowEnvironment } from '../airflow/airflow-environment-base';
import type { IServerlessWorkflow } from '../serverless/serverless-workflow-ref';
import { DagRunInput } from './private/dag-run-input';
import { acknowledgeTriggerFindings } from './private/nag';
import { acknowledgeBucketNotificationsHandler } from '../private/nag-ids';
import {
  validateAlarmOptions, validateEventPattern, validateGroupName, validatePrefix, validateScheduleOptions, validateStages, validateStageStatus,
  validateTagPrefixes, validateTarget, validateTriggerProps,
} from './private/validate';
import {
  AlarmTriggerOptions,
  DagRunTargetOptions,
  EventPatternTriggerOptions,
  ImagePushedTriggerOptions,
  ModelApprovalStatus,
  ModelPackageStageTriggerOptions,
  ModelPackageTriggerOptions,
  ObjectCreatedTriggerOptions,
  ScheduleTriggerOptions,
} from './trigger-options';

const METRIC_NAMESPACE = 'CdkMwaaMlops/DagTrigger';

/**
 * The CloudWatch namespace of the trigger's outcome metrics.
 *
 * @deprecated use `DagTrigger.METRIC_NAMESPACE` (jsii leaves exported constants out of the other languages)
 */
export const DAG_TRIGGER_METRIC_NAMESPACE = METRIC_NAMESPACE;

/** Properties of a `DagTrigger`. */
export interface DagTriggerProps extends DagTriggerOptions {
  /**
   * The MWAA environment whose DAGs the trigger starts (created here or imported). Rules naming a `dagId` need it;
   * rules naming a serverless `workflow` do not.
   *
   * @default - none: every rule must name a `workflow` (MWAA Serverless)
   */
  readonly environment?: IAirflowEnvironment;
}

/** The optional properties of a `DagTrigger` (what a composing construct passes through). */
export interface DagTriggerOptions {
  /**
   * The Airflow RBAC role the trigger acts as (`airflow:InvokeRestApi` is granted on this role only). Only used with
   * an `environment`.
   *
   * @default 'User' (the least role that can create DAG runs)
   */
  readonly airflowRole?: string;

  /**
   * Where events go that could not be delivered or kept failing: EventBridge delivery failures and the function's
   * asynchronous failures both land here, with the whole event, ready to replay.
   *
   * @default - a new SQS queue, SSE-SQS encrypted, TLS only, keeping messages 14 days
   */
  readonly deadLetterQueue?: sqs.IQueue;

  /**
   * How long EventBridge keeps retrying to hand an event to the function.
   *
   * @default Duration.hours(24)
   */
  readonly maxEventAge?: Duration;

  /**
   * How often EventBridge retries handing an event to the function (0-185).
   *
   * @default 185
   */
  readonly retryAttempts?: number;

  /**
   * A topic the alarms notify.
   *
   * @default - alarms only change state; read them from `deadLetterAlarm`, `errorsAlarm` and `rejectedEventsAlarm`
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * How long the function's logs (which hold every rejected event) are kept.
   *
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * The function's timeout; retries inside one invocation stop early enough to finish within it.
   *
   * @default Duration.minutes(1)
   */
  readonly timeout?: Duration;

  /**
   * The most invocations of the function at once (Lambda reserved concurrency), to bound bursts of events against
   * MWAA's API limits. Throttled events wait: Lambda keeps retrying them for up to 6 hours.
   *
   * @default - no reservation: the function scales with the account's unreserved concurrency
   */
  readonly reservedConcurrency?: number;

  /**
   * Runs the function in this VPC. Not needed for a private webserver: `InvokeRestApi` is an MWAA service API
   * (`env.airflow.<region>.amazonaws.com`) that reaches the webserver for the caller, and `StartWorkflowRun` is MWAA
   * Serverless's (`airflow-serverless.<region>.amazonaws.com`). Use it when policy puts every function in a VPC; the
   * subnets then need a NAT gateway or interface endpoints for the APIs the rules use.
   *
   * @default - the function runs outside any VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * The subnets for the function, when `vpc` is set.
   *
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
}

/**
 * Starts Airflow DAG runs on MWAA, or MWAA Serverless workflow runs, from EventBridge events: an image pushed to
 * ECR, an object created in S3, a model package reaching an approval status or a lifecycle stage, a CloudWatch alarm
 * changing state, a schedule, or any event pattern.
 *
 * Each event starts exactly one run, however often it is delivered: the run id derives from the event (for ECR the
 * repository and digest, for S3 the bucket, key and version, for model packages the package, status and time of the
 * state change, and for a lifecycle change also the stage and its status; for an alarm the alarm and the time of its
 * change of state; for a schedule the rule and the time it fired; otherwise the event id). On MWAA it is the DAG run
 * id, and Airflow's 409 for a known run id counts as done; on MWAA Serverless it is the `StartWorkflowRun`
 * ClientToken, which returns the run already started for it. The run's `conf` (a workflow's `OverrideParameters`)
 * carries the event's facts. Events that cannot be delivered or keep failing end in a dead-letter queue; malformed
 * events, unknown DAGs or workflows and runs the service refuses are logged with the reason and the event, and counted.
 */
export class DagTrigger extends Construct {
  /** The CloudWatch namespace of the trigger's outcome metrics (counted from its logs). */
  public static readonly METRIC_NAMESPACE = METRIC_NAMESPACE;

  /** The function that calls `InvokeRestApi` (DAGs) and `StartWorkflowRun` (serverless workflows). */
  public readonly triggerFunction: lambda.IFunction;
  /** The function's log group (JSON records, one outcome per event). */
  public readonly logGroup: logs.ILogGroup;
  /** Where undeliverable and repeatedly failing events are kept. */
  public readonly deadLetterQueue: sqs.IQueue;
  /** In alarm while the dead-letter queue holds any message. */
  public readonly deadLetterAlarm: cloudwatch.Alarm;
  /** In alarm when the function fails (every failure is an event being retried or dead-lettered). */
  public readonly errorsAlarm: cloudwatch.Alarm;
  /** In alarm when an event was rejected (malformed, unknown DAG, refused by Airflow). */
  public readonly rejectedEventsAlarm: cloudwatch.Alarm;
  /** The environment whose DAGs the trigger starts, if it has one. */
  public readonly environment?: IAirflowEnvironment;
  /**
   * The `Environment` dimension of the outcome metrics: the environment's name, or for a trigger without one (only
   * serverless workflows) its construct path with `-` for `/` (a path with slashes reads as a secret to scanners such as
   * checkov's CKV_AWS_45, in the function's environment).
   */
  public readonly metricDimension: string;

  private readonly _rules: events.Rule[] = [];
  private readonly targetProps: { maxEventAge: Duration; retryAttempts: number };
  private readonly grantedWorkflows = new Set<IServerlessWorkflow>();

  constructor(scope: Construct, id: string, props: DagTriggerProps = {}) {
    super(scope, id);
    validateTriggerProps(props);
    this.environment = props.environment;
    this.metricDimension = props.environment?.environmentName ?? this.node.path.split('/').join('-');
    this.targetProps = { maxEventAge: props.maxEventAge ?? Duration.hours(24), retryAttempts: props.retryAttempts ?? 185 };

    this.deadLetterQueue =
      props.deadLetterQueue ??
      new sqs.Queue(this, 'DeadLetterQueue', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS });
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.environment
        ? `Starts DAG runs on MWAA environment ${props.environment.environmentName}`
        : 'Starts MWAA Serverless workflow runs',
    });
    this.logGroup.grantWrite(role);
    if (props.vpc) {
      // aws-cdk-lib adds the network-interface permissions only to roles it creates itself.
      role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole'));
    }

    const fn = new DagTriggerFunction(this, 'Function', {
      description: props.environment
        ? `Starts Airflow DAG runs on ${props.environment.environmentName} from EventBridge events`
        : 'Starts MWAA Serverless workflow runs from EventBridge events',
      role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: props.timeout ?? Duration.minutes(1),
      environment: props.environment
        ? { MWAA_ENVIRONMENT_NAME: props.environment.environmentName }
        : { TRIGGER_METRIC_DIMENSION: this.metricDimension },
      onFailure: new destinations.SqsDestination(this.deadLetterQueue),
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      reservedConcurrentExecutions: props.reservedConcurrency,
      vpc: props.vpc,
      vpcSubnets: props.vpc ? props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } : undefined,
    });
    props.environment?.grantTriggerDag(fn, props.airflowRole ?? 'User');
    this.triggerFunction = fn;

    this.addOutcomeMetricFilters();
    this.deadLetterAlarm = this.alarm('DeadLetterAlarm', this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: cloudwatch.Stats.MAXIMUM,
    }), 'Events are waiting in the DagTrigger dead-letter queue: replay them once the cause is fixed');
    this.errorsAlarm = this.alarm('ErrorsAlarm', fn.metricErrors({ period: Duration.minutes(5) }),
      'The DagTrigger function failed; the event is retried and then dead-lettered');
    this.rejectedEventsAlarm = this.alarm('RejectedEventsAlarm', this.metricRejected(),
      'The DagTrigger rejected an event (malformed, unknown DAG or workflow, or refused by Airflow or MWAA Serverless): see the function logs');
    if (props.alarmTopic) {
      const action = new cloudwatchActions.SnsAction(props.alarmTopic);
      for (const alarm of [this.deadLetterAlarm, this.errorsAlarm, this.rejectedEventsAlarm]) alarm.addAlarmAction(action);
    }
    acknowledgeTriggerFindings(this, { usesVpc: props.vpc !== undefined });
  }

  /** The rules added so far. */
  public get rules(): events.Rule[] {
    return [...this._rules];
  }

  /** Starts a run of `options.dagId` (or `options.workflow`) for every successful image push to `options.repository`. */
  public onImagePushed(id: string, options: ImagePushedTriggerOptions): events.Rule {
    validateTarget(id, options, this.environment !== undefined);
    validateTagPrefixes(options.imageTagPrefixes);
    const detail: Record<string, unknown> = {
      'action-type': ['PUSH'],
      'result': ['SUCCESS'],
      'repository-name': [options.repository.repositoryName],
    };
    if (options.imageTagPrefixes) detail['image-tag'] = options.imageTagPrefixes.map((prefix) => ({ prefix }));
    return this.addRule(id, options, `image pushed to ${options.repository.node.path}`, {
      source: ['aws.ecr'],
      detailType: ['ECR Image Action'],
      detail,
    });
  }

  /** Starts a run of `options.dagId` (or `options.workflow`) for every object created in `options.bucket` (under `options.prefix`). */
  public onObjectCreated(id: string, options: ObjectCreatedTriggerOptions): events.Rule {
    validateTarget(id, options, this.environment !== undefined);
    validatePrefix(options.prefix);
    if (options.bucket instanceof s3.Bucket) {
      options.bucket.enableEventBridgeNotification();
      acknowledgeBucketNotificationsHandler(this);
    } else {
      Annotations.of(this).addWarningV2('cdk-mwaa-mlops:trigger-imported-bucket',
        `${id}: ${options.bucket.node.path} is imported, so EventBridge notifications cannot be turned on here; turn them on for the bucket, or no run will start (see ObjectCreatedTriggerOptions.bucket)`);
    }
    const detail: Record<string, unknown> = { bucket: { name: [options.bucket.bucketName] } };
    if (options.prefix) detail.object = { key: [{ prefix: options.prefix }] };
    return this.addRule(id, options, `object created in ${options.bucket.node.path}${options.prefix ? ` under ${options.prefix}` : ''}`, {
      source: ['aws.s3'],
      detailType: ['Object Created'],
      detail,
    });
  }

  /** Starts a run of `options.dagId` (or `options.workflow`) when a package of the group reaches the approval status (default Approved). */
  public onModelPackageStatusChange(id: string, options: ModelPackageTriggerOptions): events.Rule {
    validateTarget(id, options, this.environment !== undefined);
    validateGroupName(options.modelPackageGroupName);
    const status = options.approvalStatus ?? ModelApprovalStatus.APPROVED;
    return this.addRule(id, options, `model package in ${options.modelPackageGroupName} ${status}`, {
      source: ['aws.sagemaker'],
      detailType: ['SageMaker Model Package State Change'],
      detail: {
        ModelPackageGroupName: [options.modelPackageGroupName],
        ModelApprovalStatus: [status],
        // A new package, or a change of its approval: SageMaker also reports edits of a package's other fields (its
        // lifecycle stage, description...) with the status unchanged, and lists what changed in UpdatedModelPackageFields.
        $or: [{ UpdatedModelPackageFields: ['ModelApprovalStatus'] }, { UpdatedModelPackageFields: [{ exists: false }] }],
      },
    });
  }

  /**
   * Starts a run of `options.dagId` (or `options.workflow`) when an approved package of the group is set to
   * `options.stageStatus` (default Approved) for one of `options.stages` (the registry's `ModelLifeCycle`).
   */
  public onModelPackageStageChange(id: string, options: ModelPackageStageTriggerOptions): events.Rule {
    validateTarget(id, options, this.environment !== undefined);
    validateGroupName(options.modelPackageGroupName);
    validateStages(options.stages);
    const status = options.stageStatus ?? 'Approved';
    validateStageStatus(status);
    return this.addRule(id, options, `model package in ${options.modelPackageGroupName} ${status} for stage ${options.stages.join(', ')}`, {
      source: ['aws.sagemaker'],
      detailType: ['SageMaker Model Package State Change'],
      detail: {
        ModelPackageGroupName: [options.modelPackageGroupName],
        // No stage of a package that is not approved for deployment starts a run.
        ModelApprovalStatus: [ModelApprovalStatus.APPROVED],
        ModelLifeCycle: { Stage: [...options.stages], StageStatus: [status] },
        // The event carries the package's whole lifecycle whatever changed; only a change of the lifecycle starts a run
        // (https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html#eventbridge-model-package).
        UpdatedModelPackageFields: ['ModelLifeCycle'],
      },
    });
  }

  /**
   * Starts a run of `options.dagId` (or `options.workflow`) each time `options.alarm` changes to one of
   * `options.states` (default ALARM). The run's `conf` has `source_kind: 'cloudwatch_alarm'` and the alarm's name,
   * ARN, states, reason and time of the change.
   */
  public onAlarm(id: string, options: AlarmTriggerOptions): events.Rule {
    validateTarget(id, options, this.environment !== undefined);
    validateAlarmOptions(this, id, options);
    const states: string[] = options.states ?? [cloudwatch.AlarmState.ALARM];
    return this.addRule(id, options, `alarm ${options.alarm.node.path} in ${states.join(' or ')}`, {
      source: ['aws.cloudwatch'],
      detailType: ['CloudWatch Alarm State Change'],
      resources: [options.alarm.alarmArn],
      detail: { state: { value: states } },
    });
  }

  /**
   * Starts a run of `options.dagId` (or `options.workflow`) on `options.schedule`. The run's `conf` has
   * `source_kind: 'schedule'`, the rule's ARN and the time it fired.
   */
  public onSchedule(id: string, options: ScheduleTriggerOptions): events.Rule {
    validateTarget(id, options, this.environment !== undefined);
    validateScheduleOptions(id, options);
    return this.addRule(id, options, `schedule ${options.schedule.expressionString}`, undefined, undefined, options.schedule);
  }

  /** Starts a run of `options.dagId` (or `options.workflow`) for every event matching `options.eventPattern`. */
  public onEvent(id: string, options: EventPatternTriggerOptions): events.Rule {
    validateTarget(id, options, this.environment !== undefined);
    validateEventPattern(options.eventPattern);
    return this.addRule(id, options, 'custom event pattern', options.eventPattern, options.eventBus);
  }

  /** Events that started a run (a DAG run, or a workflow run). */
  public metricTriggered(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.outcomeMetric('Triggered', props);
  }

  /** Events whose run already existed (redeliveries and retries): proof that nothing ran twice. */
  public metricAlreadyTriggered(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.outcomeMetric('AlreadyTriggered', props);
  }

  /** Events rejected with a reason (malformed, unknown DAG or workflow, refused by Airflow or MWAA Serverless). */
  public metricRejected(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.outcomeMetric('Rejected', props);
  }

  /** Invocations that failed and will be retried or dead-lettered. */
  public metricFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.outcomeMetric('Failed', props);
  }

  private addRule(
    id: string, options: DagRunTargetOptions, what: string,
    eventPattern: events.EventPattern | undefined, eventBus?: events.IEventBus, schedule?: events.Schedule,
  ): events.Rule {
    const workflow = options.workflow;
    const rule = new events.Rule(this, id, {
      description: options.description ?? truncate(workflow
        ? `Starts MWAA Serverless workflow ${workflow.node.path}: ${what}`
        : `Starts Airflow DAG ${options.dagId}: ${what}`, 512),
      eventPattern,
      eventBus,
      schedule,
    });
    if (workflow && !this.grantedWorkflows.has(workflow)) {
      // airflow-serverless:StartWorkflowRun on this workflow only.
      workflow.grantStartRun(this.triggerFunction);
      this.grantedWorkflows.add(workflow);
    }
    rule.addTarget(new targets.LambdaFunction(this.triggerFunction, {
      event: workflow ? DagRunInput.forWorkflow(workflow.workflowArn) : DagRunInput.forDag(options.dagId!),
      deadLetterQueue: this.deadLetterQueue,
      maxEventAge: this.targetProps.maxEventAge,
      retryAttempts: this.targetProps.retryAttempts,
    }));
    this._rules.push(rule);
    return rule;
  }

  private addOutcomeMetricFilters(): void {
    const outcomes: Record<string, string> = {
      Triggered: 'triggered',
      AlreadyTriggered: 'already_triggered',
      Rejected: 'rejected',
      Failed: 'failed',
    };
    for (const [metricName, outcome] of Object.entries(outcomes)) {
      new logs.MetricFilter(this, `${metricName}Filter`, {
        logGroup: this.logGroup,
        // Only the one final record of each invocation counts (retries log `final: false`).
        filterPattern: logs.FilterPattern.all(
          logs.FilterPattern.stringValue('$.message.outcome', '=', outcome),
          logs.FilterPattern.booleanValue('$.message.final', true),
        ),
        metricNamespace: DagTrigger.METRIC_NAMESPACE,
        metricName,
        metricValue: '1',
        dimensions: { Environment: '$.message.environment' },
        unit: cloudwatch.Unit.COUNT,
      });
    }
  }

  private outcomeMetric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: DagTrigger.METRIC_NAMESPACE,
      metricName,
      dimensionsMap: { Environment: this.metricDimension },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(5),
      ...props,
    });
  }

  private alarm(id: string, metric: cloudwatch.IMetric, description: string): cloudwatch.Alarm {
    return new cloudwatch.Alarm(this, id, {
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: truncate(`${description} (${this.node.path})`, 1024),
    });
  }
}

/** Shortens literal text to a service limit; text with tokens is left for the service to judge. */
function truncate(text: string, max: number): string {
  return Token.isUnresolved(text) || text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}
