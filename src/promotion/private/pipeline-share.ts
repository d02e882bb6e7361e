import { Annotations, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { remoteAccounts, ResolvedStage } from './pipeline-stages';
import { sagemakerArns } from '../../ml/private/sagemaker-arn';
import { PromotionTarget } from '../promotion-target';

export interface LocalStageTargetOptions {
  readonly pipelineName: string;
  readonly stages: ResolvedStage[];
  readonly runRoles: iam.IRole[];
  readonly modelPackageGroupName: string;
  readonly artifactsPrefix: string;
  readonly endpointRemovalPolicy?: RemovalPolicy;
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: logs.RetentionDays;
}

/** The PromotionTarget of each stage in the pipeline's own account and region (the others are the user's, in their accounts). */
export function createLocalStageTargets(scope: Construct, options: LocalStageTargetOptions): PromotionTarget[] {
  const targets: PromotionTarget[] = [];
  for (const stage of options.stages) {
    if (!stage.local) {
      Annotations.of(scope).addInfo(
        `Stage ${stage.name} deploys in account ${stage.account}, region ${stage.region}: deploy a PromotionTarget ` +
        `(pipelineName '${options.pipelineName}', stageName '${stage.name}') in a stack of that account and region, ` +
        'trusting deploymentRunRoles, before the first model reaches it');
      continue;
    }
    targets.push(new PromotionTarget(scope, `Stage-${stage.name}`, {
      pipelineName: options.pipelineName,
      stageName: stage.name,
      pipelineAccount: stage.account,
      pipelineRegion: stage.region,
      pipelineRoles: options.runRoles,
      deployment: stage.deployment,
      modelPackageGroupName: options.modelPackageGroupName,
      artifactsPrefix: options.artifactsPrefix,
      endpointRemovalPolicy: options.endpointRemovalPolicy,
      removalPolicy: options.removalPolicy,
      logRetention: options.logRetention,
    }));
  }
  return targets;
}

export interface StageSharing {
  readonly stages: ResolvedStage[];
  readonly modelPackageGroup: sagemaker.CfnModelPackageGroup;
  readonly modelPackageGroupName: string;
  readonly dataBucket: s3.IBucket;
  readonly artifactsPrefix: string;
  readonly encryptionKey: kms.IKey;
  readonly imageRepository: ecr.IRepository;
}

/**
 * Lets the stages in other accounts use the model: each resource policy names exactly those accounts, and within
 * them only the stage roles that need it (by `aws:PrincipalArn`: the roles' names are fixed, so the policy holds
 * before they exist). The deploy roles create models from the group's packages; SageMaker reads the artifacts and
 * pulls the image as the stage's model role. Cross-account model packages:
 * https://docs.aws.amazon.com/sagemaker/latest/dg/model-registry-deploy-xaccount.html
 */
export function shareWithStageAccounts(scope: Construct, sharing: StageSharing): void {
  const accounts = remoteAccounts(scope, sharing.stages);
  if (accounts.size === 0) return;
  const principals = [...accounts.keys()].map((account) => new iam.AccountPrincipal(account));
  const remote = [...accounts.values()].flat();
  const deployRoles = { ArnEquals: { 'aws:PrincipalArn': remote.map((stage) => stage.deployRoleArn) } };
  const modelRoles = { ArnEquals: { 'aws:PrincipalArn': remote.map((stage) => stage.modelRoleArn) } };
  const arn = sagemakerArns(scope);

  const groupPolicy = new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        sid: 'StageAccountsDescribeGroup',
        principals,
        actions: ['sagemaker:DescribeModelPackageGroup'],
        resources: [arn('model-package-group', sharing.modelPackageGroupName)],
        conditions: deployRoles,
      }),
      new iam.PolicyStatement({
        sid: 'StageAccountsDeployPackages',
        principals,
        actions: ['sagemaker:DescribeModelPackage', 'sagemaker:ListModelPackages', 'sagemaker:CreateModel'],
        resources: [arn('model-package', `${sharing.modelPackageGroupName}/*`)],
        conditions: deployRoles,
      }),
    ],
  });
  sharing.modelPackageGroup.modelPackageGroupPolicy = groupPolicy.toJSON();

  const unshared: string[] = [];
  const artifacts = new iam.PolicyStatement({
    sid: 'StageAccountsReadModelArtifacts',
    principals,
    actions: ['s3:GetObject'],
    resources: [sharing.dataBucket.arnForObjects(`${sharing.artifactsPrefix}*`)],
    conditions: modelRoles,
  });
  if (!sharing.dataBucket.addToResourcePolicy(artifacts).statementAdded) unshared.push(`bucket ${sharing.dataBucket.node.path}: ${JSON.stringify(artifacts.toJSON())}`);
  const key = new iam.PolicyStatement({
    sid: 'StageAccountsDecryptModelArtifacts',
    principals,
    actions: ['kms:Decrypt', 'kms:DescribeKey'],
    resources: ['*'],
    conditions: { ...modelRoles, StringEquals: { 'kms:ViaService': `s3.${Stack.of(scope).region}.amazonaws.com` } },
  });
  if (!sharing.encryptionKey.addToResourcePolicy(key).statementAdded) unshared.push(`key ${sharing.encryptionKey.node.path}: ${JSON.stringify(key.toJSON())}`);
  const image = new iam.PolicyStatement({
    sid: 'StageAccountsPullModelImage',
    principals,
    actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
    conditions: modelRoles,
  });
  if (!sharing.imageRepository.addToResourcePolicy(image).statementAdded) unshared.push(`repository ${sharing.imageRepository.node.path}: ${JSON.stringify(image.toJSON())}`);
  if (unshared.length > 0) {
    Annotations.of(scope).addWarningV2('cdk-mwaa-mlops:promotion-unshared',
      `These resources are imported, so their policies cannot be changed here; add these statements yourself, or the stages in accounts ${[...accounts.keys()].join(', ')} cannot use the model: ${unshared.join('; ')}`);
  }
}

