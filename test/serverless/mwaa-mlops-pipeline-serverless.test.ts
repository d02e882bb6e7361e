import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import {
  AirflowEnvironment, AirflowVersion, EndpointDeployment, ModelApproval, MwaaMlopsPipeline, Orchestration, ServerlessWorkflow,
} from '../../src';
import { nagFindings } from '../nag';

const env = { account: '123456789012', region: 'eu-west-1' };

function serverlessStack(props: ConstructorParameters<typeof MwaaMlopsPipeline>[2] = {}) {
  const app = new App();
  const stack = new Stack(app, 'Serverless', { env });
  const pipeline = new MwaaMlopsPipeline(stack, 'Churn', { orchestration: Orchestration.serverless(), ...props });
  return { app, stack, pipeline, template: () => Template.fromStack(stack) };
}

/** The statements of the policies on a role, by the role's logical id. */
function roleActions(t: Template, roleId: string): string[] {
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap((s: any) => [s.Action].flat()));
}

describe('MwaaMlopsPipeline on MWAA Serverless, bare', () => {
  const { stack, pipeline, template } = serverlessStack();
  const t = template();

  test('no environment, VPC, NAT gateway or address: two workflows instead', () => {
    for (const type of ['AWS::MWAA::Environment', 'AWS::EC2::VPC', 'AWS::EC2::NatGateway', 'AWS::EC2::EIP', 'AWS::EC2::VPCEndpoint']) {
      expect([type, Object.keys(t.findResources(type)).length]).toEqual([type, 0]);
    }
    expect(pipeline.environment).toBeUndefined();
    expect(Object.keys(t.findResources('AWS::MWAAServerless::Workflow'))).toHaveLength(2);
    expect(pipeline.workflow.trainingWorkflow).toBeInstanceOf(ServerlessWorkflow);
    expect(pipeline.workflow.deploymentWorkflow).toBeInstanceOf(ServerlessWorkflow);
    expect(pipeline.workflow.dagConfigFile).toBeUndefined();
  });

  test('each workflow: the pipeline key, its own log group and role, manual-only, the DAG package as code', () => {
    const key = stack.getLogicalId(pipeline.encryptionKey.node.defaultChild as any);
    for (const workflow of Object.values(t.findResources('AWS::MWAAServerless::Workflow'))) {
      expect(workflow.Properties.EncryptionConfiguration).toEqual({ Type: 'CUSTOMER_MANAGED_KEY', KmsKeyId: { 'Fn::GetAtt': [key, 'Arn'] } });
      expect(workflow.Properties.TriggerMode).toBe('manual-only');
      expect(workflow.Properties.Code.S3Location.ObjectKey).toMatch(/\.zip$/);
      expect(workflow.Properties.DefinitionS3Location.ObjectKey).toMatch(/^workflows\/churn\/[0-9a-f]{32}\.yaml$/);
    }
    const [training, deployment] = [pipeline.workflow.trainingWorkflow!, pipeline.workflow.deploymentWorkflow!];
    expect(training.role).not.toBe(deployment.role);
    expect(training.logGroup).not.toBe(deployment.logGroup);
  });

  test('least privilege per workflow: training runs Glue and SageMaker jobs; deployment creates models and updates the endpoint', () => {
    const training = roleActions(t, stack.getLogicalId(pipeline.workflow.trainingWorkflow!.role.node.defaultChild as any));
    const deployment = roleActions(t, stack.getLogicalId(pipeline.workflow.deploymentWorkflow!.role.node.defaultChild as any));
    expect(training).toEqual(expect.arrayContaining(['glue:StartJobRun', 'sagemaker:CreateTrainingJob', 'sagemaker:CreateModelPackage']));
    expect(training).not.toEqual(expect.arrayContaining(['sagemaker:UpdateEndpoint']));
    expect(training).not.toContain('sagemaker:ListModelPackages');
    expect(deployment).toEqual(expect.arrayContaining(['sagemaker:CreateModel', 'sagemaker:UpdateEndpoint', 'sagemaker:ListModelPackages']));
    expect(deployment).not.toContain('glue:StartJobRun');
    expect(deployment).not.toContain('sagemaker:CreateTrainingJob');
    // manual approval: the training workflow does not start deployments itself
    expect(training).not.toContain('airflow-serverless:StartWorkflowRun');
    // the service ignores DAG callbacks: no topic in the DAGs' grants
    expect([...training, ...deployment]).not.toContain('sns:Publish');
  });

  test('the workflows are deleted before the endpoint clean-up runs', () => {
    const cleanup = Object.keys(t.findResources('Custom::CdkMwaaMlopsEndpointCleanup'));
    for (const workflow of Object.values(t.findResources('AWS::MWAAServerless::Workflow'))) {
      expect(workflow.DependsOn).toEqual(expect.arrayContaining(cleanup));
    }
  });

  test('grantTriggerDag grants starting the two workflows', () => {
    const { stack: s, pipeline: p, template: tt } = serverlessStack();
    const caller = new iam.Role(s, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    p.grantTriggerDag(caller);
    const [policy] = Object.values(tt().findResources('AWS::IAM::Policy')).filter((x) => JSON.stringify(x.Properties.Roles).includes('Caller'));
    expect(policy.Properties.PolicyDocument.Statement.map((x: any) => x.Action)).toEqual(['airflow-serverless:StartWorkflowRun']);
    expect(policy.Properties.PolicyDocument.Statement[0].Resource).toHaveLength(2);
  });

  test('cdk-nag AwsSolutions: no unacknowledged finding', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('MwaaMlopsPipeline on MWAA Serverless, options', () => {
  test('automatic approval: the training workflow may start the deployment workflow, and only it', () => {
    const { stack, pipeline, template } = serverlessStack({ workflow: { approval: ModelApproval.AUTOMATIC } });
    const t = template();
    const trainingRole = stack.getLogicalId(pipeline.workflow.trainingWorkflow!.role.node.defaultChild as any);
    const statements = Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: trainingRole }]))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .filter((s: any) => s.Action === 'airflow-serverless:StartWorkflowRun');
    expect(statements).toEqual([expect.objectContaining({
      Resource: { 'Fn::GetAtt': [stack.getLogicalId(pipeline.workflow.deploymentWorkflow!.cfnWorkflow), 'WorkflowArn'] },
    })]);
  });

  test('no endpoint: one workflow', () => {
    const { template } = serverlessStack({ workflow: { deployment: EndpointDeployment.none() } });
    expect(Object.keys(template().findResources('AWS::MWAAServerless::Workflow'))).toHaveLength(1);
  });

  test('both modes in one app', () => {
    const app = new App();
    const stack = new Stack(app, 'Both', { env });
    const airflow = new AirflowEnvironment(stack, 'Airflow', { airflowVersion: AirflowVersion.V3_3_1 });
    new MwaaMlopsPipeline(stack, 'Churn', { environment: airflow });
    new MwaaMlopsPipeline(stack, 'Fraud', { orchestration: Orchestration.serverless() });
    const t = Template.fromStack(stack);
    expect(Object.keys(t.findResources('AWS::MWAA::Environment'))).toHaveLength(1);
    expect(Object.keys(t.findResources('AWS::MWAAServerless::Workflow'))).toHaveLength(2);
    expect(nagFindings(stack)).toEqual([]);
  });

  test.each([
    ['environment', (s: Stack) => ({ environment: new AirflowEnvironment(s, 'Airflow', { airflowVersion: AirflowVersion.V3_3_1 }) })],
    ['environmentProps', () => ({ environmentProps: { airflowVersion: AirflowVersion.V3_3_1 } })],
  ])('%s with Orchestration.serverless() is an error naming the prop', (prop, props) => {
    const app = new App();
    const stack = new Stack(app, 'Bad', { env });
    expect(() => new MwaaMlopsPipeline(stack, 'Churn', { orchestration: Orchestration.serverless(), ...props(stack) }))
      .toThrow(new RegExp(`^${prop}: set, but orchestration is Orchestration.serverless\\(\\)`));
  });

  test('retries above the service limit are an error naming the prop and the limit', () => {
    expect(() => serverlessStack({ workflow: { retries: 5 } })).toThrow(/retries: 5 .*3/);
  });

  test('jobs longer than a workflow can wait for are errors naming the prop and the limit', () => {
    expect(() => serverlessStack({ workflow: { preprocessing: { timeout: Duration.hours(5) } } }))
      .toThrow(/preprocessing.timeout: 300 minutes is longer than a serverless workflow can wait for the Glue job \(at most 225 minutes/);
    expect(() => serverlessStack({ workflow: { training: { maxRuntime: Duration.hours(5) } } }))
      .toThrow(/training.maxRuntime: 18000 s is longer than a serverless workflow can wait/);
    // within the budget: a sensor waits over several tries of the service's task limit
    expect(() => serverlessStack({ workflow: { training: { maxRuntime: Duration.hours(3) } } })).not.toThrow();
  });
});

describe('MwaaMlopsPipeline on MWAA Serverless, with drift detection', () => {
  const { stack, pipeline, template } = serverlessStack({ workflow: { drift: {} } });
  const t = template();
  const roleOf = (workflow: ServerlessWorkflow) => stack.getLogicalId(workflow.role.node.defaultChild as any);
  const statementsOf = (workflow: ServerlessWorkflow) => Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleOf(workflow) }]))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
  const resourcesOf = (workflow: ServerlessWorkflow, action: string) => statementsOf(workflow)
    .filter((s: any) => [s.Action].flat().includes(action))
    .flatMap((s: any) => [s.Resource].flat().map((r: unknown) => JSON.stringify(r)));

  test('a third workflow, <base>-drift, with its own role and log group', () => {
    const workflows = Object.values(t.findResources('AWS::MWAAServerless::Workflow'));
    expect(workflows).toHaveLength(3);
    const drift = pipeline.workflow.driftWorkflow!;
    expect(drift).toBeInstanceOf(ServerlessWorkflow);
    expect(drift.cfnWorkflow.name).toBe(pipeline.workflow.trainingWorkflow!.cfnWorkflow.name!.replace(/-training$/, '-drift'));
    expect(new Set([pipeline.workflow.trainingWorkflow, pipeline.workflow.deploymentWorkflow, drift].map((w) => roleOf(w!))).size).toBe(3);
    expect(drift.logGroup).not.toBe(pipeline.workflow.trainingWorkflow!.logGroup);
  });

  test('the drift role runs and reads drift jobs and what is deployed; it trains, deploys and lists nothing', () => {
    const drift = pipeline.workflow.driftWorkflow!;
    const actions = roleActions(t, roleOf(drift));
    expect(actions).toEqual(expect.arrayContaining([
      'sagemaker:CreateProcessingJob', 'sagemaker:DescribeProcessingJob', 'sagemaker:DescribeEndpoint',
      'sagemaker:DescribeEndpointConfig', 'sagemaker:DescribeModel', 'sagemaker:DescribeModelPackage',
    ]));
    for (const denied of ['sagemaker:CreateTrainingJob', 'glue:StartJobRun', 'sagemaker:CreateModelPackage', 'sagemaker:UpdateEndpoint',
      'sagemaker:CreateEndpointConfig', 'sagemaker:ListTrainingJobs', 'airflow-serverless:StartWorkflowRun']) {
      expect([denied, actions.includes(denied)]).toEqual([denied, false]);
    }
    const jobs = resourcesOf(drift, 'sagemaker:CreateProcessingJob');
    expect(jobs.length).toBeGreaterThan(0);
    expect(jobs.every((r) => /processing-job\/churn-drift-\*/.test(r))).toBe(true);
  });

  test('the training role runs the baseline job and may list training jobs (the cool-down); the deployment role neither', () => {
    const training = pipeline.workflow.trainingWorkflow!;
    expect(resourcesOf(training, 'sagemaker:CreateProcessingJob').some((r) => /processing-job\/churn-base-\*/.test(r))).toBe(true);
    expect(resourcesOf(training, 'sagemaker:CreateProcessingJob').some((r) => /churn-drift-/.test(r))).toBe(false);
    expect(roleActions(t, roleOf(training))).toContain('sagemaker:ListTrainingJobs');
    const deployment = roleActions(t, roleOf(pipeline.workflow.deploymentWorkflow!));
    expect(deployment).not.toContain('sagemaker:ListTrainingJobs');
    expect(resourcesOf(pipeline.workflow.deploymentWorkflow!, 'sagemaker:CreateProcessingJob')).toEqual([]);
  });

  test('a drift job longer than a workflow can wait for is an error naming drift.maxRuntime', () => {
    expect(() => serverlessStack({ workflow: { drift: { maxRuntime: Duration.hours(4) } } }))
      .toThrow(/drift.maxRuntime: 14400 s is longer than a serverless workflow can wait for a drift processing job \(.*at most 13500 s/);
    expect(() => serverlessStack({ workflow: { drift: { maxRuntime: Duration.hours(3) } } })).not.toThrow();
  });

  test('cdk-nag AwsSolutions: no unacknowledged finding', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});
