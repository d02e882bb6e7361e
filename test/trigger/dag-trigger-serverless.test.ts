import { Arn, ArnFormat, Resource } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as mwaaserverless from 'aws-cdk-lib/aws-mwaaserverless';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { AirflowEnvironment, DagTrigger } from '../../src';
import type { IServerlessWorkflow } from '../../src/serverless/serverless-workflow-ref';
import { nagFindings } from '../nag';
import { newStack, template } from '../util';

/** A workflow on the L1 (the serverless module's own construct is another engineer's; the trigger takes the interface). */
class TestWorkflow extends Resource implements IServerlessWorkflow {
  readonly workflowArn: string;
  readonly workflowName: string;
  constructor(scope: Construct, id: string, name: string) {
    super(scope, id);
    const role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('airflow-serverless.amazonaws.com') });
    const cfn = new mwaaserverless.CfnWorkflow(this, 'Resource', {
      name,
      roleArn: role.roleArn,
      definitionS3Location: { bucket: 'defs', objectKey: `${name}.yaml` },
    });
    this.workflowArn = cfn.attrWorkflowArn;
    this.workflowName = name;
  }
  grantStartRun(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ['airflow-serverless:StartWorkflowRun'], resourceArns: [this.workflowArn] });
  }
}

function serverlessTrigger() {
  const stack = newStack();
  const training = new TestWorkflow(stack, 'Training', 'churn_training');
  const deployment = new TestWorkflow(stack, 'Deployment', 'churn_deployment');
  const trigger = new DagTrigger(stack, 'Trigger');
  const repository = new ecr.Repository(stack, 'Repo', { imageTagMutability: ecr.TagMutability.IMMUTABLE, imageScanOnPush: true });
  const bucket = new s3.Bucket(stack, 'Data', { enforceSSL: true, versioned: true });
  trigger.onImagePushed('ImagePushed', { repository, workflow: training });
  trigger.onObjectCreated('DataArrived', { bucket, prefix: 'raw/', workflow: training });
  trigger.onModelPackageStatusChange('ModelApproved', { modelPackageGroupName: 'churn', workflow: deployment });
  trigger.onEvent('Custom', { eventPattern: { source: ['my.app'] }, workflow: training });
  return { stack, trigger, training, deployment };
}

const triggerStatements = (stack: ReturnType<typeof newStack>) => {
  const t = template(stack);
  const roleId = Object.keys(t.findResources('AWS::IAM::Role')).find((id) => id.startsWith('TriggerRole'))!;
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
};

describe('DagTrigger with MWAA Serverless workflows', () => {
  test('no environment: every rule targets the function with {workflowArn, rule, event}', () => {
    const { stack } = serverlessTrigger();
    const t = template(stack);
    const rules = Object.values(t.findResources('AWS::Events::Rule'));
    expect(rules).toHaveLength(4);
    const arns = rules.map((rule: any) => {
      const input = rule.Properties.Targets[0].InputTransformer.InputTemplate;
      // The ARN is a deploy-time attribute: the template joins it into the input.
      expect(input['Fn::Join'][1][0]).toBe('{"workflowArn":"');
      expect(input['Fn::Join'][1][2]).toBe('","rule":"<aws.events.rule-name>","event":<aws.events.event.json>}');
      return input['Fn::Join'][1][1]['Fn::GetAtt'][0];
    });
    expect(arns.map((id: string) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['Deployment', 'Training', 'Training', 'Training']);
    expect(rules.map((r: any) => r.Properties.Description).sort()[0]).toMatch(/^Starts MWAA Serverless workflow Test\/(Deployment|Training): /);
  });

  test('IAM: StartWorkflowRun on each workflow only (granted once per workflow); no InvokeRestApi', () => {
    const { stack } = serverlessTrigger();
    const statements = triggerStatements(stack);
    const start = statements.filter((s: any) => [s.Action].flat().includes('airflow-serverless:StartWorkflowRun'));
    expect(start.map((s: any) => s.Resource['Fn::GetAtt'][0].replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(['Deployment', 'Training']);
    expect(start.every((s: any) => s.Effect === 'Allow' && s.Action === 'airflow-serverless:StartWorkflowRun')).toBe(true);
    const actions = statements.flatMap((s: any) => [s.Action].flat());
    expect(actions).not.toContain('airflow:InvokeRestApi');
    expect(actions.filter((a: string) => !a.startsWith('logs:') && !a.startsWith('sqs:')).sort()).toEqual(['airflow-serverless:StartWorkflowRun', 'airflow-serverless:StartWorkflowRun']);
  });

  test('the function gets the metric dimension, no environment name; metrics use it', () => {
    const { stack, trigger } = serverlessTrigger();
    const fn = Object.values(template(stack).findResources('AWS::Lambda::Function', { Properties: { Description: 'Starts MWAA Serverless workflow runs from EventBridge events' } }));
    expect(fn).toHaveLength(1);
    expect((fn[0] as any).Properties.Environment.Variables).toEqual({ TRIGGER_METRIC_DIMENSION: 'Test-Trigger' });
    expect(trigger.environment).toBeUndefined();
    expect(trigger.metricDimension).toBe('Test-Trigger');
    expect(stack.resolve(trigger.metricTriggered().dimensions)).toEqual({ Environment: 'Test-Trigger' });
  });

  test('an environment and workflows together: DAG rules and workflow rules, both grants, the environment\'s dimension', () => {
    const stack = newStack();
    const environment = AirflowEnvironment.fromEnvironmentAttributes(stack, 'Env', { environmentName: 'ml-env' });
    const workflow = new TestWorkflow(stack, 'Training', 'churn_training');
    const trigger = new DagTrigger(stack, 'Trigger', { environment });
    trigger.onEvent('Dag', { eventPattern: { source: ['a'] }, dagId: 'train_model' });
    trigger.onEvent('Workflow', { eventPattern: { source: ['b'] }, workflow });
    const actions = triggerStatements(stack).flatMap((s: any) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['airflow:InvokeRestApi', 'airflow-serverless:StartWorkflowRun']));
    expect(trigger.metricDimension).toBe('ml-env');
    const fn = Object.values(template(stack).findResources('AWS::Lambda::Function', { Properties: { Description: 'Starts Airflow DAG runs on ml-env from EventBridge events' } }));
    expect((fn[0] as any).Properties.Environment.Variables).toEqual({ MWAA_ENVIRONMENT_NAME: 'ml-env' });
  });

  test('an imported workflow (ARN) works as a target', () => {
    const stack = newStack();
    const arn = 'arn:aws:airflow-serverless:us-east-1:123456789012:workflow/churn_training-AbCdEfGh12';
    class Imported extends Resource implements IServerlessWorkflow {
      readonly workflowArn = arn;
      readonly workflowName = Arn.split(arn, ArnFormat.SLASH_RESOURCE_NAME).resourceName!;
      grantStartRun(grantee: iam.IGrantable) {
        return iam.Grant.addToPrincipal({ grantee, actions: ['airflow-serverless:StartWorkflowRun'], resourceArns: [arn] });
      }
    }
    const trigger = new DagTrigger(stack, 'Trigger');
    trigger.onEvent('E', { eventPattern: { source: ['x'] }, workflow: new Imported(stack, 'W') });
    const rule: any = Object.values(template(stack).findResources('AWS::Events::Rule'))[0];
    expect(rule.Properties.Targets[0].InputTransformer.InputTemplate).toBe(`{"workflowArn":"${arn}","rule":"<aws.events.rule-name>","event":<aws.events.event.json>}`);
    expect(triggerStatements(stack)).toEqual(expect.arrayContaining([{ Effect: 'Allow', Action: 'airflow-serverless:StartWorkflowRun', Resource: arn }]));
  });
});

describe('target validation (synth time)', () => {
  test.each<[string, (t: DagTrigger, w: IServerlessWorkflow) => void, RegExp]>([
    ['a dagId without an environment', (t) => t.onEvent('E', { eventPattern: { source: ['x'] }, dagId: 'train_model' }),
      /^E\.dagId: 'train_model' is a DAG, but this DagTrigger has no MWAA environment; set DagTriggerProps\.environment, or start a serverless workflow with E\.workflow instead$/],
    ['both a dagId and a workflow', (t, w) => t.onEvent('E', { eventPattern: { source: ['x'] }, dagId: 'train_model', workflow: w }),
      /^E: set dagId \('train_model'\) or workflow \(Test\/W\), not both: a rule starts one target$/],
    ['neither', (t) => t.onEvent('E', { eventPattern: { source: ['x'] } }), /^E: set dagId \(a DAG of the trigger's MWAA environment\) or workflow \(an MWAA Serverless workflow\)$/],
    ['a bad dagId is still named first', (t) => t.onModelPackageStatusChange('M', { modelPackageGroupName: 'g', dagId: 'a/b' }), /M\.dagId: 'a\/b' is not allowed/],
  ])('%s', (_name, act, message) => {
    const stack = newStack();
    const workflow = new TestWorkflow(stack, 'W', 'w');
    const trigger = new DagTrigger(stack, 'Trigger');
    expect(() => act(trigger, workflow)).toThrow(message);
  });
});

test('cdk-nag AwsSolutions: serverless-only trigger, zero unacknowledged findings on the trigger', () => {
  const { stack } = serverlessTrigger();
  expect(nagFindings(stack).filter((f) => f.includes('/Trigger/'))).toEqual([]);
});
