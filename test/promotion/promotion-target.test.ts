import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { EndpointDeployment, PromotionTarget, PromotionTargetProps } from '../../src';
import { render, rendered, roleStatements } from '../ml/util';
import { nagFindings, reasonsNotNamingTheirSubject } from '../nag';

const PIPELINE = '111111111111';
const RUN_ROLE = `arn:aws:iam::${PIPELINE}:role/mwaa-exec`;
const WORKFLOW_ROLE = `arn:aws:iam::${PIPELINE}:role/churn-deployment-workflow`;

function target(props: Partial<PromotionTargetProps> = {}, env: { account?: string; region?: string } = { account: '222222222222', region: 'eu-west-1' }) {
  const stack = new Stack(new App(), 'Prod', { env });
  const pipelineRoles = [iam.Role.fromRoleArn(stack, 'Exec', RUN_ROLE), iam.Role.fromRoleArn(stack, 'Workflow', WORKFLOW_ROLE)];
  const construct = new PromotionTarget(stack, 'Stage', { pipelineName: 'churn', stageName: 'prod', pipelineAccount: PIPELINE, pipelineRoles, ...props });
  return { stack, target: construct, t: Template.fromStack(stack) };
}

function role(t: Template, name: string) {
  return Object.entries(t.findResources('AWS::IAM::Role')).find(([, r]) => r.Properties.RoleName === name)!;
}

describe('PromotionTarget, real-time stage in another account', () => {
  const { stack, target: prod, t } = target({
    deployment: EndpointDeployment.realTime({ rollbackAlarms: { maxModelLatency: Duration.millis(300) } }),
  });

  test('names: the endpoint, the roles, the key alias and the alarms derive from pipeline and stage', () => {
    expect(prod.endpointName).toBe('churn--prod');
    expect(stack.resolve(prod.endpointArn)).toBeDefined();
    expect(role(t, 'mlops-churn--prod-deploy')).toBeDefined();
    expect(role(t, 'mlops-churn--prod-model')).toBeDefined();
    t.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/mlops-churn--prod' });
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'churn--prod-invocation-5xx', MetricName: 'Invocation5XXErrors' });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'churn--prod-model-latency', MetricName: 'ModelLatency', Threshold: 300000 });
    t.hasResourceProperties('Custom::CdkMwaaMlopsEndpointCleanup', { EndpointName: 'churn--prod', PipelineName: 'churn', ResourcePrefix: 'churn--prod-' });
  });

  test('the deploy role trusts the pipeline account only for exactly the pipeline\'s run roles', () => {
    const [, deploy] = role(t, 'mlops-churn--prod-deploy');
    expect(deploy.Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Action: 'sts:AssumeRole',
      Effect: 'Allow',
      Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${PIPELINE}:root`]] } },
      Condition: { ArnEquals: { 'aws:PrincipalArn': [RUN_ROLE, WORKFLOW_ROLE] } },
    }]);
  });

  test('the deploy role reaches only the stage\'s endpoint, the names its runs create, the pipeline\'s packages and its own model role', () => {
    const [deployId] = role(t, 'mlops-churn--prod-deploy');
    const statements = rendered(roleStatements(t, deployId.slice(0, -8)));
    const sagemaker = (resource: string) => `arn:<AWS::Partition>:sagemaker:eu-west-1:222222222222:${resource}`;
    expect(statements).toEqual(expect.arrayContaining([
      {
        actions: ['sagemaker:CreateModel', 'sagemaker:DescribeModel', 'sagemaker:DeleteModel', 'sagemaker:CreateEndpointConfig',
          'sagemaker:DescribeEndpointConfig', 'sagemaker:DeleteEndpointConfig', 'sagemaker:AddTags'],
        resources: [sagemaker('model/churn--prod-model-*'), sagemaker('endpoint-config/churn--prod-config-*')],
      },
      { actions: ['sagemaker:CreateEndpoint', 'sagemaker:UpdateEndpoint'], resources: [sagemaker('endpoint-config/churn--prod-config-*')] },
      {
        actions: ['sagemaker:CreateEndpoint', 'sagemaker:UpdateEndpoint', 'sagemaker:DescribeEndpoint', 'sagemaker:DeleteEndpoint',
          'sagemaker:InvokeEndpoint', 'sagemaker:AddTags'],
        resources: [sagemaker('endpoint/churn--prod')],
      },
      {
        actions: ['sagemaker:DescribeModelPackage'],
        resources: [`arn:<AWS::Partition>:sagemaker:eu-west-1:${PIPELINE}:model-package/churn-models/*`],
      },
    ]));
    const passRole = statements.find((s) => s.actions.includes('iam:PassRole'))!;
    expect(passRole.conditions).toEqual({ StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } });
    expect(passRole.resources.map(render)).toEqual([expect.stringMatching(/^<StageModelRole.*\.Arn>$/)]);
    const alarms = statements.find((s) => s.actions.includes('cloudwatch:DescribeAlarms'))!;
    expect(alarms.resources.map(render)).toHaveLength(2);
    const grant = statements.find((s) => s.actions.includes('kms:CreateGrant'))!;
    expect(grant.conditions).toEqual({ Bool: { 'kms:GrantIsForAWSResource': 'true' } });
    // Nothing beyond the stage's own: no other endpoint, no other account, no wildcard action.
    const everything = JSON.stringify(statements);
    expect(everything).not.toMatch(/sagemaker:\*|endpoint\/\*|:model-package\/\*/);
  });

  test('the model role is SageMaker\'s in this account, reading the model only from the pipeline\'s account and prefix', () => {
    const [modelId, model] = role(t, 'mlops-churn--prod-model');
    expect(model.Properties.AssumeRolePolicyDocument.Statement[0]).toMatchObject({
      Principal: { Service: 'sagemaker.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': '222222222222' } },
    });
    const statements = rendered(roleStatements(t, modelId.slice(0, -8)));
    expect(statements).toEqual(expect.arrayContaining([
      {
        actions: ['s3:GetObject'],
        resources: ['arn:<AWS::Partition>:s3:::*/artifacts/churn/*'],
        conditions: { StringEquals: { 's3:ResourceAccount': PIPELINE } },
      },
      {
        actions: ['kms:Decrypt'],
        resources: [`arn:<AWS::Partition>:kms:eu-west-1:${PIPELINE}:key/*`],
        conditions: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } },
      },
    ]));
  });

  test('grantInvokeEndpoint grants invoking this stage\'s endpoint only', () => {
    const fresh = new Stack(new App(), 'Fresh', { env: { account: '222222222222', region: 'eu-west-1' } });
    const stage = new PromotionTarget(fresh, 'Stage', {
      pipelineName: 'churn', stageName: 'prod', pipelineAccount: PIPELINE, pipelineRoles: [iam.Role.fromRoleArn(fresh, 'Exec', RUN_ROLE)],
    });
    stage.grantInvokeEndpoint(new iam.Role(fresh, 'Caller', { assumedBy: new iam.AccountRootPrincipal() }));
    const statements = rendered(roleStatements(Template.fromStack(fresh), 'Caller'));
    expect(statements).toEqual([{ actions: ['sagemaker:InvokeEndpoint'], resources: ['arn:<AWS::Partition>:sagemaker:eu-west-1:222222222222:endpoint/churn--prod'] }]);
  });
});

describe('PromotionTarget, cdk-nag', () => {
  test.each([
    ['real-time', EndpointDeployment.realTime()],
    ['serverless', EndpointDeployment.serverless()],
  ])('%s: nothing unexplained, and every acknowledgement names its subject', (_kind, deployment) => {
    const { stack } = target({ deployment });
    expect(nagFindings(stack)).toEqual([]);
    expect(reasonsNotNamingTheirSubject(stack)).toEqual([]);
  });

  test('a serverless stage has no storage key and no rollback alarms', () => {
    const { target: dev, t } = target({ deployment: EndpointDeployment.serverless(), stageName: 'dev' });
    expect(dev.encryptionKey).toBeUndefined();
    expect(dev.rollbackAlarms).toEqual([]);
    t.resourceCountIs('AWS::KMS::Key', 0);
    t.resourceCountIs('AWS::CloudWatch::Alarm', 0);
  });
});

describe('PromotionTarget errors name the prop', () => {
  const cases: Array<[string, Partial<PromotionTargetProps>, RegExp]> = [
    ['a pipeline name with upper case', { pipelineName: 'Churn' }, /^pipelineName: 'Churn' is not allowed/],
    ['a stage name with a double hyphen', { stageName: 'pre--prod' }, /^stageName: 'pre--prod' is not allowed/],
    ['a long stage name', { stageName: 'preproduction1' }, /^stageName: 'preproduction1' is not allowed/],
    ['an account that is not 12 digits', { pipelineAccount: '1234' }, /^pipelineAccount: '1234' is not allowed/],
    ['a region that is not one', { pipelineRegion: 'europe' }, /^pipelineRegion: 'europe' is not allowed/],
    ['no run roles', { pipelineRoles: [] }, /^pipelineRoles: give the roles of the pipeline's deployment runs/],
    ['no endpoint', { deployment: EndpointDeployment.none() }, /^deployment: EndpointDeployment.none\(\) is not allowed for stage 'prod'/],
  ];
  test.each(cases)('%s', (_what, props, message) => {
    expect(() => target(props)).toThrow(message);
  });

  test('an environment-agnostic stack: the pipeline account may be the stack\'s own account token, not another token', () => {
    const stack = new Stack(new App(), 'Agnostic');
    const pipelineRoles = [iam.Role.fromRoleArn(stack, 'Exec', RUN_ROLE)];
    expect(() => new PromotionTarget(stack, 'Own', { pipelineName: 'churn', stageName: 'dev', pipelineAccount: stack.account, pipelineRoles })).not.toThrow();
    expect(() => new PromotionTarget(stack, 'Other', { pipelineName: 'churn', stageName: 'qa', pipelineAccount: stack.partition, pipelineRoles }))
      .toThrow(/^pipelineAccount: .* is not allowed/);
  });
});
