import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IConstruct } from 'constructs';
import { acknowledge, Finding } from '../../private/acknowledge';
import { addUnscopedPolicy, nagString } from '../../private/nag-ids';

/** The wildcard actions of aws-cdk-lib's bucket and key grants (`grantReadWrite`, `grantPut`, `grantEncryptDecrypt`). */
const GRANT_ACTIONS = ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'];

/** The parts of a model build pipeline that cdk-nag's findings concern. */
export interface PipelineParts {
  readonly scope: IConstruct;
  readonly artifactBucketArn: string;
  readonly scriptObjectsArn: string;
  readonly projects: { validate: codebuild.PipelineProject; stage: codebuild.PipelineProject; image: codebuild.PipelineProject };
}

/** Acknowledges, with reasons, what cdk-nag reports on the roles aws-cdk-lib's pipeline and projects create. */
export function acknowledgePipelineFindings(parts: PipelineParts): void {
  const artifacts: Finding[] = [
    ...GRANT_ACTIONS.map((action) => ({
      id: `AwsSolutions-IAM5[Action::${action}]`,
      reason: `aws-cdk-lib's grant on this pipeline's own artifact bucket, staging prefix or key: ${action} names the object- and key-level actions of that grant, on those resources only.`,
    })),
    {
      id: `AwsSolutions-IAM5[Resource::${nagString(parts.scope, parts.artifactBucketArn)}/*]`,
      reason: `${nagString(parts.scope, parts.artifactBucketArn)}/*: pipeline artifacts are objects of this pipeline's own artifact bucket with names CodePipeline chooses per execution.`,
    },
  ];
  for (const role of parts.scope.node.findAll().filter((c): c is iam.Role => c instanceof iam.Role)) {
    acknowledge(role, ...artifacts);
  }
  for (const project of Object.values(parts.projects)) {
    // aws-cdk-lib grants every project its default log group, /aws/codebuild/<project>, with the stream wildcard; the
    // ARN is formatted as aws-cdk-lib formats it, so the id matches on env-agnostic and explicit-env stacks alike.
    const defaultLogStreams = Stack.of(project).formatArn({
      service: 'logs', resource: 'log-group', resourceName: `/aws/codebuild/${project.projectName}`, arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    acknowledge(project, {
      id: `AwsSolutions-IAM5[Resource::${nagString(project, defaultLogStreams)}:*]`,
      reason: `aws-cdk-lib grants each CodeBuild project the streams of its default log group ${nagString(project, defaultLogStreams)}:* ` +
        '(stream names are per build); the builds log to their own encrypted group instead.',
    });
  }
  acknowledge(parts.projects.stage, {
    id: `AwsSolutions-IAM5[Resource::${nagString(parts.scope, parts.scriptObjectsArn)}]`,
    reason: `${nagString(parts.scope, parts.scriptObjectsArn)}: the staging build writes each commit's code under the staging prefix, in objects named after the commit.`,
  });
}

/**
 * Lets the image build pull and push `repository` (aws-cdk-lib's grantPullPush actions) and log in to the registry:
 * `ecr:GetAuthorizationToken` has no resource-level permissions, so it sits in a policy of its own, the only place
 * a `*` resource is acknowledged for this project.
 */
export function grantImagePush(scope: Construct, repository: ecr.IRepository, project: codebuild.PipelineProject): void {
  repository.grant(project, 'ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage',
    'ecr:CompleteLayerUpload', 'ecr:UploadLayerPart', 'ecr:InitiateLayerUpload', 'ecr:PutImage');
  const login = addUnscopedPolicy(scope, 'ImageBuildUnscopedPolicy', project.role!,
    [new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] })],
    'docker login to the registry; the token only authenticates, and pulling and pushing are granted on this repository alone.');
  // The pipeline's first execution starts when it is created: the build must be able to log in by then.
  project.node.defaultChild!.node.addDependency(login);
}
