import { Annotations, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AirflowEnvironment, AirflowEnvironmentProps } from './airflow/airflow-environment';
import { IAirflowEnvironment } from './airflow/airflow-environment-base';
import { AirflowVersion } from './airflow/airflow-version';
import { ModelBuildPipeline, ModelBuildPipelineOptions } from './delivery/model-build-pipeline';
import { PipelineSource } from './delivery/pipeline-source';
import { ModelWorkflow, ModelWorkflowOptions } from './ml/model-workflow';
import { PipelineMonitoring, PipelineMonitoringProps } from './monitoring/pipeline-monitoring';
import { checkComposition, pipelineNameFor } from './mwaa-mlops-pipeline-checks';
import { Orchestration, OrchestrationKind } from './serverless/orchestration';
import { DagTrigger, DagTriggerOptions } from './trigger/dag-trigger';

/** Properties of a {@link MwaaMlopsPipeline}; each part's own options pass through unchanged. */
export interface MwaaMlopsPipelineProps {
  /**
   * The pipeline's name: lowercase letters, digits and single hyphens, at most 24 characters. It names the DAGs
   * (`<name>_training`, `<name>_deployment`), the endpoint, the model package group and the default source repository.
   * @default - the construct id in lowercase, other characters as `-` (`Churn` becomes `churn`)
   */
  readonly pipelineName?: string;
  /**
   * What runs the pipeline: a provisioned MWAA environment (Python DAGs, the Airflow UI, deferrable operators, long
   * tasks) or MWAA Serverless workflows (no environment, VPC or NAT gateway; billed per task-second, nothing while idle).
   * @default Orchestration.provisioned()
   */
  readonly orchestration?: Orchestration;
  /**
   * The MWAA environment the DAGs run on, e.g. one `AirflowEnvironment` shared by several pipelines.
   * @default - a new `AirflowEnvironment` (Airflow 3.3.1) with `environmentProps`
   */
  readonly environment?: IAirflowEnvironment;
  /**
   * How to create the environment (only without `environment`).
   * @default - the `AirflowEnvironment` defaults, pinned to `AirflowVersion.V3_3_1`
   */
  readonly environmentProps?: AirflowEnvironmentProps;
  /**
   * Set to true when `environment` is imported without its execution role and you grant it the DAGs' permissions
   * yourself, with `workflow.grantRunDags(role)` or in the account that owns the role.
   * @default false - an imported environment must come with `executionRole`
   */
  readonly executionRoleGrantedSeparately?: boolean;
  /**
   * Where the model code comes from.
   * @default - `PipelineSource.newCodeCommitRepository({ repositoryName: '<pipelineName>-model' })`, seeded with the starter model
   */
  readonly source?: PipelineSource;
  /**
   * The key of the build's artifacts, staged code and images and of the workflow's data, Glue and SageMaker volumes.
   * @default - a new key with rotation, retained on delete unless `modelBuild.removalPolicy` and `workflow.removalPolicy` are both DESTROY
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Options of the model build pipeline (failures are reported by `monitoring`, so no `failureTopic` or `notifyOnFailure`).
   * @default - the `ModelBuildPipeline` defaults
   */
  readonly modelBuild?: ModelBuildPipelineOptions;
  /**
   * Options of the model workflow: deployment, approval, training, data (its `notificationTopic` is the monitoring topic).
   * @default - the `ModelWorkflow` defaults: manual approval, a real-time ml.m5.large endpoint with canary rollout
   */
  readonly workflow?: ModelWorkflowOptions;
  /**
   * Options of the DAG trigger (its `alarmTopic` is the monitoring topic).
   * @default - the `DagTrigger` defaults
   */
  readonly trigger?: DagTriggerOptions;
  /**
   * Options of the monitoring: the topic every failure notifies, the dashboard, the endpoint alarm thresholds.
   * @default - the `PipelineMonitoring` defaults: a new KMS-encrypted, TLS-only topic
   */
  readonly monitoring?: PipelineMonitoringProps;
}

/**
 * The whole MLOps loop on Amazon MWAA: a model build pipeline (source → lint and tests → staged preprocessing code →
 * image in ECR), the training and deployment DAGs with their Glue job, SageMaker role, model package group and
 * endpoint, the triggers between them (new image or new raw data → training, approved package → deployment), and one
 * topic, dashboard and alarm set for every failure. Each part is public and usable on its own.
 */
export class MwaaMlopsPipeline extends Construct {
  /** The pipeline's name. */
  public readonly pipelineName: string;
  /** The MWAA environment the DAGs run on (undefined with `Orchestration.serverless()`). */
  public readonly environment?: IAirflowEnvironment;
  /** What runs the pipeline. */
  public readonly orchestration: Orchestration;
  /** The build pipeline: source, validation, staged preprocessing code, model image. */
  public readonly modelBuild: ModelBuildPipeline;
  /** What the DAGs drive: data bucket, Glue job, SageMaker role, model package group, endpoint. */
  public readonly workflow: ModelWorkflow;
  /** The EventBridge rules and function that start the DAGs. */
  public readonly trigger: DagTrigger;
  /** The dashboard and alarms of the loop. */
  public readonly monitoring: PipelineMonitoring;
  /** The topic every failure notifies. */
  public readonly topic: sns.ITopic;
  /** The key shared by the build and the workflow. */
  public readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: MwaaMlopsPipelineProps = {}) {
    super(scope, id);
    checkComposition(props);
    this.pipelineName = pipelineNameFor(id, props.pipelineName);

    this.orchestration = props.orchestration ?? Orchestration.provisioned();
    const serverless = this.orchestration.kind === OrchestrationKind.SERVERLESS;
    this.environment = serverless ? undefined : props.environment ?? new AirflowEnvironment(this, 'Environment', {
      airflowVersion: AirflowVersion.V3_3_1,
      ...props.environmentProps,
    });
    this.monitoring = new PipelineMonitoring(this, 'Monitoring', props.monitoring);
    this.topic = this.monitoring.topic;
    this.encryptionKey = props.encryptionKey ?? new kms.Key(this, 'Key', {
      description: `cdk-mwaa-mlops pipeline ${this.pipelineName}: build artifacts, images, data, Glue and SageMaker`,
      enableKeyRotation: true,
      // It encrypts what a stack delete keeps (data, images), unless both parts delete theirs.
      removalPolicy: props.modelBuild?.removalPolicy === RemovalPolicy.DESTROY && props.workflow?.removalPolicy === RemovalPolicy.DESTROY
        ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });

    this.modelBuild = new ModelBuildPipeline(this, 'Build', {
      ...props.modelBuild,
      source: props.source ?? PipelineSource.newCodeCommitRepository({ repositoryName: `${this.pipelineName}-model` }),
      encryptionKey: this.encryptionKey,
      notifyOnFailure: false, // monitorBuild reports failed executions to the topic
    });
    this.workflow = new ModelWorkflow(this, 'Workflow', {
      ...props.workflow,
      environment: this.environment,
      serverless: serverless ? this.orchestration.serverlessOptions : undefined,
      pipelineName: this.pipelineName,
      imageRepository: this.modelBuild.imageRepository,
      preprocessingCode: this.modelBuild.preprocessingCode,
      encryptionKey: this.encryptionKey,
      notificationTopic: this.topic,
    });
    if (props.executionRoleGrantedSeparately) {
      Annotations.of(this.workflow).acknowledgeWarning('cdk-mwaa-mlops:workflow-ungranted',
        'executionRoleGrantedSeparately: the DAGs\' permissions are granted outside this construct');
    }

    this.trigger = new DagTrigger(this, 'Trigger', { ...props.trigger, environment: this.environment, alarmTopic: this.topic });
    // On MWAA Serverless the rules start the workflows; on an environment, the DAGs.
    const training = serverless ? { workflow: this.workflow.trainingWorkflow } : { dagId: this.workflow.trainingDagId };
    const deployment = serverless ? { workflow: this.workflow.deploymentWorkflow } : { dagId: this.workflow.deploymentDagId };
    this.trigger.onImagePushed('ImagePushed', { repository: this.modelBuild.imageRepository, ...training });
    this.trigger.onObjectCreated('RawDataCreated', { bucket: this.workflow.dataBucket, prefix: this.workflow.rawDataPrefix, ...training });
    if (this.workflow.deploymentDagId) {
      this.trigger.onModelPackageStatusChange('ModelApproved', { modelPackageGroupName: this.workflow.modelPackageGroupName, ...deployment });
    }
    if (this.workflow.stageNames.length > 0) {
      // A package set Approved for a stage (by a person, a CI job or an automatic gate) deploys to that stage.
      this.trigger.onModelPackageStageChange('StageApproved', {
        modelPackageGroupName: this.workflow.modelPackageGroupName, stages: this.workflow.stageNames, ...deployment,
      });
    }

    const w = this.workflow;
    if (w.driftAlarm) {
      // The check runs on its schedule; an alarm on its verdict starts training (which still passes the quality gate
      // and the approval): one run per alarm state change, and the training DAG's cool-down skips runs too close together.
      const drift = serverless ? { workflow: w.driftWorkflow } : { dagId: w.driftDagId };
      this.trigger.onSchedule('DriftCheckSchedule', { schedule: w.driftSchedule!, ...drift });
      if (w.retrainOnDrift) this.trigger.onAlarm('DriftDetected', { alarm: w.driftAlarm, ...training });
    }

    this.monitoring.monitorBuild(this.modelBuild);
    this.monitoring.monitorTrigger(this.trigger);
    const sagemakerJobNamePrefix = `${w.pipelineName}-`; // the DAGs name jobs <pipeline>-train-<run> and <pipeline>-eval-<run>
    if (this.environment) {
      this.monitoring.monitorWorkflow({
        pipelineName: w.pipelineName,
        environmentName: this.environment.environmentName,
        trainingDagId: w.trainingDagId,
        deploymentDagId: w.deploymentDagId,
        driftDagId: w.driftDagId,
        glueJobName: w.glueJobName,
        endpointName: w.endpointName,
        sagemakerJobNamePrefix,
      });
      // A shared environment is watched once, where it is created (`monitoring.monitorEnvironment(environment)`).
      if (!props.environment) this.monitoring.monitorEnvironment(this.environment);
    } else {
      this.monitoring.monitorServerlessWorkflows({
        pipelineName: w.pipelineName,
        trainingWorkflow: w.trainingWorkflow!,
        deploymentWorkflow: w.deploymentWorkflow,
        driftWorkflow: w.driftWorkflow,
        glueJobName: w.glueJobName,
        endpointName: w.endpointName,
        sagemakerJobNamePrefix,
      });
    }

    if (w.driftAlarm) {
      this.monitoring.monitorDrift({ pipelineName: w.pipelineName, driftAlarm: w.driftAlarm, driftedFeatureShare: w.metricDriftedFeatureShare({ label: `${w.endpointName}: share of drifted features` }) });
    }

    // The first build starts when the pipeline is created: its image push must find the DAGs (or workflows), the rules
    // and a running environment (creating one takes 20-30 minutes).
    const created = this.environment && !props.environment ? [this.environment] : [];
    this.modelBuild.pipeline.node.addDependency(this.workflow, this.trigger, ...created);
  }

  /**
   * The roles of the pipeline's deployment runs: a `PromotionTarget` in another account trusts exactly these
   * (`pipelineRoles`). Empty when the environment is imported without its execution role.
   */
  public get deploymentRunRoles(): iam.IRole[] {
    return this.workflow.deploymentRunRoles;
  }

  /** Lets `grantee` move the pipeline's model packages into the stage `stageName` in the model registry (and so deploy them there). */
  public grantPromote(grantee: iam.IGrantable, stageName: string): iam.Grant {
    return this.workflow.grantPromote(grantee, stageName);
  }

  /** Lets `grantee` call the endpoint the pipeline deploys. */
  public grantInvokeEndpoint(grantee: iam.IGrantable): iam.Grant {
    return this.workflow.grantInvokeEndpoint(grantee);
  }

  /** Lets `grantee` read the pipeline's model artifacts and evaluation reports. */
  public grantReadModelArtifacts(grantee: iam.IGrantable): iam.Grant {
    return this.workflow.grantReadModelArtifacts(grantee);
  }

  /**
   * Lets `grantee` start the pipeline's runs (e.g. a retraining job of its own): DAG runs on the environment, or runs of
   * the training and deployment workflows on MWAA Serverless.
   * @param airflowRole the Airflow role the caller acts as (provisioned only)
   * @default airflowRole - 'User'
   */
  public grantTriggerDag(grantee: iam.IGrantable, airflowRole?: string): iam.Grant {
    if (this.environment) return this.environment.grantTriggerDag(grantee, airflowRole);
    const workflows = [this.workflow.trainingWorkflow, this.workflow.deploymentWorkflow].filter((w) => w !== undefined);
    return iam.Grant.addToPrincipal({ grantee, actions: ['airflow-serverless:StartWorkflowRun'], resourceArns: workflows.map((w) => w!.workflowArn) });
  }
}
