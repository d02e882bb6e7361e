import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { churnWorkflow, dagConfig, render, rendered, roleStatements, workflowStack } from './util';
import {
  AirflowEnvironment, AirflowVersion, DeploymentStage, EndpointDeployment, ModelWorkflow, PromotionGate, PromotionTarget,
} from '../../src';
import { nagFindings } from '../nag';

const PRODUCTION = '210987654321';
const STAGES: DeploymentStage[] = [
  { name: 'dev', gate: PromotionGate.AUTOMATIC, deployment: EndpointDeployment.serverless() },
  { name: 'staging', account: '222222222222', checks: { sampleRows: 50, maxErrorRate: 0.01, maxAverageLatency: Duration.millis(250) } },
  { name: 'prod', account: PRODUCTION, region: 'eu-west-1' },
];
const PACKAGES = 'arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:model-package/churn-models/*';

/** The pipeline stack has an account of its own, so the stage accounts compare with it. */
function stagedWorkflow(stages: DeploymentStage[] = STAGES) {
  const parts = workflowStack();
  const workflow = churnWorkflow(parts, { stages });
  return { parts, workflow, t: Template.fromStack(parts.stack) };
}

describe('ModelWorkflow with stages', () => {
  const { parts, workflow, t } = stagedWorkflow();

  test('the config has a stages section, in order, with the names both accounts derive, and no deployment section', () => {
    const config = dagConfig(parts.app, parts.stack, 'churn');
    expect(config.deployment).toBeUndefined();
    expect(config.stages.map((s: any) => s.name)).toEqual(['dev', 'staging', 'prod']);
    const [dev, staging, prod] = config.stages;
    expect(dev).toEqual({
      name: 'dev',
      account: '<AWS::AccountId>',
      region: '<AWS::Region>',
      role_arn: 'arn:<AWS::Partition>:iam::<AWS::AccountId>:role/mlops-churn--dev-deploy',
      model_role_arn: 'arn:<AWS::Partition>:iam::<AWS::AccountId>:role/mlops-churn--dev-model',
      kms_key_id: 'arn:<AWS::Partition>:kms:<AWS::Region>:<AWS::AccountId>:alias/mlops-churn--dev',
      gate: 'automatic',
      checks: { sample_rows: 20, max_error_rate: 0, max_latency_ms: 1000 },
      deployment: { mode: 'serverless', endpoint_name: 'churn--dev', serverless_memory_mb: 2048, serverless_max_concurrency: 5 },
    });
    expect(staging).toMatchObject({
      account: '222222222222',
      role_arn: 'arn:<AWS::Partition>:iam::222222222222:role/mlops-churn--staging-deploy',
      gate: 'manual',
      checks: { sample_rows: 50, max_error_rate: 0.01, max_latency_ms: 250 },
      deployment: { mode: 'real_time', endpoint_name: 'churn--staging', rollback_alarm_names: ['churn--staging-invocation-5xx', 'churn--staging-model-latency'] },
    });
    expect(prod.gate).toBeUndefined();
    expect(prod).toMatchObject({ account: PRODUCTION, region: 'eu-west-1', kms_key_id: `arn:<AWS::Partition>:kms:eu-west-1:${PRODUCTION}:alias/mlops-churn--prod` });
  });

  test('no single endpoint: no endpoint name, no pipeline-level rollback alarms or clean-up; one stage target, for the local stage', () => {
    expect(workflow.endpointName).toBeUndefined();
    expect(workflow.rollbackAlarms).toEqual([]);
    expect(workflow.stageNames).toEqual(['dev', 'staging', 'prod']);
    expect(workflow.stageTargets.map((target) => target.stageName)).toEqual(['dev']);
    expect(Object.keys(t.findResources('Custom::CdkMwaaMlopsEndpointCleanup'))).toHaveLength(1);
    t.hasResourceProperties('Custom::CdkMwaaMlopsEndpointCleanup', { EndpointName: 'churn--dev' });
    expect(() => workflow.grantInvokeEndpoint(new iam.Role(parts.stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() })))
      .toThrow(/deploys to stages; call grantInvokeEndpoint on the stage's PromotionTarget/);
  });

  test('the local stage\'s deploy role trusts exactly the execution role, and the environment goes before the stage target on delete', () => {
    const deployRole = Object.values(t.findResources('AWS::IAM::Role')).find((r) => r.Properties.RoleName === 'mlops-churn--dev-deploy')!;
    const trust = rendered(deployRole.Properties.AssumeRolePolicyDocument.Statement);
    expect(JSON.stringify(trust)).toContain('<AirflowExecutionRole');
    const environment = Object.values(t.findResources('AWS::MWAA::Environment'))[0];
    expect((environment.DependsOn as string[]).some((id) => id.startsWith('ChurnStagedev'))).toBe(true);
  });

  test('the execution role assumes exactly the stages\' deploy roles and moves packages only to the statuses its runs set', () => {
    const statements = rendered(roleStatements(t, 'AirflowExecutionRole'));
    expect(statements.filter((s) => s.actions.includes('sts:AssumeRole'))).toEqual([{
      actions: ['sts:AssumeRole'],
      resources: [
        'arn:<AWS::Partition>:iam::<AWS::AccountId>:role/mlops-churn--dev-deploy',
        'arn:<AWS::Partition>:iam::222222222222:role/mlops-churn--staging-deploy',
        `arn:<AWS::Partition>:iam::${PRODUCTION}:role/mlops-churn--prod-deploy`,
      ],
    }]);
    const updates = statements.filter((s) => s.actions.includes('sagemaker:UpdateModelPackage'));
    const lifecycle = (stage: string, statuses: string[]) => ({
      actions: ['sagemaker:UpdateModelPackage'],
      resources: [PACKAGES],
      conditions: { StringEquals: { 'sagemaker:ModelLifeCycle:stage': stage, 'sagemaker:ModelLifeCycle:stageStatus': statuses } },
    });
    // dev's gate is automatic (staging Approved), staging's manual (prod PendingApproval); the last is Deployed.
    expect(updates).toEqual([
      lifecycle('dev', ['Rejected']),
      lifecycle('staging', ['Rejected', 'Approved']),
      lifecycle('prod', ['Rejected', 'PendingApproval', 'Deployed']),
    ]);
    expect(statements.some((s) => s.actions.some((a: string) => /^sagemaker:(Create|Update)Endpoint/.test(a)))).toBe(false);
  });

  test('the model package group\'s policy names exactly the other accounts, and within them only the stages\' deploy roles', () => {
    const group = Object.values(t.findResources('AWS::SageMaker::ModelPackageGroup'))[0];
    const statements = group.Properties.ModelPackageGroupPolicy.Statement;
    for (const statement of statements) {
      expect(statement.Principal.AWS.map((p: any) => render(p)).sort()).toEqual([
        'arn:<AWS::Partition>:iam::210987654321:root', 'arn:<AWS::Partition>:iam::222222222222:root',
      ]);
      expect(statement.Condition.ArnEquals['aws:PrincipalArn'].map(render)).toEqual([
        'arn:<AWS::Partition>:iam::222222222222:role/mlops-churn--staging-deploy',
        `arn:<AWS::Partition>:iam::${PRODUCTION}:role/mlops-churn--prod-deploy`,
      ]);
    }
    expect(statements.map((s: any) => s.Action)).toEqual([
      'sagemaker:DescribeModelPackageGroup',
      ['sagemaker:DescribeModelPackage', 'sagemaker:ListModelPackages', 'sagemaker:CreateModel'],
    ]);
  });

  test('the bucket, the key and the image repository let only the other accounts\' stage model roles read the model', () => {
    const modelRoles = ['arn:<AWS::Partition>:iam::222222222222:role/mlops-churn--staging-model', `arn:<AWS::Partition>:iam::${PRODUCTION}:role/mlops-churn--prod-model`];
    const shared = (type: string, sid: string, field: string) => Object.values(t.findResources(type))
      .flatMap((r) => r.Properties[field]?.Statement ?? []).filter((s: any) => s.Sid === sid);
    const [artifacts] = shared('AWS::S3::BucketPolicy', 'StageAccountsReadModelArtifacts', 'PolicyDocument');
    expect(artifacts.Action).toBe('s3:GetObject');
    expect(render(artifacts.Resource)).toMatch(/^<ChurnDataBucket.*\.Arn>\/artifacts\/churn\/\*$/);
    expect(artifacts.Condition.ArnEquals['aws:PrincipalArn'].map(render)).toEqual(modelRoles);
    const [key] = shared('AWS::KMS::Key', 'StageAccountsDecryptModelArtifacts', 'KeyPolicy');
    expect(key.Action).toEqual(['kms:Decrypt', 'kms:DescribeKey']);
    expect(render(key.Condition.StringEquals['kms:ViaService'])).toBe('s3.<AWS::Region>.amazonaws.com');
    expect(key.Condition.ArnEquals['aws:PrincipalArn'].map(render)).toEqual(modelRoles);
    for (const statement of [artifacts, key]) expect(statement.Principal.AWS.map(render)).toHaveLength(2);
  });

  test('the other stages are announced with what to deploy in their accounts', () => {
    const info = Annotations.fromStack(parts.stack).findInfo('*', Match.stringLikeRegexp('Stage staging deploys in account 222222222222'));
    expect(info).toHaveLength(1);
    expect(info[0].entry.data).toMatch(/deploy a PromotionTarget \(pipelineName 'churn', stageName 'staging'\)/);
  });

  test('grantPromote lets a principal set the lifecycle of this group\'s packages for that stage only', () => {
    const own = workflowStack();
    const staged = churnWorkflow(own, { stages: STAGES });
    const promoter = new iam.Role(own.stack, 'Promoter', { assumedBy: new iam.AccountRootPrincipal() });
    staged.grantPromote(promoter, 'prod');
    expect(rendered(roleStatements(Template.fromStack(own.stack), 'Promoter'))).toEqual([
      { actions: ['sagemaker:DescribeModelPackage'], resources: [PACKAGES] },
      { actions: ['sagemaker:UpdateModelPackage'], resources: [PACKAGES], conditions: { StringEquals: { 'sagemaker:ModelLifeCycle:stage': 'prod' } } },
    ]);
    expect(() => staged.grantPromote(promoter, 'qa')).toThrow("grantPromote: 'qa' is not a stage of pipeline churn (its stages: dev, staging, prod)");
  });

  test('cdk-nag finds nothing unexplained', () => {
    expect(nagFindings(parts.stack)).toEqual([]);
  });
});

describe('ModelWorkflow stages: errors name the prop', () => {
  const cases: Array<[string, Partial<Parameters<typeof churnWorkflow>[1]>, string | RegExp]> = [
    ['no stage', { stages: [] }, 'stages: 0 stages are not allowed; give 1 to 5'],
    ['six stages', { stages: ['a', 'b', 'c', 'd', 'e', 'f'].map((name) => ({ name })) }, 'stages: 6 stages are not allowed; give 1 to 5'],
    ['a name twice', { stages: [{ name: 'dev' }, { name: 'dev' }] }, "stages[1].name: 'dev' is used by an earlier stage"],
    ['an upper-case name', { stages: [{ name: 'Prod' }] }, /^stages\[0\]\.name: 'Prod' is not allowed; use lowercase letters/],
    ['a long name', { stages: [{ name: 'preproduction' }] }, /^stages\[0\]\.name: 'preproduction' is not allowed.*at most 12 characters/],
    ['a gate on the last stage', { stages: [{ name: 'dev', gate: PromotionGate.AUTOMATIC }] }, /^stages\[0\]\.gate: 'dev' is the last stage/],
    ['an ill-formed account', { stages: [{ name: 'dev', account: '1234' }] }, "stages[0].account: '1234' is not allowed; use a literal 12-digit AWS account id"],
    ['a region that is not one', { stages: [{ name: 'dev', region: 'europe' }] }, "stages[0].region: 'europe' is not allowed"],
    ['no endpoint', { stages: [{ name: 'dev', deployment: EndpointDeployment.none() }] }, /^stages\[0\]\.deployment: EndpointDeployment.none\(\) is not allowed for stage 'dev'/],
    ['too many rows', { stages: [{ name: 'dev', checks: { sampleRows: 1001 } }] }, 'stages[0].checks.sampleRows: 1001 is not allowed; use a whole number from 1 to 1000'],
    ['an error rate above 1', { stages: [{ name: 'dev', checks: { maxErrorRate: 1.5 } }] }, 'stages[0].checks.maxErrorRate: 1.5 is not allowed; use a number from 0 to 1'],
    ['a latency over a minute', { stages: [{ name: 'dev', checks: { maxAverageLatency: Duration.minutes(2) } }] }, 'stages[0].checks.maxAverageLatency: 120000 ms is not allowed'],
    ['stages and deployment', { stages: [{ name: 'dev' }], deployment: EndpointDeployment.serverless() }, /^deployment: pipeline churn has stages/],
    ['stages and endpointName', { stages: [{ name: 'dev' }], endpointName: 'x' }, /^endpointName: pipeline churn has stages/],
  ];
  test.each(cases)('%s', (_what, props, message) => {
    expect(() => churnWorkflow(workflowStack(), props)).toThrow(message);
  });

  test('an imported environment without its execution role: the stage roles could not trust it', () => {
    const parts = workflowStack();
    const imported = AirflowEnvironment.fromEnvironmentAttributes(parts.stack, 'Imported', {
      environmentName: 'shared', airflowVersion: AirflowVersion.V3_3_1, sourceBucket: s3.Bucket.fromBucketName(parts.stack, 'Src', 'mwaa-src'),
    });
    expect(() => churnWorkflow({ ...parts, environment: imported as unknown as AirflowEnvironment }, { stages: [{ name: 'dev' }] }))
      .toThrow(/^stages: the execution role of environment shared is unknown to this app/);
  });
});

test('without stages the template has no promotion resources (the integ snapshots hold the rest)', () => {
  const parts = workflowStack();
  churnWorkflow(parts);
  const t = Template.fromStack(parts.stack);
  expect(JSON.stringify(t.toJSON())).not.toMatch(/ModelLifeCycle|mlops-churn--/);
  expect(JSON.stringify(t.findResources('AWS::IAM::Policy'))).not.toContain('sts:AssumeRole');
  expect(Object.values(t.findResources('AWS::SageMaker::ModelPackageGroup'))[0].Properties.ModelPackageGroupPolicy).toBeUndefined();
});

test('a stage in another account of the same app trusts the generated name of the pipeline\'s execution role', () => {
  const app = new App();
  const pipelineStack = new Stack(app, 'Pipeline', { env: { account: '111111111111', region: 'eu-west-1' } });
  const environment = new AirflowEnvironment(pipelineStack, 'Airflow', { airflowVersion: AirflowVersion.V3_3_1 });
  const workflow = new ModelWorkflow(pipelineStack, 'Churn', {
    environment,
    pipelineName: 'churn',
    imageRepository: new ecr.Repository(pipelineStack, 'Images'),
    preprocessingCode: { bucket: s3.Bucket.fromBucketName(pipelineStack, 'Code', 'ml-code'), prefix: 'preprocessing/' },
    stages: [{ name: 'prod', account: PRODUCTION }],
  });
  const targetStack = new Stack(app, 'Prod', { env: { account: PRODUCTION, region: 'eu-west-1' } });
  new PromotionTarget(targetStack, 'Prod', { pipelineName: 'churn', stageName: 'prod', pipelineAccount: '111111111111', pipelineRoles: workflow.deploymentRunRoles });
  const trust = JSON.stringify(Template.fromStack(targetStack).toJSON());
  const roleName = Template.fromStack(pipelineStack).findResources('AWS::IAM::Role', { Properties: { RoleName: Match.anyValue() } });
  const executionRoleName = Object.entries(roleName).find(([id]) => id.startsWith('AirflowExecutionRole'))![1].Properties.RoleName;
  expect(executionRoleName).toMatch(/^[a-z0-9]+$/i);
  expect(trust).toContain(`:iam::111111111111:role/${executionRoleName}`);
});
