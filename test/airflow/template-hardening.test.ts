import { App, Stack, Validations } from 'aws-cdk-lib';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { AirflowEnvironment, ModelBuildPipeline, PipelineSource } from '../../src';
import { nagFindings } from '../nag';
import { newStack, onlyResource, template } from '../util';

function flowLogGroup(stack: Stack): any {
  const t = template(stack);
  const destination = onlyResource(t, 'AWS::EC2::FlowLog').Properties.LogGroupName;
  const id = destination.Ref;
  return t.toJSON().Resources[id].Properties;
}

describe('7: the VPC flow-log group uses encryptionKey', () => {
  test('with a key: the group is encrypted with it, and the key lets CloudWatch Logs use it for that group only', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new AirflowEnvironment(stack, 'Airflow', { encryptionKey: key });
    const group = flowLogGroup(stack);
    expect(group.KmsKeyId).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] });

    const statements = onlyResource(template(stack), 'AWS::KMS::Key').Properties.KeyPolicy.Statement as any[];
    const forFlowLogs = statements.filter((s) => JSON.stringify(s.Condition ?? {}).includes('vpc-flow-logs'));
    expect(forFlowLogs).toHaveLength(1);
    expect(forFlowLogs[0].Principal.Service).toEqual({ 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] });
    const pattern = JSON.stringify(forFlowLogs[0].Condition.ArnLike['kms:EncryptionContext:aws:logs:arn']);
    const prefix = /log-group:([^"*]+)\*/.exec(pattern)![1];
    expect(group.LogGroupName['Fn::Join'][1][0].startsWith(prefix)).toBe(true);
    expect(nagFindings(stack)).toEqual([]);
  });

  test('without a key: CloudWatch Logs\' own encryption, as before', () => {
    const stack = newStack();
    new AirflowEnvironment(stack, 'Airflow');
    expect(flowLogGroup(stack).KmsKeyId).toBeUndefined();
  });
});

describe('8: the default security group of the created VPC has no rules', () => {
  test.each([
    ['an app without the feature flag', {}],
    ['an app with the feature flag off', { '@aws-cdk/aws-ec2:restrictDefaultSecurityGroup': false }],
  ])('%s', (_name, context) => {
    const stack = new Stack(new App({ context }), 'Test');
    new AirflowEnvironment(stack, 'Airflow');
    const t = template(stack);
    const vpcId = Object.keys(t.findResources('AWS::EC2::VPC'))[0];
    t.hasResourceProperties('Custom::VpcRestrictDefaultSG', { DefaultSecurityGroupId: { 'Fn::GetAtt': [vpcId, 'DefaultSecurityGroup'] } });
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('10: access-log buckets carry no acknowledgement that never fires', () => {
  function acknowledged(scope: IConstruct): string[] {
    return scope.node.findAll().flatMap((c) => c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) => Object.keys(m.data as Record<string, string>)));
  }

  test('AirflowEnvironment and ModelBuildPipeline: no AwsSolutions-S1 acknowledgement, and still no S1 finding', () => {
    const stack = newStack();
    new AirflowEnvironment(stack, 'Airflow');
    new ModelBuildPipeline(stack, 'Build', { source: PipelineSource.codeCommit({ repository: codecommit.Repository.fromRepositoryName(stack, 'Repo', 'm') }) });
    const accessLogBuckets = stack.node.findAll().filter((c) => c instanceof s3.Bucket && c.node.id === 'AccessLogsBucket');
    expect(accessLogBuckets).toHaveLength(2);
    for (const bucket of accessLogBuckets) expect(acknowledged(bucket).filter((id) => id.endsWith('AwsSolutions-S1'))).toEqual([]);
    expect(nagFindings(stack).filter((f) => f.startsWith('AwsSolutions-S1'))).toEqual([]);
  });
});
