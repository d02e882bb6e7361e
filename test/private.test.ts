import { Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { newStack } from './util';
import { acknowledge } from '../src/private/acknowledge';
import { nagString } from '../src/private/nag-ids';

describe('nagString renders tokens the way cdk-nag names findings', () => {
  test('GetAtt, Ref, Join and Sub', () => {
    const stack = newStack();
    const bucket = new s3.Bucket(stack, 'Bucket');
    const id = stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
    expect(nagString(stack, bucket.arnForObjects('dags/*'))).toBe(`<${id}.Arn>/dags/*`);
    expect(nagString(stack, stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: 'x' })))
      .toBe('arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group/x');
    expect(nagString(stack, { 'Fn::Sub': 'cdk-${AWS::AccountId}-assets' })).toBe('cdk-<AWS::AccountId>-assets');
    expect(nagString(stack, 'plain')).toBe('plain');
  });
});

describe('acknowledge', () => {
  test('records ids that Validations.acknowledge would reject, with their reasons', () => {
    const stack = newStack();
    const id = 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:*]';
    expect(() => Validations.of(stack).acknowledge({ id, reason: 'r' })).toThrow(/'::' delimiter is reserved/);
    acknowledge(stack, { id, reason: 'a reason' }, { id: 'AwsSolutions-S1', reason: 'another reason' });
    const recorded = Object.assign({}, ...stack.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((m) => m.data));
    expect(recorded[id]).toBe('a reason');
    expect(Object.entries(recorded).find(([k]) => k.endsWith('AwsSolutions-S1'))?.[1]).toBe('another reason');
  });
});
