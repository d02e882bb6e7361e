import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { EndpointDeployment, MwaaMlopsPipeline, Orchestration, PromotionGate } from '../src';
import { nagFindings } from './nag';

const STAGES = [
  { name: 'dev', deployment: EndpointDeployment.serverless(), gate: PromotionGate.AUTOMATIC },
  { name: 'prod', account: '210987654321' },
];

/** The rules of the trigger whose pattern names a model package lifecycle, with the target's input. */
function stageRules(t: Template) {
  return Object.values(t.findResources('AWS::Events::Rule'))
    .filter((rule) => rule.Properties.EventPattern?.detail?.ModelLifeCycle)
    .map((rule) => ({ pattern: rule.Properties.EventPattern, input: rule.Properties.Targets[0].InputTransformer.InputTemplate as string }));
}

describe.each([
  ['on an MWAA environment', {}],
  ['on MWAA Serverless', { orchestration: Orchestration.serverless() }],
])('MwaaMlopsPipeline with stages %s', (_mode, props) => {
  const app = new App();
  const stack = new Stack(app, 'Staged', { env: { account: '123456789012', region: 'eu-west-1' } });
  const pipeline = new MwaaMlopsPipeline(stack, 'Churn', { ...props, workflow: { stages: STAGES } });
  const t = Template.fromStack(stack);

  test('a lifecycle approval for any of its stages starts the deployment, besides the registry approval', () => {
    const [rule, ...others] = stageRules(t);
    expect(others).toEqual([]);
    expect(rule.pattern).toEqual({
      'source': ['aws.sagemaker'],
      'detail-type': ['SageMaker Model Package State Change'],
      'detail': {
        ModelPackageGroupName: ['churn-models'],
        // Only an approved package moves through the stages.
        ModelApprovalStatus: ['Approved'],
        ModelLifeCycle: { Stage: ['dev', 'prod'], StageStatus: ['Approved'] },
        UpdatedModelPackageFields: ['ModelLifeCycle'],
      },
    });
    expect(JSON.stringify(rule.input)).toMatch(pipeline.environment ? /^"\{\\"dagId\\":\\"churn_deployment/ : /ChurnWorkflowDeploymentWorkflow/);
  });

  test('the deployment runs\' role is the one the stage roles trust, and it may assume exactly the stage roles', () => {
    const [role] = pipeline.deploymentRunRoles;
    expect(pipeline.deploymentRunRoles).toHaveLength(1);
    expect(role).toBe(pipeline.environment ? (pipeline.environment as any).executionRole : pipeline.workflow.deploymentWorkflow!.role);
    const roleId = stack.getLogicalId((role.node.defaultChild as iam.CfnRole));
    const assume = Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s: any) => s.Action === 'sts:AssumeRole');
    expect(assume).toHaveLength(1);
    expect(JSON.stringify(assume[0].Resource)).toMatch(/mlops-churn--dev-deploy.*mlops-churn--prod-deploy/);
    const devTrust = Object.values(t.findResources('AWS::IAM::Role')).find((r) => r.Properties.RoleName === 'mlops-churn--dev-deploy')!;
    expect(JSON.stringify(devTrust.Properties.AssumeRolePolicyDocument)).toContain(`"${roleId}"`);
  });

  test('cdk-nag finds nothing unexplained', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});
