import * as path from 'path';
import { Annotations, RemovalPolicy } from 'aws-cdk-lib';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeBucketNotificationsHandler } from '../private/nag-ids';
import { starterRepositoryAsset } from './private/starter-asset';
import { validateBranch, validateCodeCommitRepositoryName, validateConnectionArn, validateObjectKey, validateRepositoryPath } from './private/validate';

const STARTER_DIRECTORY = path.join(__dirname, '..', '..', 'assets', 'starter');

/**
 * The starter model repository shipped with the library (assets/starter).
 *
 * @deprecated use `PipelineSource.STARTER_REPOSITORY_DIRECTORY` (jsii leaves exported constants out of the other languages)
 */
export const STARTER_REPOSITORY_DIRECTORY = STARTER_DIRECTORY;

/** A Git repository reached through an AWS CodeConnections connection (GitHub, GitLab, Bitbucket). */
export interface ConnectionSourceOptions {
  /** The connection's ARN (`arn:aws:codeconnections:...:connection/...`, or the older `codestar-connections`). */
  readonly connectionArn: string;
  /** The repository's owner: a user, organization or group. */
  readonly owner: string;
  /** The repository's name. */
  readonly repository: string;
  /**
   * The branch whose pushes start the pipeline.
   * @default 'main'
   */
  readonly branch?: string;
}

/** An existing CodeCommit repository. */
export interface CodeCommitSourceOptions {
  /** The repository. */
  readonly repository: codecommit.IRepository;
  /**
   * The branch whose commits start the pipeline.
   * @default 'main'
   */
  readonly branch?: string;
}

/** A new CodeCommit repository, seeded with the library's starter model repository. */
export interface NewCodeCommitSourceOptions {
  /** The repository's name. */
  readonly repositoryName: string;
  /**
   * The branch the starter code is committed to, and whose commits start the pipeline.
   * @default 'main'
   */
  readonly branch?: string;
}

/** A zip file in S3 (for example uploaded by another CI system). */
export interface S3SourceOptions {
  /** The bucket; it must be versioned and send events to EventBridge (turned on here for a bucket of this app). */
  readonly bucket: s3.IBucket;
  /** The key of the zip file. */
  readonly objectKey: string;
}

/** What a source gives the pipeline. */
export interface PipelineSourceConfig {
  /** The source action. */
  readonly action: codepipeline.IAction;
  /** The variable that names the revision (commit id, or the object's version id for S3), used as the image tag. */
  readonly revisionVariable: string;
  /** A pipeline trigger (V2) that starts the pipeline on a change, when the source uses one. */
  readonly trigger?: codepipeline.TriggerProps;
  /** The CodeCommit repository, when the source is one. */
  readonly repository?: codecommit.IRepository;
}

/**
 * Where the model code comes from. Every source starts the pipeline on a change through events or a pipeline
 * trigger, never by polling.
 */
export abstract class PipelineSource {
  /**
   * The starter model repository shipped with the library (assets/starter): the first commit of `newCodeCommitRepository`.
   * Its `.gitignore` is shipped as `gitignore` (npm never packs the real name) and renamed when the repository is seeded.
   */
  public static readonly STARTER_REPOSITORY_DIRECTORY = STARTER_DIRECTORY;

  /** A GitHub, GitLab or Bitbucket repository through a CodeConnections connection; pushes to the branch start the pipeline (a V2 trigger). */
  public static connection(options: ConnectionSourceOptions): PipelineSource {
    validateConnectionArn(options.connectionArn);
    validateRepositoryPath('owner', options.owner);
    validateRepositoryPath('repository', options.repository);
    const branch = validateBranch(options.branch ?? 'main');
    return new (class extends PipelineSource {
      public readonly kind = 'connection';
      public bind(_scope: Construct, _pipeline: codepipeline.IPipeline, output: codepipeline.Artifact): PipelineSourceConfig {
        const action = new actions.CodeStarConnectionsSourceAction({
          actionName: 'Source',
          connectionArn: options.connectionArn,
          owner: options.owner,
          repo: options.repository,
          branch,
          output,
          // The V2 trigger below starts the pipeline; the action's own webhook would start it a second time.
          triggerOnPush: false,
          codeBuildCloneOutput: false,
        });
        return {
          action,
          revisionVariable: action.variables.commitId,
          trigger: {
            providerType: codepipeline.ProviderType.CODE_STAR_SOURCE_CONNECTION,
            gitConfiguration: { sourceAction: action, pushFilter: [{ branchesIncludes: [branch] }] },
          },
        };
      }
    })();
  }

  /** An existing CodeCommit repository; commits to the branch start the pipeline through an EventBridge rule. */
  public static codeCommit(options: CodeCommitSourceOptions): PipelineSource {
    const branch = validateBranch(options.branch ?? 'main');
    return new (class extends PipelineSource {
      public readonly kind = 'codecommit';
      public bind(_scope: Construct, _pipeline: codepipeline.IPipeline, output: codepipeline.Artifact): PipelineSourceConfig {
        return codeCommitAction(options.repository, branch, output);
      }
    })();
  }

  /**
   * A new CodeCommit repository with the starter model repository as its first commit, so the first deploy runs
   * the whole loop. The repository is retained when the stack is deleted.
   */
  public static newCodeCommitRepository(options: NewCodeCommitSourceOptions): PipelineSource {
    validateCodeCommitRepositoryName(options.repositoryName);
    const branch = validateBranch(options.branch ?? 'main');
    return new (class extends PipelineSource {
      public readonly kind = 'new-codecommit';
      public bind(scope: Construct, _pipeline: codepipeline.IPipeline, output: codepipeline.Artifact): PipelineSourceConfig {
        const starter = starterRepositoryAsset(scope, 'StarterRepository', PipelineSource.STARTER_REPOSITORY_DIRECTORY,
          ['__pycache__', '*.pyc', '.pytest_cache', '.ruff_cache', 'data/raw']);
        const repository = new codecommit.Repository(scope, 'SourceRepository', {
          repositoryName: options.repositoryName,
          description: 'Model code: Dockerfile, training and serving code, Glue preprocessing script (cdk-mwaa-mlops starter)',
          code: codecommit.Code.fromAsset(starter, branch),
        });
        repository.applyRemovalPolicy(RemovalPolicy.RETAIN); // the team's code outlives the stack

        return codeCommitAction(repository, branch, output);
      }
    })();
  }

  /** A zip object in S3; a new version of it starts the pipeline through an EventBridge rule. */
  public static s3(options: S3SourceOptions): PipelineSource {
    validateObjectKey(options.objectKey);
    return new (class extends PipelineSource {
      public readonly kind = 's3';
      public bind(scope: Construct, pipeline: codepipeline.IPipeline, output: codepipeline.Artifact): PipelineSourceConfig {
        const action = new actions.S3SourceAction({
          actionName: 'Source',
          bucket: options.bucket,
          bucketKey: options.objectKey,
          output,
          trigger: actions.S3Trigger.NONE, // the rule below starts the pipeline; EVENTS would need a CloudTrail trail
        });
        if (options.bucket instanceof s3.Bucket) {
          options.bucket.enableEventBridgeNotification();
          acknowledgeBucketNotificationsHandler(scope);
        } else {
          Annotations.of(scope).addWarningV2('cdk-mwaa-mlops:pipeline-imported-bucket',
            `${options.bucket.node.path} is imported, so EventBridge notifications cannot be turned on here; turn them on for the bucket, or no upload will start the pipeline`);
        }
        new events.Rule(scope, 'SourceObjectCreated', {
          description: `Starts the model build when s3://${options.bucket.bucketName}/${options.objectKey} changes`,
          eventPattern: {
            source: ['aws.s3'],
            detailType: ['Object Created'],
            detail: { bucket: { name: [options.bucket.bucketName] }, object: { key: [options.objectKey] } },
          },
          targets: [new targets.CodePipeline(pipeline)],
        });
        return { action, revisionVariable: action.variables.versionId };
      }
    })();
  }

  /** What kind of source this is (`connection`, `codecommit`, `new-codecommit`, `s3`). */
  public abstract readonly kind: string;

  /** Adds what the source needs to the pipeline's scope and returns its action. */
  public abstract bind(scope: Construct, pipeline: codepipeline.IPipeline, output: codepipeline.Artifact): PipelineSourceConfig;
}

function codeCommitAction(repository: codecommit.IRepository, branch: string, output: codepipeline.Artifact): PipelineSourceConfig {
  const action = new actions.CodeCommitSourceAction({
    actionName: 'Source',
    repository,
    branch,
    output,
    trigger: actions.CodeCommitTrigger.EVENTS,
  });
  return { action, revisionVariable: action.variables.commitId, repository };
}
