import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  stageEndpointName, stageKeyAlias, stageModelRoleName, stageResourcePrefix, stageRollbackAlarmNames,
} from './private/stage-names';
import { createStageDeployRole, createStageModelRole, validateTargetProps } from './private/target-roles';
import { EndpointDeployment, EndpointKind } from '../ml/endpoint-deployment';
import { createEndpointCleanup } from '../ml/private/endpoint-cleanup';
import { createRollbackAlarms } from '../ml/private/rollback-alarms';
import { sagemakerArns } from '../ml/private/sagemaker-arn';

/** Properties of a `PromotionTarget`. */
export interface PromotionTargetProps {
  /** The name of the pipeline (`ModelWorkflow.pipelineName`) whose stage this is. */
  readonly pipelineName: string;

  /** The stage's name, as the pipeline's `stages` name it. */
  readonly stageName: string;

  /**
   * The account the pipeline runs in (its model registry, bucket, key and image repository): a literal 12-digit account
   * id, or this stack's own account (a token in an environment-agnostic stack) for a stage in the pipeline's account.
   */
  readonly pipelineAccount: string;

  /**
   * The region the pipeline runs in.
   * @default - this stack's region
   */
  readonly pipelineRegion?: string;

  /**
   * The roles of the pipeline's deployment runs (`ModelWorkflow.deploymentRunRoles`, or `iam.Role.fromRoleArn` of
   * them from another app): the stage's deploy role trusts exactly these.
   */
  readonly pipelineRoles: iam.IRole[];

  /**
   * The stage's endpoint: the same as the pipeline's `stages[i].deployment` (it decides whether the stage has rollback
   * alarms and a storage key).
   * @default EndpointDeployment.realTime()
   */
  readonly deployment?: EndpointDeployment;

  /**
   * The pipeline's model package group.
   * @default `<pipelineName>-models` (ModelWorkflow's default)
   */
  readonly modelPackageGroupName?: string;

  /**
   * Where the pipeline keeps its models in its data bucket (`ModelWorkflow.artifactsPrefix`).
   * @default `artifacts/<pipelineName>/` (ModelWorkflow's default)
   */
  readonly artifactsPrefix?: string;

  /**
   * What happens to the stage's endpoint, and the endpoint configs and models the runs created, when this stack is
   * deleted (the runs create them, so CloudFormation does not own them).
   * @default RemovalPolicy.DESTROY
   */
  readonly endpointRemovalPolicy?: RemovalPolicy;

  /**
   * What happens to the stage's storage key when this stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * How long the endpoint clean-up's logs are kept.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A pipeline's deployment stage on the side of the stage's account: the role the pipeline's deployment runs assume
 * there (trusting only the pipeline's run roles, reaching only the stage's endpoint and what the runs name for it), the
 * role SageMaker runs the stage's models as, a key for the endpoint's storage, the rollback alarms and the endpoint's
 * clean-up. Deploy it in a stack of the stage's account and region (the pipeline creates it itself for a stage in
 * its own account and region). Both sides derive every name from the pipeline's and the stage's names, so neither
 * needs a reference to the other's resources.
 */
export class PromotionTarget extends Construct {
  /** The stage's endpoint, which the pipeline's deployment runs create and update (`<pipeline>--<stage>`). */
  public readonly endpointName: string;
  /** The role the pipeline's deployment runs assume to deploy to this stage. */
  public readonly deployRole: iam.Role;
  /** The role SageMaker runs the stage's models as. */
  public readonly modelRole: iam.Role;
  /** The key of the endpoint's storage volumes (real-time endpoints; serverless ones have no storage key). */
  public readonly encryptionKey?: kms.IKey;
  /** The alarms an update of a real-time endpoint watches to roll back (none for a serverless endpoint). */
  public readonly rollbackAlarms: cloudwatch.IAlarm[];
  /** The deployment of the stage's endpoint. */
  public readonly deployment: EndpointDeployment;
  /** The pipeline's name. */
  public readonly pipelineName: string;
  /** The stage's name. */
  public readonly stageName: string;

  constructor(scope: Construct, id: string, props: PromotionTargetProps) {
    super(scope, id);
    const stack = Stack.of(this);
    validateTargetProps(stack, props);
    this.pipelineName = props.pipelineName;
    this.stageName = props.stageName;
    this.deployment = props.deployment ?? EndpointDeployment.realTime();
    if (this.deployment.kind === EndpointKind.NONE) {
      throw new Error(`deployment: EndpointDeployment.none() is not allowed for stage '${props.stageName}'; a stage deploys an endpoint (use realTime() or serverless())`);
    }
    this.endpointName = stageEndpointName(props.pipelineName, props.stageName);
    const realTime = this.deployment.kind === EndpointKind.REAL_TIME;
    const pipeline = {
      account: props.pipelineAccount,
      region: props.pipelineRegion ?? stack.region,
      modelPackageGroupName: props.modelPackageGroupName ?? `${props.pipelineName}-models`,
      artifactsPrefix: props.artifactsPrefix ?? `artifacts/${props.pipelineName}/`,
    };

    if (realTime) {
      const key = new kms.Key(this, 'Key', {
        description: `cdk-mwaa-mlops pipeline ${props.pipelineName}, stage ${props.stageName}: the endpoint's storage`,
        enableKeyRotation: true,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      });
      // The name the pipeline's config gives the endpoint config (KmsKeyId), derived on both sides.
      key.addAlias(stageKeyAlias(props.pipelineName, props.stageName));
      this.encryptionKey = key;
    }

    this.modelRole = createStageModelRole(this, {
      roleName: stageModelRoleName(props.pipelineName, props.stageName),
      pipelineName: props.pipelineName,
      stageName: props.stageName,
      endpointName: this.endpointName,
      pipeline,
    });

    const [invocation5xx, modelLatency] = stageRollbackAlarmNames(props.pipelineName, props.stageName);
    this.rollbackAlarms = realTime
      ? createRollbackAlarms(this, this.endpointName, this.deployment.rollbackAlarms ?? {}, { invocation5xx, modelLatency })
      : [];

    this.deployRole = createStageDeployRole(this, {
      pipelineName: props.pipelineName,
      stageName: props.stageName,
      endpointName: this.endpointName,
      resourcePrefix: stageResourcePrefix(props.pipelineName, props.stageName),
      pipeline,
      pipelineRoles: props.pipelineRoles,
      modelRole: this.modelRole,
      storageKey: this.encryptionKey,
      rollbackAlarms: this.rollbackAlarms,
    });

    createEndpointCleanup(this, {
      pipelineName: props.pipelineName,
      endpointName: this.endpointName,
      resourcePrefix: stageResourcePrefix(props.pipelineName, props.stageName),
      removalPolicy: props.endpointRemovalPolicy ?? RemovalPolicy.DESTROY,
      logRetention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });
  }

  /** The ARN of the stage's endpoint. */
  public get endpointArn(): string {
    return sagemakerArns(this)('endpoint', this.endpointName.toLowerCase());
  }

  /** Lets `grantee` invoke the stage's endpoint (`sagemaker:InvokeEndpoint`). */
  public grantInvokeEndpoint(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['sagemaker:InvokeEndpoint'], resourceArns: [this.endpointArn] });
  }
}
