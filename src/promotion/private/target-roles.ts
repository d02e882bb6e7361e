import { ArnFormat, Aws, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { STAGE_NAME, STAGE_NAME_MAX, stageDeployRoleName } from './stage-names';
import { sagemakerArns } from '../../ml/private/sagemaker-arn';
import { validatePipelineName } from '../../ml/private/validate';
import { addUnscopedPolicy, addWildcardStatement } from '../../private/nag-ids';

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

/** Where the pipeline keeps what a stage deploys (its account holds the registry, bucket, key and repository). */
export interface PipelineSide {
  readonly account: string;
  readonly region: string;
  readonly modelPackageGroupName: string;
  readonly artifactsPrefix: string;
}

export interface TargetPropsToValidate {
  readonly pipelineName: string;
  readonly stageName: string;
  readonly pipelineAccount: string;
  readonly pipelineRegion?: string;
  readonly pipelineRoles: iam.IRole[];
}

/** Each error names the prop, the value and what is allowed. */
export function validateTargetProps(stack: Stack, props: TargetPropsToValidate): void {
  validatePipelineName(props.pipelineName);
  if (Token.isUnresolved(props.stageName) || !STAGE_NAME.test(props.stageName) || props.stageName.length > STAGE_NAME_MAX) {
    throw new Error(`stageName: '${props.stageName}' is not allowed; use the pipeline's name for the stage (lowercase letters, digits and single hyphens, starting with a letter, at most ${STAGE_NAME_MAX} characters)`);
  }
  const ownAccount = Token.isUnresolved(props.pipelineAccount) && props.pipelineAccount === stack.account;
  if (!ownAccount && (Token.isUnresolved(props.pipelineAccount) || !ACCOUNT.test(props.pipelineAccount))) {
    throw new Error(`pipelineAccount: '${props.pipelineAccount}' is not allowed; use the pipeline's literal 12-digit account id (or this stack's own account, for a stage in the pipeline's account)`);
  }
  const region = props.pipelineRegion;
  const ownRegion = region !== undefined && Token.isUnresolved(region) && region === stack.region;
  if (region !== undefined && !ownRegion && (Token.isUnresolved(region) || !REGION.test(region))) {
    throw new Error(`pipelineRegion: '${region}' is not allowed; use a literal region name such as 'eu-west-1' (or leave it out for this stack's region)`);
  }
  if (props.pipelineRoles.length === 0) {
    throw new Error('pipelineRoles: give the roles of the pipeline\'s deployment runs (ModelWorkflow.deploymentRunRoles); the deploy role trusts exactly these');
  }
}

export interface StageModelRoleOptions {
  readonly roleName: string;
  readonly pipelineName: string;
  readonly stageName: string;
  readonly endpointName: string;
  readonly pipeline: PipelineSide;
}

/**
 * The role SageMaker runs the stage's models as: it reads the model from the pipeline's artifacts prefix (through
 * S3, with the pipeline's key) and pulls the image from the pipeline's repository. The pipeline's bucket, key and
 * repository name the role in their policies (pipeline-share.ts); here the grants are bounded by the pipeline's
 * account and artifacts prefix, as the names of the pipeline's resources are not known on this side.
 */
export function createStageModelRole(scope: Construct, options: StageModelRoleOptions): iam.Role {
  const stack = Stack.of(scope);
  const { account, region, artifactsPrefix } = options.pipeline;
  const role = new iam.Role(scope, 'ModelRole', {
    roleName: options.roleName,
    description: `SageMaker runs the models of pipeline ${options.pipelineName}, stage ${options.stageName} as this role`,
    assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
  });
  addWildcardStatement(role, new iam.PolicyStatement({
    actions: ['s3:GetObject'],
    resources: [`arn:${Aws.PARTITION}:s3:::*/${artifactsPrefix}*`],
    conditions: { StringEquals: { 's3:ResourceAccount': account } },
  }), `the model of each run is written below the pipeline's artifacts prefix, in a bucket of account ${account} whose policy names this role.`);
  addWildcardStatement(role, new iam.PolicyStatement({
    actions: ['kms:Decrypt'],
    resources: [`arn:${Aws.PARTITION}:kms:${region}:${account}:key/*`],
    conditions: { StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` } },
  }), `the pipeline's key (in account ${account}, whose policy names this role) decrypts the model artifacts, through S3 only.`);
  addWildcardStatement(role, new iam.PolicyStatement({
    actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
    resources: [`arn:${Aws.PARTITION}:ecr:${region}:${account}:repository/*`],
  }), `the pipeline's image repository in account ${account} names this role in its policy; its name is the pipeline's to choose.`);
  addWildcardStatement(role, new iam.PolicyStatement({
    actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
    resources: [stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: `/aws/sagemaker/Endpoints/${options.endpointName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
  }), 'SageMaker names one log stream per endpoint instance in the endpoint\'s group.');
  addUnscopedPolicy(scope, 'ModelRoleUnscopedPolicy', role, [
    new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }),
    new iam.PolicyStatement({
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringLike: { 'cloudwatch:namespace': ['/aws/sagemaker/*'] } },
    }),
  ], 'neither has resource-level permissions: the registry token only authenticates (pulls are limited to the pipeline\'s account), and metrics are limited to the /aws/sagemaker/ namespaces.');
  return role;
}

export interface StageDeployRoleOptions {
  readonly pipelineName: string;
  readonly stageName: string;
  readonly endpointName: string;
  readonly resourcePrefix: string;
  readonly pipeline: PipelineSide;
  readonly pipelineRoles: iam.IRole[];
  readonly modelRole: iam.IRole;
  readonly storageKey?: kms.IKey;
  readonly rollbackAlarms: cloudwatch.IAlarm[];
}

/**
 * The role the pipeline's deployment runs assume in the stage's account. Its trust names the pipeline's account and,
 * by `aws:PrincipalArn`, exactly the run roles: unlike a role ARN as principal, that trust can be created before those
 * roles exist and survives their re-creation (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn).
 */
export function createStageDeployRole(scope: Construct, options: StageDeployRoleOptions): iam.Role {
  const prefix = options.resourcePrefix;
  const role = new iam.Role(scope, 'DeployRole', {
    roleName: stageDeployRoleName(options.pipelineName, options.stageName),
    description: `The deployment runs of pipeline ${options.pipelineName} deploy to stage ${options.stageName} as this role`,
    assumedBy: new iam.AccountPrincipal(options.pipeline.account).withConditions({
      ArnEquals: { 'aws:PrincipalArn': options.pipelineRoles.map((r) => r.roleArn) },
    }),
  });
  const sagemaker = sagemakerArns(scope);
  addWildcardStatement(role, new iam.PolicyStatement({
    actions: [
      'sagemaker:CreateModel', 'sagemaker:DescribeModel', 'sagemaker:DeleteModel',
      'sagemaker:CreateEndpointConfig', 'sagemaker:DescribeEndpointConfig', 'sagemaker:DeleteEndpointConfig',
      'sagemaker:AddTags',
    ],
    resources: [sagemaker('model', `${prefix}model-*`), sagemaker('endpoint-config', `${prefix}config-*`)],
  }), `the deployment runs name each package's model and endpoint config ${prefix}model-<run key> and ${prefix}config-<run key>.`);
  // CreateEndpoint and UpdateEndpoint are authorized on the endpoint config they name as well as on the endpoint
  // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html).
  addWildcardStatement(role, new iam.PolicyStatement({
    actions: ['sagemaker:CreateEndpoint', 'sagemaker:UpdateEndpoint'],
    resources: [sagemaker('endpoint-config', `${prefix}config-*`)],
  }), `the deployment runs name each endpoint config ${prefix}config-<run key>, and an endpoint update names the config it serves.`);
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: [
      'sagemaker:CreateEndpoint', 'sagemaker:UpdateEndpoint', 'sagemaker:DescribeEndpoint', 'sagemaker:DeleteEndpoint',
      'sagemaker:InvokeEndpoint', 'sagemaker:AddTags',
    ],
    // SageMaker ARNs carry names in lower case.
    resources: [sagemaker('endpoint', options.endpointName.toLowerCase())],
  }));
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['iam:PassRole'],
    resources: [options.modelRole.roleArn],
    conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
  }));
  const { account, region, modelPackageGroupName } = options.pipeline;
  addWildcardStatement(role, new iam.PolicyStatement({
    actions: ['sagemaker:DescribeModelPackage'],
    resources: [`arn:${Aws.PARTITION}:sagemaker:${region}:${account}:model-package/${modelPackageGroupName}/*`],
  }), `a model package ARN of group ${modelPackageGroupName} ends in the version number SageMaker assigns.`);
  if (options.rollbackAlarms.length > 0) {
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['cloudwatch:DescribeAlarms'],
      resources: options.rollbackAlarms.map((alarm) => alarm.alarmArn),
    }));
  }
  if (options.storageKey) {
    // SageMaker encrypts the endpoint's volumes through a grant the caller of CreateEndpoint makes.
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['kms:DescribeKey'], resources: [options.storageKey.keyArn] }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['kms:CreateGrant'],
      resources: [options.storageKey.keyArn],
      conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    }));
  }
  return role;
}
