import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { sagemakerArns } from './sagemaker-arn';
import { ResolvedStage, statusesSetByRuns } from '../../promotion/private/pipeline-stages';

/** What one pipeline's DAGs touch, for the role their tasks run as (the MWAA execution role). */
export interface DagResources {
  readonly pipelineName: string;
  readonly glueJobName: string;
  readonly modelPackageGroupName: string;
  /** Undefined when the pipeline deploys no endpoint. */
  readonly endpointName?: string;
  readonly sagemakerRole: iam.IRole;
  readonly imageRepository: ecr.IRepository;
  readonly dataBucket: s3.IBucket;
  /** `<processed>/<pipeline>/` and `<artifacts>/<pipeline>/`. */
  readonly processedPrefix: string;
  readonly artifactsPrefix: string;
  readonly encryptionKey: kms.IKey;
  readonly topic?: sns.ITopic;
  readonly rollbackAlarms: cloudwatch.IAlarm[];
  /** The deployment stages (the deployment runs reach each stage's endpoint through the stage's deploy role). */
  readonly stages?: ResolvedStage[];
  /** With drift detection (the training DAG writes baselines and the drift DAG checks the endpoint): the capture prefix. */
  readonly drift?: { readonly capturePrefix: string };
}

/** Why each statement with a wildcard resource is as narrow as SageMaker and S3 allow, by statement. */
const WILDCARD_REASONS = new WeakMap<iam.PolicyStatement, string>();

function explained(statement: iam.PolicyStatement, why: string): iam.PolicyStatement {
  WILDCARD_REASONS.set(statement, why);
  return statement;
}

/** The reason a statement of `dagRunStatements` carries a wildcard resource (undefined for the others). */
export function wildcardReason(statement: iam.PolicyStatement): string | undefined {
  return WILDCARD_REASONS.get(statement);
}

/** Whether a statement names `*` as its one resource (actions without resource-level permissions). */
export function isUnscoped(statement: iam.PolicyStatement): boolean {
  return statement.resources.length === 1 && statement.resources[0] === '*';
}

/** Which DAG makes a statement's calls (a serverless workflow's role gets its own DAG's only). */
export type DagKind = 'training' | 'deployment' | 'drift';
const USED_BY = new WeakMap<iam.PolicyStatement, DagKind[]>();

function oneDagOnly(statement: iam.PolicyStatement): iam.PolicyStatement {
  ONE_DAG_ONLY.add(statement);
  return statement;
}

function usedBy(kinds: DagKind[], statement: iam.PolicyStatement): iam.PolicyStatement {
  USED_BY.set(statement, kinds);
  return statement;
}

/** Statements that only a role of one DAG needs: what another statement already grants a role of both DAGs. */
const ONE_DAG_ONLY = new WeakSet<iam.PolicyStatement>();

/** The statements that `dag` needs, for a role of that DAG alone (an MWAA Serverless workflow's). */
export function dagStatements(scope: Construct, r: DagResources, dag: DagKind): iam.PolicyStatement[] {
  return allStatements(scope, r).filter((statement) => (USED_BY.get(statement) ?? ['training', 'deployment', 'drift']).includes(dag));
}

/**
 * Exactly the calls the training and deployment DAGs make (the operators of the Amazon provider and the DAGs' own
 * boto3 tasks), on this pipeline's resources only. SageMaker resources the DAGs create are named
 * `<pipeline>-<stage>-<run key>` (naming.py), which is what the name patterns below match.
 */
export function dagRunStatements(scope: Construct, r: DagResources): iam.PolicyStatement[] {
  return allStatements(scope, r).filter((statement) => !ONE_DAG_ONLY.has(statement));
}

function allStatements(scope: Construct, r: DagResources): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const sagemaker = sagemakerArns(scope);
  const p = r.pipelineName;
  const statements = [
    usedBy(['training'], new iam.PolicyStatement({
      actions: ['glue:GetJob', 'glue:StartJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:BatchStopJobRun'],
      resources: [stack.formatArn({ service: 'glue', resource: 'job', resourceName: r.glueJobName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME })],
    })),
    usedBy(['training'], explained(new iam.PolicyStatement({
      actions: [
        'sagemaker:CreateTrainingJob', 'sagemaker:DescribeTrainingJob', 'sagemaker:StopTrainingJob',
        'sagemaker:CreateProcessingJob', 'sagemaker:DescribeProcessingJob', 'sagemaker:StopProcessingJob', 'sagemaker:AddTags',
      ],
      resources: [sagemaker('training-job', `${p}-train-*`), sagemaker('processing-job', `${p}-eval-*`)],
    }), `the DAGs name each run's jobs ${p}-<stage>-<run key> (naming.py), so the name ends in the run key`)),
    usedBy(['training'], explained(new iam.PolicyStatement({
      actions: [
        'sagemaker:CreateModelPackageGroup',
        'sagemaker:CreateModelPackage', 'sagemaker:DescribeModelPackage', 'sagemaker:AddTags',
      ],
      resources: [
        sagemaker('model-package-group', r.modelPackageGroupName),
        sagemaker('model-package', `${r.modelPackageGroupName}/*`),
      ],
    }), `a model package ARN ends in the version number SageMaker assigns within the group ${r.modelPackageGroupName}`)),
    // The deployment only reads the package it deploys (a role of both DAGs has this from the statement above).
    oneDagOnly(usedBy(['deployment'], explained(new iam.PolicyStatement({
      actions: ['sagemaker:DescribeModelPackage'],
      resources: [sagemaker('model-package', `${r.modelPackageGroupName}/*`)],
    }), `a model package ARN ends in the version number SageMaker assigns within the group ${r.modelPackageGroupName}`))),
    // ListModelPackages has no resource-level permissions; the DAGs always filter by the group.
    usedBy(['deployment'], new iam.PolicyStatement({ actions: ['sagemaker:ListModelPackages'], resources: ['*'] })),
    new iam.PolicyStatement({
      actions: ['iam:PassRole'],
      resources: [r.sagemakerRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
    }),
    usedBy(['training'], new iam.PolicyStatement({
      actions: ['ecr:DescribeRepositories', 'ecr:DescribeImages'],
      resources: [r.imageRepository.repositoryArn],
    })),
    // The quality gate reads the evaluation report; the training operator checks its input splits exist (HeadObject).
    usedBy(['training'], explained(new iam.PolicyStatement({
      actions: ['s3:GetObject'],
      resources: [r.dataBucket.arnForObjects(`${r.processedPrefix}*`), r.dataBucket.arnForObjects(`${r.artifactsPrefix}*`)],
    }), 'each run writes its splits, model and evaluation report under keys named by the run, below this pipeline\'s prefixes')),
    // ... and that the bucket exists (HeadBucket), which S3 authorizes as s3:ListBucket with no prefix: the role may
    // list the data bucket's key names (not read other pipelines' objects).
    usedBy(['training'], new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [r.dataBucket.bucketArn] })),
    // Reading the report (SSE-KMS); SageMaker checks the key of the volumes and outputs a create call names.
    new iam.PolicyStatement({
      actions: ['kms:Decrypt', 'kms:DescribeKey'],
      resources: [r.encryptionKey.keyArn],
    }),
    new iam.PolicyStatement({
      actions: ['kms:CreateGrant'],
      resources: [r.encryptionKey.keyArn],
      conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    }),
  ];
  if (r.dataBucket.encryptionKey && r.dataBucket.encryptionKey !== r.encryptionKey) {
    statements.push(new iam.PolicyStatement({ actions: ['kms:Decrypt'], resources: [r.dataBucket.encryptionKey.keyArn] }));
  }
  if (r.endpointName) {
    statements.push(usedBy(['deployment'], explained(new iam.PolicyStatement({
      actions: [
        'sagemaker:CreateModel', 'sagemaker:DescribeModel',
        'sagemaker:CreateEndpointConfig', 'sagemaker:DescribeEndpointConfig',
        'sagemaker:CreateEndpoint', 'sagemaker:UpdateEndpoint', 'sagemaker:DescribeEndpoint', 'sagemaker:AddTags',
      ],
      resources: [
        sagemaker('model', `${p}-model-*`),
        sagemaker('endpoint-config', `${p}-config-*`),
        // SageMaker ARNs carry names in lower case.
        sagemaker('endpoint', r.endpointName.toLowerCase()),
      ],
    }), `the deployment DAG names each package's model and endpoint config ${p}-model-<run key> and ${p}-config-<run key>`)));
  }
  if (r.rollbackAlarms.length > 0) {
    statements.push(usedBy(['deployment'], new iam.PolicyStatement({
      actions: ['cloudwatch:DescribeAlarms'],
      resources: r.rollbackAlarms.map((alarm) => alarm.alarmArn),
    })));
  }
  if (r.stages) statements.push(...stageStatements(r, r.stages, sagemaker));
  if (r.drift && r.endpointName) statements.push(...driftStatements(r, r.endpointName, r.drift.capturePrefix, sagemaker));
  if (r.topic) {
    statements.push(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [r.topic.topicArn] }));
    if (r.topic.masterKey) {
      statements.push(new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [r.topic.masterKey.keyArn],
      }));
    }
  }
  return statements;
}

/**
 * What a deployment run with stages does in the pipeline's account: assume each stage's deploy role, read the package's
 * test split for the stage checks, and move the package through the registry's lifecycle stages, only to the statuses
 * the runs set (`sagemaker:ModelLifeCycle:stage` and `:stageStatus`,
 * https://docs.aws.amazon.com/sagemaker/latest/dg/model-registry-staging-construct-set-up.html).
 */
function stageStatements(r: DagResources, stages: ResolvedStage[], sagemaker: ReturnType<typeof sagemakerArns>): iam.PolicyStatement[] {
  const packages = sagemaker('model-package', `${r.modelPackageGroupName}/*`);
  const statements = [
    usedBy(['deployment'], new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: stages.map((s) => s.deployRoleArn) })),
    ...[...statusesSetByRuns(stages)].map(([stage, statuses]) => usedBy(['deployment'], explained(new iam.PolicyStatement({
      actions: ['sagemaker:UpdateModelPackage'],
      resources: [packages],
      conditions: { StringEquals: { 'sagemaker:ModelLifeCycle:stage': stage, 'sagemaker:ModelLifeCycle:stageStatus': statuses } },
    }), `a model package ARN ends in the version number SageMaker assigns within the group ${r.modelPackageGroupName}`))),
    // A role of both DAGs reads the splits and lists the bucket through the training statements above.
    oneDagOnly(usedBy(['deployment'], explained(new iam.PolicyStatement({
      actions: ['s3:GetObject'],
      resources: [r.dataBucket.arnForObjects(`${r.processedPrefix}*`)],
    }), 'the stage checks read held-out rows of the test split the package\'s training run wrote below this pipeline\'s prefix'))),
    oneDagOnly(usedBy(['deployment'], new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [r.dataBucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': `${r.processedPrefix}*` } },
    }))),
  ];
  return statements;
}

/**
 * What drift detection adds: the training DAG's baseline job and its cool-down check, and the drift DAG, which reads
 * what is deployed on the endpoint (endpoint → config → model → package) and runs the check as a processing job.
 */
function driftStatements(
  r: DagResources, endpointName: string, capturePrefix: string, sagemaker: ReturnType<typeof sagemakerArns>,
): iam.PolicyStatement[] {
  const p = r.pipelineName;
  const jobActions = ['sagemaker:CreateProcessingJob', 'sagemaker:DescribeProcessingJob', 'sagemaker:StopProcessingJob', 'sagemaker:AddTags'];
  const runKey = `the DAGs name each run's jobs ${p}-<stage>-<run key> (naming.py), so the name ends in the run key`;
  return [
    usedBy(['training'], explained(new iam.PolicyStatement({
      actions: jobActions, resources: [sagemaker('processing-job', `${p}-base-*`)],
    }), runKey)),
    // The cool-down looks for a recent training job of the pipeline; ListTrainingJobs has no resource-level permissions.
    usedBy(['training'], new iam.PolicyStatement({ actions: ['sagemaker:ListTrainingJobs'], resources: ['*'] })),
    usedBy(['drift'], explained(new iam.PolicyStatement({
      actions: jobActions, resources: [sagemaker('processing-job', `${p}-drift-*`)],
    }), runKey)),
    usedBy(['drift'], explained(new iam.PolicyStatement({
      actions: ['sagemaker:DescribeEndpoint', 'sagemaker:DescribeEndpointConfig', 'sagemaker:DescribeModel', 'sagemaker:DescribeModelPackage'],
      resources: [
        sagemaker('endpoint', endpointName.toLowerCase()),
        sagemaker('endpoint-config', `${p}-config-*`),
        sagemaker('model', `${p}-model-*`),
        sagemaker('model-package', `${r.modelPackageGroupName}/*`),
      ],
    }), `the deployment DAG names each package's model and endpoint config ${p}-model-<run key> and ${p}-config-<run key>`)),
    // Whether the endpoint captured anything yet (a processing job fails on an empty S3 input).
    usedBy(['drift'], new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [r.dataBucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': `${capturePrefix}*` } },
    })),
  ];
}
