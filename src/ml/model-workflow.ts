import * as path from 'path';
import { Annotations, Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as events from 'aws-cdk-lib/aws-events';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DriftDetectionOptions } from './drift-options';
import { EndpointDeployment, EndpointKind } from './endpoint-deployment';
import { dagRunStatements, DagResources } from './private/dag-grants';
import { createDataBucket } from './private/data-bucket';
import {
  createDriftAlarm, driftedFeatureShare, driftMetricNamespace, driftImageUri, driftSection, resolveDrift, ResolvedDrift, stageDriftScript,
} from './private/drift';
import { createEndpointCleanup } from './private/endpoint-cleanup';
import { createPreprocessingJob } from './private/glue-job';
import { acknowledgeWorkflowFindings, grantDagRuns } from './private/nag';
import { pipelineConfig, PipelineConfigValues } from './private/pipeline-config';
import { createRollbackAlarms } from './private/rollback-alarms';
import { grantOtherBucketKey, grantPrefix } from './private/s3-access';
import { sagemakerArns } from './private/sagemaker-arn';
import { createSageMakerRole } from './private/sagemaker-role';
import { createServerlessWorkflows } from './private/serverless-workflows';
import {
  validateDataPrefix, validateInstanceType, validateMetric, validatePipelineName,
  validatePipelineNameSegments, validateSageMakerName, validateSplit,
} from './private/validate';
import {
  DataPrefixes, EvaluationOptions, GlueWorkerType, MetricComparison, ModelApproval, PreprocessingCodeLocation,
  PreprocessingOptions, TrainingOptions,
} from './workflow-options';
import { AirflowEnvironment } from '../airflow/airflow-environment';
import { IAirflowEnvironment } from '../airflow/airflow-environment-base';
import { AirflowVersion } from '../airflow/airflow-version';
import { validateNumber } from '../private/validate-number';
import { DeploymentStage } from '../promotion/deployment-stage';
import { createLocalStageTargets, shareWithStageAccounts } from '../promotion/private/pipeline-share';
import { ResolvedStage, resolveStages } from '../promotion/private/pipeline-stages';
import { PromotionTarget } from '../promotion/promotion-target';
import { ServerlessOrchestrationOptions } from '../serverless/orchestration';
import { ServerlessWorkflow } from '../serverless/serverless-workflow';

/** The DAG folder the library ships: the DAG file, its builder package and the config folder. */
const DAGS_DIRECTORY = path.join(__dirname, '..', '..', 'assets', 'dags');
/** Where the DAG file reads pipeline configs from, below the DAG folder. */
export const PIPELINE_CONFIG_FOLDER = 'cdk_mwaa_mlops_pipelines';
/**
 * What the DAGs import beyond what MWAA installs with Airflow: the deferrable operators' triggers use aiobotocore, an
 * optional extra of the Amazon provider that MWAA's list of installed packages does not name. Under the constraint
 * line pip installs the version Airflow's constraints pin (nothing, if it is there already).
 */
const DAG_REQUIREMENTS = ['aiobotocore'];
/** The Airflow versions the DAGs are written for (Airflow 3's task SDK). */
const OLDEST_SUPPORTED = AirflowVersion.V3_0_6;

/** Properties of a {@link ModelWorkflow}. */
export interface ModelWorkflowProps extends ModelWorkflowOptions {
  /**
   * The MWAA environment whose DAGs drive the pipeline: created here, or imported (`AirflowEnvironment.fromEnvironmentAttributes`).
   * @default - none: `serverless` must be set
   */
  readonly environment?: IAirflowEnvironment;
  /**
   * Runs the pipeline on Amazon MWAA Serverless instead of an environment: a workflow for training and one for
   * deployment, each with its own role, log group and definition. Exactly one of `environment` and `serverless`.
   * @default - none: the pipeline runs on `environment`
   */
  readonly serverless?: ServerlessOrchestrationOptions;
  /**
   * The pipeline's name: lowercase letters, digits and single hyphens, at most 24 characters. It names the DAGs
   * (`<name>_training`, `<name>_deployment`) and prefixes every SageMaker resource the DAGs create; unique per environment.
   */
  readonly pipelineName: string;
  /** The repository the model images come from (e.g. `ModelBuildPipeline.imageRepository`). */
  readonly imageRepository: ecr.IRepository;
  /** Where the build pipeline stages the preprocessing code (e.g. `ModelBuildPipeline.preprocessingCode`). */
  readonly preprocessingCode: PreprocessingCodeLocation;
}

/** The optional properties of a {@link ModelWorkflow} (what a composing construct passes through). */
export interface ModelWorkflowOptions {
  /**
   * Where approved models are deployed.
   * @default EndpointDeployment.realTime() - one ml.m5.large, canary 10% for 5 minutes, rollback on 5XX errors or latency
   */
  readonly deployment?: EndpointDeployment;
  /**
   * Deployment stages in order (e.g. dev, staging, production), each with its endpoint, possibly in its own account,
   * its checks and the gate to the next stage; an approved model deploys to the first and is promoted through the
   * model registry's lifecycle stages. Not together with `deployment` or `endpointName`.
   * @default - no stages: approved models deploy to one endpoint in the pipeline's account (`deployment`)
   */
  readonly stages?: DeploymentStage[];
  /**
   * Who approves registered models for deployment.
   * @default ModelApproval.MANUAL
   */
  readonly approval?: ModelApproval;
  /**
   * Drift detection on the real-time endpoint: data capture, a baseline per trained model, a scheduled drift check
   * (the `<pipeline>_drift` DAG, or a drift workflow on MWAA Serverless) and an alarm on the share of drifted
   * features. Start the check on its schedule and retraining on the alarm with `DagTrigger.onSchedule` and
   * `DagTrigger.onAlarm` (`MwaaMlopsPipeline` does). Real-time endpoints only: serverless endpoints cannot capture data.
   * @default - no drift detection
   */
  readonly drift?: DriftDetectionOptions;
  /**
   * The endpoint's name (unique in the account and region).
   * @default - the pipeline name
   */
  readonly endpointName?: string;
  /**
   * The model package group's name (unique in the account and region).
   * @default - `<pipelineName>-models`
   */
  readonly modelPackageGroupName?: string;
  /**
   * The bucket of raw data, splits, model artifacts and checkpoints. Its key (if any) must let this stack's roles use it.
   * @default - a new bucket: versioned, KMS-encrypted with `encryptionKey`, TLS-only, access-logged, EventBridge notifications on
   */
  readonly dataBucket?: s3.IBucket;
  /**
   * The key prefixes in the data bucket.
   * @default - raw/, processed/, artifacts/ and checkpoints/
   */
  readonly dataPrefixes?: DataPrefixes;
  /**
   * Where the new data bucket writes its server access logs (unused with `dataBucket`).
   * @default - a new access-log bucket
   */
  readonly serverAccessLogsBucket?: s3.IBucket;
  /**
   * The key of the data bucket, Glue's data and logs, and SageMaker's volumes and outputs.
   * @default - a new key with rotation
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * The Glue preprocessing job.
   * @default - 2 G.1X workers, 1 hour timeout, 3 concurrent runs, split 70/15/15 with seed 42
   */
  readonly preprocessing?: PreprocessingOptions;
  /**
   * How models are trained.
   * @default - one ml.m5.large on demand, 30 GiB, 1 hour
   */
  readonly training?: TrainingOptions;
  /**
   * The quality gate a model must pass to be registered.
   * @default - auc >= 0.9, evaluated on ml.m5.large
   */
  readonly evaluation?: EvaluationOptions;
  /**
   * A topic the DAGs notify when a task fails.
   * @default - no notifications from the DAGs
   */
  readonly notificationTopic?: sns.ITopic;
  /**
   * The Airflow connection the DAGs call AWS with.
   * @default 'aws_default' (MWAA's: the execution role)
   */
  readonly awsConnectionId?: string;
  /**
   * How many training runs may run at once, 1-16.
   * @default 1
   */
  readonly maxActiveRuns?: number;
  /**
   * How often a failed task is retried (with exponential backoff), 0-10.
   * @default 2
   */
  readonly retries?: number;
  /**
   * How often the DAGs' deferred tasks check on their Glue and SageMaker jobs, 1 second to 1 hour.
   * @default Duration.minutes(1)
   */
  readonly pollInterval?: Duration;
  /**
   * How long the Glue and clean-up logs are kept.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What a stack delete does to the data bucket, the key and the log groups. The model package group is always retained.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * What a stack delete does to the endpoint the deployment DAG created (and its endpoint configs and models):
   * DESTROY deletes them, so nothing keeps billing; RETAIN keeps them.
   * @default RemovalPolicy.DESTROY
   */
  readonly endpointRemovalPolicy?: RemovalPolicy;
}

/**
 * What one pipeline's DAGs drive, wired to an MWAA environment: the data bucket, the Glue preprocessing job, the
 * SageMaker execution role, the model package group, the endpoint's rollback alarms and its clean-up on stack
 * delete, the DAGs and this pipeline's config in the environment's DAG folder, and the execution role's grants.
 *
 * Several workflows can share one environment: the DAG files are deployed once, each pipeline adds its config.
 */
export class ModelWorkflow extends Construct {
  private static readonly pipelinesByEnvironment = new WeakMap<IAirflowEnvironment, Set<string>>();

  /** The pipeline's name. */
  public readonly pipelineName: string;
  /** The id of the training DAG. */
  public readonly trainingDagId: string;
  /** The id of the deployment DAG (undefined with `EndpointDeployment.none()`). */
  public readonly deploymentDagId?: string;
  /** The environment the DAGs run on (undefined on MWAA Serverless). */
  public readonly environment?: IAirflowEnvironment;
  /** The training workflow (MWAA Serverless only). */
  public readonly trainingWorkflow?: ServerlessWorkflow;
  /** The deployment workflow (MWAA Serverless only, when the pipeline deploys). */
  public readonly deploymentWorkflow?: ServerlessWorkflow;
  /** Where approved models are deployed. */
  public readonly deployment: EndpointDeployment;
  /** Who approves registered models for deployment. */
  public readonly approval: ModelApproval;
  /** The model package group the training DAG registers models in. */
  public readonly modelPackageGroupName: string;
  /** The model package group's ARN. */
  public readonly modelPackageGroupArn: string;
  /** The endpoint's name (undefined with `EndpointDeployment.none()` and with stages: see `stageTargets`). */
  public readonly endpointName?: string;
  /** The id of the drift DAG (with `drift`, on an environment). */
  public readonly driftDagId?: string;
  /** The drift workflow (with `drift`, on MWAA Serverless). */
  public readonly driftWorkflow?: ServerlessWorkflow;
  /** The alarm on the share of drifted features (with `drift`). */
  public readonly driftAlarm?: cloudwatch.Alarm;
  /** How often the drift check runs (with `drift`). */
  public readonly driftSchedule?: events.Schedule;
  /** Whether the drift alarm should start the training DAG (with `drift`). */
  public readonly retrainOnDrift: boolean;
  /** Where the endpoint's captures land: a key prefix of `dataBucket` (with `drift`). */
  public readonly capturePrefix?: string;
  /** The deployment stages' names, in order (empty without stages). */
  public readonly stageNames: string[];
  /** The stage targets this workflow created: one per stage in the pipeline's own account and region. */
  public readonly stageTargets: PromotionTarget[];
  /** The data bucket. */
  public readonly dataBucket: s3.IBucket;
  /** Where raw data lands (a key prefix of `dataBucket`). */
  public readonly rawDataPrefix: string;
  /** This pipeline's model artifacts and evaluation reports (a key prefix of `dataBucket`). */
  public readonly artifactsPrefix: string;
  /** The key of the data, Glue and SageMaker. */
  public readonly encryptionKey: kms.IKey;
  /** The role SageMaker runs training, evaluation and the model as. */
  public readonly sagemakerRole: iam.IRole;
  /** The Glue preprocessing job's name. */
  public readonly glueJobName: string;
  /** The Glue preprocessing job. */
  public readonly glueJob: glue.CfnJob;
  /** The role the Glue job runs as. */
  public readonly glueRole: iam.IRole;
  /** The alarms that roll a blue/green endpoint update back (real-time endpoints only). */
  public readonly rollbackAlarms: cloudwatch.IAlarm[];
  /** The config file's path below the DAG folder (undefined on MWAA Serverless: the config is in the workflows' definitions). */
  public readonly dagConfigFile?: string;
  /** The topic the DAGs notify on failure, if any. */
  public readonly notificationTopic?: sns.ITopic;
  private readonly dagResources: DagResources;
  private readonly endpointCleanup?: Construct;
  private readonly stages?: ResolvedStage[];

  constructor(scope: Construct, id: string, props: ModelWorkflowProps) {
    super(scope, id);
    validatePipelineName(props.pipelineName);
    validatePipelineNameSegments(props.pipelineName);
    this.pipelineName = props.pipelineName;
    if (!props.environment === !props.serverless) {
      throw new Error(`environment, serverless: set exactly one of them for pipeline ${props.pipelineName}: environment (a provisioned MWAA environment) or serverless (MWAA Serverless workflows)`);
    }
    this.environment = props.environment;
    if (props.environment) {
      this.checkAirflowVersion(props.environment);
      this.claimPipelineName(props.environment, props.pipelineName);
    }

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.THREE_MONTHS;
    if (props.stages && (props.deployment || props.endpointName)) {
      throw new Error(`${props.deployment ? 'deployment' : 'endpointName'}: pipeline ${props.pipelineName} has stages; give each stage its deployment (stages[i].deployment) and drop ${props.deployment ? 'deployment' : 'endpointName'} (stage endpoints are named <pipeline>--<stage>)`);
    }
    this.stages = props.stages ? resolveStages(this, this.pipelineName, props.stages) : undefined;
    this.stageNames = this.stages?.map((stage) => stage.name) ?? [];
    this.deployment = this.stages?.[0].deployment ?? props.deployment ?? EndpointDeployment.realTime();
    this.approval = props.approval ?? ModelApproval.MANUAL;
    const deploys = this.deployment.kind !== EndpointKind.NONE;
    this.trainingDagId = `${this.pipelineName}_training`;
    this.deploymentDagId = deploys ? `${this.pipelineName}_deployment` : undefined;
    this.endpointName = deploys && !this.stages ? props.endpointName ?? this.pipelineName : undefined;
    if (!deploys && props.endpointName) {
      throw new Error(`endpointName: '${props.endpointName}' is set, but deployment is EndpointDeployment.none(); drop one of them`);
    }
    if (this.endpointName) validateSageMakerName('endpointName', this.endpointName);
    this.modelPackageGroupName = props.modelPackageGroupName ?? `${this.pipelineName}-models`;
    validateSageMakerName('modelPackageGroupName', this.modelPackageGroupName);

    const prefixes = {
      raw: props.dataPrefixes?.raw ?? 'raw/',
      processed: props.dataPrefixes?.processed ?? 'processed/',
      artifacts: props.dataPrefixes?.artifacts ?? 'artifacts/',
      checkpoints: props.dataPrefixes?.checkpoints ?? 'checkpoints/',
      capture: props.dataPrefixes?.capture ?? 'capture/',
    };
    for (const [name, prefix] of Object.entries(prefixes)) validateDataPrefix(`dataPrefixes.${name}`, prefix);
    validateDataPrefix('preprocessingCode.prefix', props.preprocessingCode.prefix);
    const training = resolveTraining(props.training);
    const evaluation = resolveEvaluation(props.evaluation);
    const preprocessing = resolvePreprocessing(props.preprocessing);
    const maxActiveRuns = props.maxActiveRuns ?? 1;
    validateNumber('maxActiveRuns', maxActiveRuns, { min: 1, max: 16, wholeNumber: true });
    const pollSeconds = (props.pollInterval ?? Duration.minutes(1)).toSeconds();
    validateNumber('pollInterval', pollSeconds, { min: 1, max: 3600, unit: 'seconds' });
    const retries = props.retries ?? 2;
    validateNumber('retries', retries, { min: 0, max: 10, wholeNumber: true });
    const drift = props.drift ? this.checkDrift(props.drift) : undefined;

    this.encryptionKey = props.encryptionKey ?? new kms.Key(this, 'Key', {
      description: `cdk-mwaa-mlops pipeline ${this.pipelineName}: data, Glue and SageMaker`,
      enableKeyRotation: true,
      removalPolicy,
    });
    this.dataBucket = props.dataBucket ?? createDataBucket(this, this.encryptionKey, removalPolicy, props.serverAccessLogsBucket);
    this.rawDataPrefix = prefixes.raw;
    // Every run writes below `<prefix><pipeline>/<run key>/` (training.py): this pipeline's part of a shared bucket.
    const own = (prefix: string) => `${prefix}${this.pipelineName}/`;
    this.artifactsPrefix = own(prefixes.artifacts);
    this.capturePrefix = drift ? own(prefixes.capture) : undefined;
    this.retrainOnDrift = drift?.retrainOnDrift ?? false;
    this.driftSchedule = drift?.schedule;

    const glueJob = createPreprocessingJob(this, {
      pipelineName: this.pipelineName,
      code: props.preprocessingCode,
      dataBucket: this.dataBucket,
      rawPrefix: prefixes.raw,
      processedPrefix: own(prefixes.processed),
      encryptionKey: this.encryptionKey,
      ...preprocessing.job,
      logRetention,
      removalPolicy,
    });
    this.glueJob = glueJob.job;
    this.glueJobName = glueJob.job.ref;
    this.glueRole = glueJob.role;

    this.sagemakerRole = createSageMakerRole(this, {
      pipelineName: this.pipelineName,
      dataBucket: this.dataBucket,
      processedPrefix: own(prefixes.processed),
      artifactsPrefix: this.artifactsPrefix,
      checkpointsPrefix: training.spotMaxWaitSeconds !== undefined ? own(prefixes.checkpoints) : undefined,
      imageRepository: props.imageRepository,
      encryptionKey: this.encryptionKey,
      endpointName: this.endpointName,
      drift: this.capturePrefix ? { capturePrefix: this.capturePrefix, metricNamespace: driftMetricNamespace(props.pipelineName) } : undefined,
    });

    const group = new sagemaker.CfnModelPackageGroup(this, 'ModelPackageGroup', {
      modelPackageGroupName: this.modelPackageGroupName,
      modelPackageGroupDescription: `cdk-mwaa-mlops pipeline ${this.pipelineName}: models trained by ${this.trainingDagId}`,
    });
    // Packages are the record of what was trained and approved: a stack delete keeps them.
    group.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.modelPackageGroupArn = group.attrModelPackageGroupArn;

    this.rollbackAlarms = this.deployment.kind === EndpointKind.REAL_TIME && this.endpointName
      ? createRollbackAlarms(this, this.endpointName!, this.deployment.rollbackAlarms ?? {})
      : [];
    if (this.endpointName) {
      const cleanup = createEndpointCleanup(this, {
        pipelineName: this.pipelineName,
        endpointName: this.endpointName,
        removalPolicy: props.endpointRemovalPolicy ?? RemovalPolicy.DESTROY,
        logRetention,
      });
      // A created environment of this stack is deleted first, so no DAG run re-creates the endpoint afterwards.
      const environment = props.environment;
      if (environment instanceof AirflowEnvironment && Stack.of(environment) === Stack.of(this)) {
        environment.cfnEnvironment.node.addDependency(cleanup);
      }
      this.endpointCleanup = cleanup;
    }

    this.notificationTopic = props.notificationTopic;
    this.dagResources = {
      pipelineName: this.pipelineName,
      glueJobName: this.glueJobName,
      modelPackageGroupName: this.modelPackageGroupName,
      endpointName: this.endpointName,
      sagemakerRole: this.sagemakerRole,
      imageRepository: props.imageRepository,
      dataBucket: this.dataBucket,
      processedPrefix: own(prefixes.processed),
      artifactsPrefix: this.artifactsPrefix,
      encryptionKey: this.encryptionKey,
      topic: props.notificationTopic,
      rollbackAlarms: this.rollbackAlarms,
      stages: this.stages,
      drift: this.capturePrefix ? { capturePrefix: this.capturePrefix } : undefined,
    };
    if (drift) {
      this.driftAlarm = createDriftAlarm(this, this.pipelineName, this.endpointName!, drift);
      if (!props.serverless) this.driftDagId = `${this.pipelineName}_drift`;
    }

    const config: PipelineConfigValues = {
      pipelineName: this.pipelineName,
      awsConnectionId: props.awsConnectionId ?? 'aws_default',
      topicArn: props.notificationTopic?.topicArn,
      maxActiveRuns,
      retries,
      pollSeconds,
      dataBucketName: this.dataBucket.bucketName,
      prefixes,
      keyArn: this.encryptionKey.keyArn,
      glueJobName: this.glueJobName,
      scriptLocationPrefix: `s3://${props.preprocessingCode.bucket.bucketName}/${props.preprocessingCode.prefix}`,
      split: preprocessing.split,
      imageRepositoryName: props.imageRepository.repositoryName,
      sagemakerRoleArn: this.sagemakerRole.roleArn,
      training,
      evaluation,
      modelPackageGroupName: this.modelPackageGroupName,
      autoApprove: this.approval === ModelApproval.AUTOMATIC,
      deployment: this.deployment,
      endpointName: this.endpointName,
      rollbackAlarms: this.rollbackAlarms,
      stages: this.stages,
      drift: drift ? driftSection(props.pipelineName, drift, {
        capturePrefix: this.capturePrefix!,
        imageUri: driftImageUri(this, drift),
        scriptUri: stageDriftScript(this, this.dataBucket, `${this.artifactsPrefix}code/drift/`),
      }) : undefined,
    };
    if (props.serverless) {
      const workflows = createServerlessWorkflows(this, {
        options: props.serverless,
        // The service ignores DAG callbacks: failures reach the topic through its events (PipelineMonitoring).
        config: pipelineConfig({ ...config, topicArn: undefined }),
        resources: { ...this.dagResources, topic: undefined },
        dataBucket: this.dataBucket,
        encryptionKey: this.encryptionKey,
        logRetention,
        removalPolicy,
        preprocessingTimeoutMinutes: preprocessing.job.timeout.toMinutes(),
      });
      this.trainingWorkflow = workflows.training;
      this.deploymentWorkflow = workflows.deployment;
      this.driftWorkflow = workflows.drift;
      // Deleted before the endpoint's clean-up, so no run re-creates the endpoint afterwards.
      if (this.endpointCleanup) {
        for (const workflow of [workflows.training, workflows.deployment]) workflow?.node.addDependency(this.endpointCleanup);
      }
    } else {
      const environment = props.environment!;
      this.dagConfigFile = `${PIPELINE_CONFIG_FOLDER}/${this.pipelineName}.json`;
      this.deployDags(environment);
      environment.addDagJsonFile(this.dagConfigFile, pipelineConfig(config));
      if (!grantDagRuns(this, environment, this.dagResources)) {
        Annotations.of(this).addWarningV2('cdk-mwaa-mlops:workflow-ungranted',
          `The execution role of environment ${environment.environmentName} is not known to this app, so the DAGs of ` +
          `pipeline ${this.pipelineName} have no permissions yet: call grantRunDags(role) with the environment's execution role ` +
          '(or pass executionRole to AirflowEnvironment.fromEnvironmentAttributes)');
      }
    }
    this.stageTargets = [];
    if (this.stages) {
      const runRoles = this.deploymentRunRoles;
      if (runRoles.length === 0) {
        throw new Error(`stages: the execution role of environment ${props.environment!.environmentName} is unknown to this app, and each stage's deploy role must trust it; pass executionRole to AirflowEnvironment.fromEnvironmentAttributes`);
      }
      this.stageTargets = createLocalStageTargets(this, {
        pipelineName: this.pipelineName,
        stages: this.stages,
        runRoles,
        modelPackageGroupName: this.modelPackageGroupName,
        artifactsPrefix: this.artifactsPrefix,
        endpointRemovalPolicy: props.endpointRemovalPolicy,
        removalPolicy,
        logRetention,
      });
      // Deleted before the stages' clean-ups, so no run re-creates an endpoint afterwards.
      const environment = props.environment;
      // The service resources only: the runs' roles are what the stage roles trust, so they come first.
      const runners = [this.trainingWorkflow?.cfnWorkflow.node, this.deploymentWorkflow?.cfnWorkflow.node,
        environment instanceof AirflowEnvironment && Stack.of(environment) === Stack.of(this) ? environment.cfnEnvironment.node : undefined];
      for (const runner of runners) for (const target of this.stageTargets) runner?.addDependency(target);
      shareWithStageAccounts(this, {
        stages: this.stages,
        modelPackageGroup: group,
        modelPackageGroupName: this.modelPackageGroupName,
        dataBucket: this.dataBucket,
        artifactsPrefix: this.artifactsPrefix,
        encryptionKey: this.encryptionKey,
        imageRepository: props.imageRepository,
      });
    }
    acknowledgeWorkflowFindings(this);
  }

  /**
   * The roles of this pipeline's deployment runs (the environment's execution role, or the serverless deployment
   * workflow's role): each stage's deploy role trusts exactly these (`PromotionTargetProps.pipelineRoles`).
   */
  public get deploymentRunRoles(): iam.IRole[] {
    if (this.deploymentWorkflow) return [this.deploymentWorkflow.role];
    const role = (this.environment as { executionRole?: iam.IRole } | undefined)?.executionRole;
    return role ? [role] : [];
  }

  /**
   * Lets `grantee` move this pipeline's model packages into `stageName` in the model registry (`UpdateModelPackage`
   * with `ModelLifeCycle.Stage` = `stageName`, any status: Approved starts the deployment to that stage), and read them.
   */
  public grantPromote(grantee: iam.IGrantable, stageName: string): iam.Grant {
    if (!this.stageNames.includes(stageName)) {
      throw new Error(`grantPromote: '${stageName}' is not a stage of pipeline ${this.pipelineName} (its stages: ${this.stageNames.join(', ') || 'none'})`);
    }
    const packages = sagemakerArns(this)('model-package', `${this.modelPackageGroupName}/*`);
    const grant = iam.Grant.addToPrincipal({ grantee, actions: ['sagemaker:DescribeModelPackage'], resourceArns: [packages] });
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['sagemaker:UpdateModelPackage'],
      resources: [packages],
      conditions: { StringEquals: { 'sagemaker:ModelLifeCycle:stage': stageName } },
    }));
    return grant;
  }

  /**
   * Grants `grantee` exactly what this pipeline's DAGs call (Glue, SageMaker, the registry, ECR, S3, KMS, SNS), on this
   * pipeline's resources only. The environment's own execution role gets this automatically when it is known.
   */
  public grantRunDags(grantee: iam.IGrantable): iam.Grant {
    // The first statement (Glue, no conditions) becomes the returned Grant; the others carry conditions.
    const [glueStatement, ...others] = dagRunStatements(this, this.dagResources);
    const grant = iam.Grant.addToPrincipal({ grantee, actions: glueStatement.actions, resourceArns: glueStatement.resources });
    grant.assertSuccess();
    for (const statement of others) grantee.grantPrincipal.addToPrincipalPolicy(statement);
    return grant;
  }

  /** Lets `grantee` call the endpoint (`sagemaker:InvokeEndpoint` and its async and streaming forms) on this endpoint only. */
  public grantInvokeEndpoint(grantee: iam.IGrantable): iam.Grant {
    if (this.stages) {
      throw new Error(`grantInvokeEndpoint: pipeline ${this.pipelineName} deploys to stages; call grantInvokeEndpoint on the stage's PromotionTarget (stageTargets, or the one in the stage's account)`);
    }
    if (!this.endpointName) {
      throw new Error(`grantInvokeEndpoint: pipeline ${this.pipelineName} deploys no endpoint (EndpointDeployment.none())`);
    }
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['sagemaker:InvokeEndpoint', 'sagemaker:InvokeEndpointAsync', 'sagemaker:InvokeEndpointWithResponseStream'],
      resourceArns: [this.endpointArn!],
    });
  }

  /**
   * The share of the endpoint's features that drifted from the deployed model's training data (0-1), as each drift
   * check publishes it (with `drift`).
   */
  public metricDriftedFeatureShare(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    if (!this.driftAlarm) {
      throw new Error(`metricDriftedFeatureShare: pipeline ${this.pipelineName} has no drift detection; set drift`);
    }
    return driftedFeatureShare(this.pipelineName, this.endpointName!).with(props ?? {});
  }

  /** Lets `grantee` read this pipeline's model artifacts and evaluation reports (and decrypt them). */
  public grantReadModelArtifacts(grantee: iam.IGrantable): iam.Grant {
    const grant = grantPrefix(grantee, this.dataBucket, this.artifactsPrefix, ['s3:GetObject']);
    this.encryptionKey.grantDecrypt(grantee);
    grantOtherBucketKey(grantee, this.dataBucket, this.encryptionKey, 'kms:Decrypt');
    return grant;
  }

  /** The endpoint's ARN (undefined with `EndpointDeployment.none()`). */
  public get endpointArn(): string | undefined {
    if (!this.endpointName) return undefined;
    return sagemakerArns(this)('endpoint', this.endpointName.toLowerCase());
  }

  private checkDrift(options: DriftDetectionOptions): ResolvedDrift {
    if (this.stages) {
      throw new Error(`drift: pipeline ${this.pipelineName} has stages; drift detection watches the single endpoint of a pipeline without stages (per-stage drift checks are not supported yet)`);
    }
    if (this.deployment.kind === EndpointKind.SERVERLESS) {
      throw new Error(`drift: pipeline ${this.pipelineName} deploys a serverless endpoint, and serverless endpoints cannot capture data (https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html#serverless-endpoints-how-it-works-exclusions); ` +
        'use EndpointDeployment.realTime() for drift detection, or log requests from the caller and check them yourself');
    }
    if (this.deployment.kind !== EndpointKind.REAL_TIME) {
      throw new Error(`drift: pipeline ${this.pipelineName} deploys no endpoint (EndpointDeployment.none()), so there is no traffic to check; drop drift or deploy with EndpointDeployment.realTime()`);
    }
    return resolveDrift(options);
  }

  private deployDags(environment: IAirflowEnvironment): void {
    const pipelines = ModelWorkflow.pipelinesByEnvironment.get(environment)!;
    if (pipelines.size > 1) return; // an earlier workflow deployed the DAG files and requirements
    environment.addDagsFromDirectory(DAGS_DIRECTORY);
    if (environment instanceof AirflowEnvironment) {
      environment.addRequirements(...DAG_REQUIREMENTS);
    } else {
      Annotations.of(this).addWarningV2('cdk-mwaa-mlops:workflow-requirements',
        `Environment ${environment.environmentName} is imported: add these lines to its requirements.txt, after its ` +
        `--constraint line, or the deferrable tasks of the DAGs fail: ${DAG_REQUIREMENTS.join(', ')}`);
    }
  }

  private claimPipelineName(environment: IAirflowEnvironment, name: string): void {
    let pipelines = ModelWorkflow.pipelinesByEnvironment.get(environment);
    if (!pipelines) {
      pipelines = new Set();
      ModelWorkflow.pipelinesByEnvironment.set(environment, pipelines);
    }
    if (pipelines.has(name)) {
      throw new Error(`pipelineName: '${name}' is already used on environment ${environment.node.path}; each pipeline on an environment needs its own name (its DAG ids derive from it)`);
    }
    pipelines.add(name);
  }

  private checkAirflowVersion(environment: IAirflowEnvironment): void {
    const version = (environment as { airflowVersion?: AirflowVersion }).airflowVersion;
    if (!(version instanceof AirflowVersion)) {
      Annotations.of(this).addWarningV2('cdk-mwaa-mlops:workflow-airflow-version',
        `The Airflow version of environment ${environment.environmentName} is unknown; the DAGs need Airflow ${OLDEST_SUPPORTED} or newer ` +
        '(pass airflowVersion to AirflowEnvironment.fromEnvironmentAttributes to check it at synth)');
      return;
    }
    if (!version.isAtLeast(OLDEST_SUPPORTED)) {
      throw new Error(
        `environment: ${environment.node.path} runs Airflow ${version}; the DAGs of ModelWorkflow need Airflow 3 ` +
        `(${OLDEST_SUPPORTED} or newer, e.g. AirflowVersion.V3_3_1)`,
      );
    }
  }
}

function resolveTraining(options: TrainingOptions = {}) {
  const instanceType = options.instanceType ?? 'ml.m5.large';
  validateInstanceType('training.instanceType', instanceType);
  const instanceCount = options.instanceCount ?? 1;
  validateNumber('training.instanceCount', instanceCount, { min: 1, max: 100, wholeNumber: true });
  const volumeSizeGb = (options.volumeSize ?? Size.gibibytes(30)).toGibibytes();
  validateNumber('training.volumeSize', volumeSizeGb, { min: 1, max: 16384, unit: 'GiB' });
  const maxRuntimeSeconds = (options.maxRuntime ?? Duration.hours(1)).toSeconds();
  validateNumber('training.maxRuntime', maxRuntimeSeconds, { min: 60, max: 28 * 24 * 3600, unit: 'seconds' });
  let spotMaxWaitSeconds: number | undefined;
  if (options.spot) {
    spotMaxWaitSeconds = options.spot.maxWait.toSeconds();
    if (spotMaxWaitSeconds < maxRuntimeSeconds) {
      throw new Error(
        `training.spot.maxWait: ${spotMaxWaitSeconds} s is below training.maxRuntime (${maxRuntimeSeconds} s); ` +
        'SageMaker needs the spot wait to be at least the runtime',
      );
    }
    validateNumber('training.spot.maxWait', spotMaxWaitSeconds, { min: 60, max: 28 * 24 * 3600, unit: 'seconds' });
  }
  return { instanceType, instanceCount, volumeSizeGb, maxRuntimeSeconds, hyperparameters: options.hyperparameters ?? {}, spotMaxWaitSeconds };
}

function resolveEvaluation(options: EvaluationOptions = {}) {
  const metric = options.metric ?? 'auc';
  const threshold = options.threshold ?? 0.9;
  validateMetric(metric, threshold);
  const instanceType = options.instanceType ?? 'ml.m5.large';
  validateInstanceType('evaluation.instanceType', instanceType);
  return { instanceType, metric, threshold, comparison: options.comparison ?? MetricComparison.GREATER_THAN_OR_EQUAL_TO };
}

function resolvePreprocessing(options: PreprocessingOptions = {}) {
  const workerCount = options.workerCount ?? 2;
  validateNumber('preprocessing.workerCount', workerCount, { min: 2, max: 299, wholeNumber: true });
  const timeout = options.timeout ?? Duration.hours(1);
  validateNumber('preprocessing.timeout', timeout.toMinutes(), { min: 1, max: 2880, unit: 'minutes' });
  const maxConcurrentRuns = options.maxConcurrentRuns ?? 3;
  validateNumber('preprocessing.maxConcurrentRuns', maxConcurrentRuns, { min: 1, max: 1000, wholeNumber: true });
  const split = { seed: options.seed ?? 42, train: options.trainFraction ?? 0.7, validation: options.validationFraction ?? 0.15 };
  validateNumber('preprocessing.seed', split.seed, { wholeNumber: true });
  validateSplit(split.train, split.validation);
  return { job: { workerType: options.workerType ?? GlueWorkerType.G_1X, workerCount, timeout, maxConcurrentRuns }, split };
}
