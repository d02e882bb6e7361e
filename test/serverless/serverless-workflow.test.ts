import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ServerlessWorkflow, WorkflowCode, WorkflowDefinition, WorkflowTriggerMode } from '../../src';
import { nagFindings } from '../nag';

const env = { account: '123456789012', region: 'eu-west-1' };

function stackWith(definition: (stack: Stack) => WorkflowDefinition, extra: Partial<ConstructorParameters<typeof ServerlessWorkflow>[2]> = {}) {
  const app = new App();
  const stack = new Stack(app, 'Test', { env });
  const workflow = new ServerlessWorkflow(stack, 'Flow', { definition: definition(stack), workflowName: 'nightly', ...extra });
  return { app, stack, workflow, get t() { return Template.fromStack(stack); } };
}

const bucketDefinition = (stack: Stack) => WorkflowDefinition.fromBucket(s3.Bucket.fromBucketName(stack, 'Defs', 'defs'), 'flows/nightly.yaml', 'v1');

describe('ServerlessWorkflow', () => {
  test('a workflow with its key, its log group, manual-only runs and the definition it was given', () => {
    const { t } = stackWith(bucketDefinition);
    const [workflow] = Object.values(t.findResources('AWS::MWAAServerless::Workflow'));
    expect(workflow.Properties).toMatchObject({
      Name: 'nightly',
      DefinitionS3Location: { Bucket: 'defs', ObjectKey: 'flows/nightly.yaml', VersionId: 'v1' },
      EncryptionConfiguration: { Type: 'CUSTOMER_MANAGED_KEY', KmsKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^FlowKey/), 'Arn'] } },
      LoggingConfiguration: { LogGroupName: { Ref: expect.stringMatching(/^FlowLogs/) } },
      TriggerMode: WorkflowTriggerMode.MANUAL_ONLY.value,
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90, KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FlowKey'), 'Arn'] } });
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('the role trusts MWAA Serverless for this workflow of this account only', () => {
    const { t } = stackWith(bucketDefinition);
    const [role] = Object.values(t.findResources('AWS::IAM::Role'));
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Action: 'sts:AssumeRole',
      Effect: 'Allow',
      Principal: { Service: 'airflow-serverless.amazonaws.com' },
      Condition: {
        StringEquals: { 'aws:SourceAccount': '123456789012' },
        ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':airflow-serverless:eu-west-1:123456789012:workflow/nightly-*']] } },
      },
    }]);
  });

  test('the role may read the definition object, write its logs and use its key through the service, and nothing else', () => {
    const { stack, t } = stackWith(bucketDefinition);
    const [policy] = Object.values(t.findResources('AWS::IAM::Policy'));
    const statements = stack.resolve(policy.Properties.PolicyDocument.Statement);
    expect(statements.map((s: any) => s.Action)).toEqual([
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
      ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'],
      ['s3:GetObject', 's3:GetObjectVersion'],
    ]);
    expect(statements[1].Condition).toEqual({ StringEquals: { 'kms:ViaService': 'airflow-serverless.eu-west-1.amazonaws.com' } });
    expect(JSON.stringify(statements[2].Resource)).toContain(':s3:::defs/flows/nightly.yaml');
    // the service checks the role when it creates the workflow: its policy comes first
    const [workflow] = Object.values(t.findResources('AWS::MWAAServerless::Workflow'));
    expect(workflow.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^FlowRoleDefaultPolicy/)]));
  });

  test('a definition object is written under a key that changes exactly when its content does', () => {
    const key = (definition: object) => {
      const { t } = stackWith((stack) => WorkflowDefinition.fromObject(definition, { bucket: new s3.Bucket(stack, 'Bucket') }));
      const [workflow] = Object.values(t.findResources('AWS::MWAAServerless::Workflow'));
      expect(workflow.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^FlowDefinitionDeploymentCustomResource/)]));
      return workflow.Properties.DefinitionS3Location.ObjectKey as string;
    };
    const flow = (retries: number) => ({ nightly: { schedule: null, tasks: { a: { operator: 'airflow.operators.empty.EmptyOperator', retries } } } });
    expect(key(flow(1))).toMatch(/^workflows\/[0-9a-f]{32}\.yaml$/);
    expect(key(flow(1))).toBe(key(flow(1)));
    expect(key(flow(2))).not.toBe(key(flow(1)));
  });

  test('a code package is an asset the role may read, rendered as Code', () => {
    const { t } = stackWith(bucketDefinition, { code: WorkflowCode.fromAsset(path.join(__dirname, '..', '..', 'assets', 'glue')) });
    const [workflow] = Object.values(t.findResources('AWS::MWAAServerless::Workflow'));
    expect(workflow.Properties.Code.S3Location.ObjectKey).toMatch(/^[0-9a-f]{64}\.zip$/);
  });

  test('a name the service refuses is an error naming the prop', () => {
    expect(() => stackWith(bucketDefinition, { workflowName: 'night ly' })).toThrow(/workflowName: 'night ly' is not a workflow name/);
  });

  test('grantStartRun names this workflow only; an imported workflow keeps its name', () => {
    const { stack, workflow } = stackWith(bucketDefinition);
    const caller = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    workflow.grantStartRun(caller);
    const imported = ServerlessWorkflow.fromWorkflowArn(stack, 'Imported', 'arn:aws:airflow-serverless:eu-west-1:123456789012:workflow/other-AbCdE12345');
    imported.grantStartRun(caller);
    expect(imported.workflowName).toBe('other');
    const policy = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).find((p) => JSON.stringify(p.Properties.Roles).includes('Caller'))!;
    expect(stack.resolve(policy.Properties.PolicyDocument.Statement)).toEqual([
      { Action: 'airflow-serverless:StartWorkflowRun', Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^Flow/), 'WorkflowArn'] } },
      { Action: 'airflow-serverless:StartWorkflowRun', Effect: 'Allow', Resource: 'arn:aws:airflow-serverless:eu-west-1:123456789012:workflow/other-AbCdE12345' },
    ]);
  });

  test('cdk-nag AwsSolutions: no unacknowledged finding', () => {
    const { stack } = stackWith((s) => WorkflowDefinition.fromObject({ nightly: { tasks: {} } }, { bucket: new s3.Bucket(s, 'Bucket', { enforceSSL: true, serverAccessLogsPrefix: 'logs/' }) }));
    expect(nagFindings(stack)).toEqual([]);
  });
});
