import { Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { PipelineSource } from './pipeline-source';
import { imageBuildSpec, stageBuildSpec, validateBuildSpec } from './private/buildspecs';
import { acknowledgePipelineFindings, grantImagePush } from './private/nag';
import { validatePrefix } from './private/validate';
import { PreprocessingCodeLocation } from '../ml/workflow-options';
import { EncryptedLogGroups } from '../private/encrypted-log-groups';
import { createAccessLogBucket, createSecureBucket } from '../private/secure-bucket';
import { validateNumber } from '../private/validate-number';

/** Properties of a {@link ModelBuildPipeline}. */
export interface ModelBuildPipelineProps extends ModelBuildPipelineOptions {
  /** Where the model code comes from: `PipelineSource.connection(...)`, `.codeCommit(...)`, `.newCodeCommitRepository(...)` or `.s3(...)`. */
  readonly source: PipelineSource;
}

/** The optional properties of a {@link ModelBuildPipeline} (what a composing construct passes through). */
export interface ModelBuildPipelineOptions {
  /**
   * The ECR repository the image is pushed to, tagged with the commit. Bring one with immutable tags and scan on push.
   * @default - a new repository: immutable tags, scan on push, KMS encryption, keeps the last `maxImageCount` images
   */
  readonly imageRepository?: ecr.IRepository;
  /**
   * How many images the created repository keeps (older ones expire).
   * @default 50
   */
  readonly maxImageCount?: number;
  /**
   * The bucket the preprocessing code is staged to.
   * @default - a new versioned, KMS-encrypted, TLS-only bucket with access logs
   */
  readonly scriptBucket?: s3.IBucket;
  /**
   * The key prefix of the staged code: each commit's `preprocessing/*.py` lands under `<scriptPrefix><commit>/`.
   * @default 'preprocessing/'
   */
  readonly scriptPrefix?: string;
  /**
   * The key that encrypts the created buckets, repository, topic, build logs and build artifacts. A key defined in
   * this app gets the policy statements CloudWatch Logs and EventBridge need; an imported key's policy must already
   * allow them (see the README).
   * @default - a new key with rotation
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * The topic told when a pipeline execution fails.
   * @default - a new topic, unless `notifyOnFailure` is false
   */
  readonly failureTopic?: sns.ITopic;
  /**
   * Whether to notify a topic (given or created) when a pipeline execution fails.
   * @default true
   */
  readonly notifyOnFailure?: boolean;
  /**
   * How long the build logs are kept.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The longest the validation build (lint and tests) may run.
   * @default Duration.minutes(30)
   */
  readonly validateTimeout?: Duration;
  /**
   * The longest the image build may run.
   * @default Duration.minutes(60)
   */
  readonly imageBuildTimeout?: Duration;
  /**
   * What happens to the created buckets, repository and key when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * CodePipeline (V2) from a source of your choice to a validated commit, its preprocessing code staged in S3
 * under the commit, and its model image in ECR tagged with the commit.
 *
 * Stages: Source → Validate (the repository's lint and tests) → StagePreprocessing (`preprocessing/*.py` to
 * `s3://<scriptBucket>/<scriptPrefix><commit>/`) → BuildImage (`docker build` and push `<repository>:<commit>`,
 * privileged only here). The image push is what starts training (see `DagTrigger.onImagePushed`), and it comes
 * last, so the code it needs is already staged.
 */
export class ModelBuildPipeline extends Construct {
  /** The pipeline. */
  public readonly pipeline: codepipeline.Pipeline;
  /** The repository the model image is pushed to. */
  public readonly imageRepository: ecr.IRepository;
  /** The bucket the preprocessing code is staged to. */
  public readonly scriptBucket: s3.IBucket;
  /** The key prefix of the staged code; a commit's code is under `<scriptPrefix><commit>/`. */
  public readonly scriptPrefix: string;
  /** `s3://<bucket>/<scriptPrefix>`: the `preprocessing.script_prefix` of the DAGs' pipeline config. */
  public readonly scriptLocationPrefix: string;
  /** The CodeCommit repository, when the source is one. */
  public readonly sourceRepository?: codecommit.IRepository;
  /** The topic told about failed executions, when notifications are on. */
  public readonly failureTopic?: sns.ITopic;
  /** The key of the pipeline's artifacts and of what this construct created. */
  public readonly encryptionKey: kms.IKey;
  /** The validation project (lint and tests). */
  public readonly validateProject: codebuild.PipelineProject;
  /** The project that stages the preprocessing code. */
  public readonly stageProject: codebuild.PipelineProject;
  /** The project that builds and pushes the image. */
  public readonly imageProject: codebuild.PipelineProject;
  private readonly ownsImageRepository: boolean;

  constructor(scope: Construct, id: string, props: ModelBuildPipelineProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const maxImageCount = props.maxImageCount ?? 50;
    validateNumber('maxImageCount', maxImageCount, { min: 1, max: 10000, wholeNumber: true });
    this.scriptPrefix = props.scriptPrefix ?? 'preprocessing/';
    validatePrefix('scriptPrefix', this.scriptPrefix);
    const validateTimeout = props.validateTimeout ?? Duration.minutes(30);
    const imageBuildTimeout = props.imageBuildTimeout ?? Duration.minutes(60);
    validateNumber('validateTimeout', validateTimeout.toMinutes(), { min: 5, max: 480, wholeNumber: true, unit: 'minutes' });
    validateNumber('imageBuildTimeout', imageBuildTimeout.toMinutes(), { min: 5, max: 480, wholeNumber: true, unit: 'minutes' });
    if (props.failureTopic && props.notifyOnFailure === false) {
      throw new Error('failureTopic is given but notifyOnFailure is false; drop one of them');
    }

    this.encryptionKey = props.encryptionKey ?? new kms.Key(this, 'Key', {
      description: `cdk-mwaa-mlops model build ${this.node.path}: artifacts, staged code, images, notifications`,
      enableKeyRotation: true,
      removalPolicy,
    });
    const buckets = this.createBuckets(props.scriptBucket, removalPolicy);
    this.scriptBucket = buckets.scriptBucket;
    this.scriptLocationPrefix = `s3://${this.scriptBucket.bucketName}/${this.scriptPrefix}`;
    this.ownsImageRepository = !props.imageRepository;
    this.imageRepository = props.imageRepository ?? new ecr.Repository(this, 'ImageRepository', {
      imageScanOnPush: true,
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      encryption: ecr.RepositoryEncryption.KMS,
      encryptionKey: this.encryptionKey,
      lifecycleRules: [{ description: `Keep the last ${maxImageCount} images`, maxImageCount }],
      removalPolicy,
    });

    this.pipeline = new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineType: codepipeline.PipelineType.V2,
      artifactBucket: buckets.artifactBucket,
      restartExecutionOnUpdate: false,
    });
    const sourceOutput = new codepipeline.Artifact('Source');
    const source = props.source.bind(this, this.pipeline, sourceOutput);
    this.sourceRepository = source.repository;
    if (source.trigger) this.pipeline.addTrigger(source.trigger);
    const revision = { COMMIT_ID: { value: source.revisionVariable } };

    const logging = {
      logGroups: new EncryptedLogGroups(this, 'model-build', this.encryptionKey),
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
      removalPolicy,
    };
    this.validateProject = this.project('Validate', validateBuildSpec(), validateTimeout, logging);
    this.stageProject = this.project('StagePreprocessing', stageBuildSpec(), Duration.minutes(10), logging, {
      SCRIPT_BUCKET: { value: this.scriptBucket.bucketName },
      SCRIPT_PREFIX: { value: this.scriptPrefix },
    });
    this.scriptBucket.grantPut(this.stageProject, `${this.scriptPrefix}*`);
    this.imageProject = this.project('BuildImage', imageBuildSpec(), imageBuildTimeout, logging, {
      IMAGE_REPOSITORY_URI: { value: this.imageRepository.repositoryUri },
      IMAGE_REPOSITORY_NAME: { value: this.imageRepository.repositoryName },
    }, true);
    grantImagePush(this, this.imageRepository, this.imageProject);
    this.imageProject.addToRolePolicy(new iam.PolicyStatement({
      actions: ['ecr:DescribeImages'],
      resources: [this.imageRepository.repositoryArn],
    }));

    this.pipeline.addStage({ stageName: 'Source', actions: [source.action] });
    this.pipeline.addStage({
      stageName: 'Validate',
      actions: [new actions.CodeBuildAction({ actionName: 'LintAndTest', project: this.validateProject, input: sourceOutput, environmentVariables: revision })],
    });
    this.pipeline.addStage({
      stageName: 'StagePreprocessing',
      actions: [new actions.CodeBuildAction({ actionName: 'CopyToS3', project: this.stageProject, input: sourceOutput, environmentVariables: revision })],
    });
    this.pipeline.addStage({
      stageName: 'BuildImage',
      actions: [new actions.CodeBuildAction({
        actionName: 'BuildAndPush', project: this.imageProject, input: sourceOutput, environmentVariables: revision, variablesNamespace: 'Image',
      })],
    });

    if (props.notifyOnFailure !== false) {
      this.failureTopic = this.notifyFailures(props.failureTopic);
    }
    acknowledgePipelineFindings({
      scope: this,
      artifactBucketArn: buckets.artifactBucket.bucketArn,
      scriptObjectsArn: this.scriptBucket.arnForObjects(`${this.scriptPrefix}*`),
      projects: { validate: this.validateProject, stage: this.stageProject, image: this.imageProject },
    });
  }

  /** Where the preprocessing code is staged, for `ModelWorkflow`'s `preprocessingCode`. */
  public get preprocessingCode(): PreprocessingCodeLocation {
    return { bucket: this.scriptBucket, prefix: this.scriptPrefix, encryptionKey: this.encryptionKey };
  }

  /** Lets the grantee (e.g. the Glue job's role) read the staged preprocessing code. */
  public grantReadPreprocessingCode(grantee: iam.IGrantable): iam.Grant {
    return this.scriptBucket.grantRead(grantee, `${this.scriptPrefix}*`);
  }

  /** Lets the grantee (e.g. SageMaker's execution role) pull the model images. */
  public grantPullImages(grantee: iam.IGrantable): iam.Grant {
    const grant = this.imageRepository.grantPull(grantee);
    if (this.ownsImageRepository) this.encryptionKey.grantDecrypt(grantee);
    return grant;
  }

  /**
   * A rule on failed executions that publishes to the topic (given or created). EventBridge gets `sns:Publish` and the
   * created topic's key with no condition: AWS documents that SNS topic policies for EventBridge take no Condition
   * block (EventBridge User Guide, "Amazon SNS permissions") and that `aws:SourceArn`/`aws:SourceAccount` in a key
   * policy are not supported for EventBridge-to-encrypted-topic delivery (SNS Developer Guide, "Key management",
   * compatibility with AWS services): with them every notification would be dropped. The key protects only what this
   * construct creates.
   */
  private notifyFailures(given: sns.ITopic | undefined): sns.ITopic {
    const ruleName = `${Names.uniqueResourceName(this, { maxLength: 57, separator: '-' })}-Failed`;
    const eventBridge = new iam.ServicePrincipal('events.amazonaws.com');
    const topic = given ?? new sns.Topic(this, 'FailureTopic', {
      displayName: 'cdk-mwaa-mlops model build failures',
      masterKey: this.encryptionKey,
      enforceSSL: true,
    });
    if (!given) {
      this.encryptionKey.addToResourcePolicy(new iam.PolicyStatement({
        principals: [eventBridge],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }));
    }
    topic.addToResourcePolicy(new iam.PolicyStatement({
      principals: [eventBridge],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
    }));
    this.pipeline.onStateChange('Failed', {
      ruleName,
      description: `Tells ${topic.node.path} when ${this.node.path} fails`,
      eventPattern: { detail: { state: ['FAILED'] } },
    }).addTarget({
      bind: () => ({
        arn: topic.topicArn,
        targetResource: topic,
        input: events.RuleTargetInput.fromText(
          `Model build pipeline ${events.EventField.fromPath('$.detail.pipeline')} failed: execution ${events.EventField.fromPath('$.detail.execution-id')}`,
        ),
      }),
    });
    return topic;
  }

  private createBuckets(scriptBucket: s3.IBucket | undefined, removalPolicy: RemovalPolicy) {
    const accessLogs = createAccessLogBucket(this, 'AccessLogsBucket', removalPolicy);
    const encrypted = { removalPolicy, encryptionKey: this.encryptionKey, accessLogs };
    const artifactBucket = createSecureBucket(this, 'ArtifactBucket', {
      ...encrypted,
      accessLogPrefix: 'artifacts/',
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30), expiration: Duration.days(365) }],
    });
    if (scriptBucket) return { artifactBucket, scriptBucket };
    const created: s3.IBucket = createSecureBucket(this, 'ScriptBucket', { ...encrypted, accessLogPrefix: 'scripts/' });
    return { artifactBucket, scriptBucket: created };
  }

  private project(
    id: string,
    buildSpec: codebuild.BuildSpec,
    timeout: Duration,
    logging: { logGroups: EncryptedLogGroups; retention: logs.RetentionDays; removalPolicy: RemovalPolicy },
    environmentVariables: Record<string, codebuild.BuildEnvironmentVariable> = {},
    privileged = false,
  ): codebuild.PipelineProject {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      logGroupName: logging.logGroups.name(id),
      encryptionKey: logging.logGroups.key,
      retention: logging.retention,
      removalPolicy: logging.removalPolicy,
    });
    return new codebuild.PipelineProject(this, id, {
      description: `cdk-mwaa-mlops model build: ${id} (${Stack.of(this).stackName})`,
      buildSpec,
      environment: {
        buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
        computeType: privileged ? codebuild.ComputeType.MEDIUM : codebuild.ComputeType.SMALL,
        privileged,
      },
      environmentVariables,
      encryptionKey: this.encryptionKey,
      timeout,
      logging: { cloudWatch: { logGroup } },
      grantReportGroupPermissions: false, // the buildspecs publish no test reports
      cache: privileged ? codebuild.Cache.local(codebuild.LocalCacheMode.DOCKER_LAYER) : undefined,
    });
  }
}
