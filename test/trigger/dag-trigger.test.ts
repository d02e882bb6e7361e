import { Duration } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as events from 'aws-cdk-lib/aws-events';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { APPROVAL_CHANGED } from './events';
import { AirflowEnvironment, DagTrigger, ModelApprovalStatus } from '../../src';
import { nagFindings } from '../nag';
import { newStack, onlyResource, template } from '../util';

function importedEnvironment(stack = newStack()) {
  const environment = AirflowEnvironment.fromEnvironmentAttributes(stack, 'Env', { environmentName: 'ml-env' });
  return { stack, environment };
}

function triggerWithEverySource(stack = newStack()) {
  const { environment } = importedEnvironment(stack);
  const trigger = new DagTrigger(stack, 'Trigger', { environment });
  const repository = new ecr.Repository(stack, 'Repo', { imageTagMutability: ecr.TagMutability.IMMUTABLE, imageScanOnPush: true });
  const bucket = new s3.Bucket(stack, 'Data', { enforceSSL: true, versioned: true });
  trigger.onImagePushed('ImagePushed', { repository, dagId: 'train_model', imageTagPrefixes: ['v', 'release-'] });
  trigger.onObjectCreated('DataArrived', { bucket, prefix: 'raw/', dagId: 'train_model' });
  trigger.onModelPackageStatusChange('ModelApproved', { modelPackageGroupName: 'churn', dagId: 'deploy_model' });
  trigger.onEvent('Custom', { eventPattern: { source: ['my.app'], detailType: ['Data Ready'] }, dagId: 'train_model' });
  return { stack, trigger, repository, bucket };
}

function ruleWithPattern(stack: ReturnType<typeof newStack>, source: string): any {
  const rules = Object.values(template(stack).findResources('AWS::Events::Rule'));
  const found = rules.filter((r: any) => r.Properties.EventPattern.source?.[0] === source);
  expect(found).toHaveLength(1);
  return found[0];
}

describe('DagTrigger rules', () => {
  test('ECR: successful pushes to the repository, with the tag prefixes', () => {
    const { stack } = triggerWithEverySource();
    const rule = ruleWithPattern(stack, 'aws.ecr');
    expect(rule.Properties.EventPattern).toEqual({
      'source': ['aws.ecr'],
      'detail-type': ['ECR Image Action'],
      'detail': {
        'action-type': ['PUSH'],
        'result': ['SUCCESS'],
        'repository-name': [{ Ref: expect.stringMatching(/^Repo/) }],
        'image-tag': [{ prefix: 'v' }, { prefix: 'release-' }],
      },
    });
  });

  test('S3: objects created in the bucket under the prefix; EventBridge notifications turned on for an owned bucket', () => {
    const { stack } = triggerWithEverySource();
    const rule = ruleWithPattern(stack, 'aws.s3');
    expect(rule.Properties.EventPattern).toEqual({
      'source': ['aws.s3'],
      'detail-type': ['Object Created'],
      'detail': { bucket: { name: [{ Ref: expect.stringMatching(/^Data/) }] }, object: { key: [{ prefix: 'raw/' }] } },
    });
    template(stack).hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: { EventBridgeConfiguration: {} },
    });
  });

  test('S3: an imported bucket gets a synth warning that says what to do', () => {
    const { stack, environment } = importedEnvironment();
    const trigger = new DagTrigger(stack, 'Trigger', { environment });
    trigger.onObjectCreated('Data', { bucket: s3.Bucket.fromBucketName(stack, 'Ext', 'their-bucket'), dagId: 'train_model' });
    Annotations.fromStack(stack).hasWarning('/Test/Trigger', Match.stringLikeRegexp('their-bucket|Ext.*EventBridge notifications'));
    expect(template(stack).findResources('Custom::S3BucketNotifications')).toEqual({});
  });

  test('SageMaker: packages of the group reaching Approved (default) or the given status', () => {
    const { stack } = triggerWithEverySource();
    expect(ruleWithPattern(stack, 'aws.sagemaker').Properties.EventPattern).toEqual({
      'source': ['aws.sagemaker'],
      'detail-type': ['SageMaker Model Package State Change'],
      'detail': { ModelPackageGroupName: ['churn'], ModelApprovalStatus: ['Approved'], $or: APPROVAL_CHANGED },
    });
    const other = importedEnvironment();
    new DagTrigger(other.stack, 'Trigger', { environment: other.environment }).onModelPackageStatusChange('Pending', {
      modelPackageGroupName: 'churn', dagId: 'review', approvalStatus: ModelApprovalStatus.PENDING_MANUAL_APPROVAL,
    });
    expect(ruleWithPattern(other.stack, 'aws.sagemaker').Properties.EventPattern.detail.ModelApprovalStatus).toEqual(['PendingManualApproval']);
  });

  test('custom pattern passes through, on the given bus', () => {
    const { stack, environment } = importedEnvironment();
    const bus = new events.EventBus(stack, 'Bus');
    new DagTrigger(stack, 'Trigger', { environment }).onEvent('Custom', { eventPattern: { source: ['my.app'] }, dagId: 'x', eventBus: bus });
    const rule = ruleWithPattern(stack, 'my.app');
    expect(rule.Properties.EventBusName).toEqual({ Ref: expect.stringMatching(/^Bus/) });
  });

  test('every rule targets the function with the DAG id, the whole event, a retry policy and the dead-letter queue', () => {
    const { stack } = triggerWithEverySource();
    const t = template(stack);
    const queueId = Object.keys(t.findResources('AWS::SQS::Queue'))[0];
    const functionId = Object.keys(t.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('Starts Airflow DAG runs') } }))[0];
    const rules = Object.values(t.findResources('AWS::Events::Rule'));
    expect(rules).toHaveLength(4);
    const dagIds = rules.map((rule: any) => {
      expect(rule.Properties.Targets).toHaveLength(1);
      const target = rule.Properties.Targets[0];
      expect(target.Arn).toEqual({ 'Fn::GetAtt': [functionId, 'Arn'] });
      expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 185 });
      expect(target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } });
      expect(target.InputTransformer.InputPathsMap).toBeUndefined();
      const template_ = target.InputTransformer.InputTemplate as string;
      expect(template_).toMatch(/^\{"dagId":"[a-z_]+","rule":"<aws\.events\.rule-name>","event":<aws\.events\.event\.json>\}$/);
      return JSON.parse(template_.replace('<aws.events.event.json>', '{}')).dagId;
    });
    expect(dagIds.sort()).toEqual(['deploy_model', 'train_model', 'train_model', 'train_model']);
  });
});

describe('DagTrigger function, queue, alarms and permissions', () => {
  test('function: Node.js 24 on arm64, JSON logs, async retries and on-failure destination to the queue', () => {
    const { stack } = triggerWithEverySource();
    const t = template(stack);
    const queueId = Object.keys(t.findResources('AWS::SQS::Queue'))[0];
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs26.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: 60,
      LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'WARN', LogGroup: { Ref: Match.stringLikeRegexp('^TriggerLogs') } },
      Environment: { Variables: { MWAA_ENVIRONMENT_NAME: 'ml-env' } },
    });
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
    expect(onlyResource(t, 'AWS::Logs::LogGroup').Properties.RetentionInDays).toBe(90);
    expect(JSON.stringify(t.toJSON())).not.toContain('AWS_NODEJS_CONNECTION_REUSE_ENABLED');
  });

  test('dead-letter queue: SSE-SQS, TLS only, 14 days; EventBridge may send only from these rules', () => {
    const { stack } = triggerWithEverySource();
    const t = template(stack);
    expect(onlyResource(t, 'AWS::SQS::Queue').Properties).toEqual({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    const policy = onlyResource(t, 'AWS::SQS::QueuePolicy').Properties.PolicyDocument.Statement;
    expect(policy).toEqual(expect.arrayContaining([
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    ]));
    const fromEvents = policy.filter((s: any) => s.Principal?.Service === 'events.amazonaws.com');
    expect(fromEvents).toHaveLength(4);
    for (const statement of fromEvents) {
      expect(statement.Action).toBe('sqs:SendMessage');
      expect(statement.Condition.ArnEquals['aws:SourceArn']).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
    }
  });

  test('IAM: airflow:InvokeRestApi on the environment\'s User role only, logs to its own group, send to the queue', () => {
    const { stack } = triggerWithEverySource();
    const t = template(stack);
    const roles = t.findResources('AWS::IAM::Role', { Properties: { AssumeRolePolicyDocument: { Statement: [{ Principal: { Service: 'lambda.amazonaws.com' } }] } } });
    const triggerRoleId = Object.keys(roles).find((id) => id.startsWith('TriggerRole'))!;
    expect(roles[triggerRoleId].Properties.ManagedPolicyArns).toBeUndefined();
    const policies = Object.values(t.findResources('AWS::IAM::Policy')).filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === triggerRoleId));
    const statements = policies.flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const invoke = statements.filter((s: any) => [s.Action].flat().includes('airflow:InvokeRestApi'));
    expect(invoke).toEqual([{
      Effect: 'Allow',
      Action: 'airflow:InvokeRestApi',
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':airflow:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':role/ml-env/User']] },
    }]);
    const actions = statements.flatMap((s: any) => [s.Action].flat()).sort();
    expect(actions).toEqual(['airflow:InvokeRestApi', 'logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
  });

  test('airflowRole chooses the RBAC role the trigger acts as', () => {
    const { stack, environment } = importedEnvironment();
    new DagTrigger(stack, 'Trigger', { environment, airflowRole: 'Op' });
    expect(JSON.stringify(template(stack).toJSON())).toContain(':role/ml-env/Op');
  });

  test('alarms: dead-letter queue not empty, function errors, rejected events; all notify the topic', () => {
    const stack = newStack();
    const { environment } = importedEnvironment(stack);
    const topic = new sns.Topic(stack, 'Alerts', { enforceSSL: true });
    const trigger = new DagTrigger(stack, 'Trigger', { environment, alarmTopic: topic });
    const t = template(stack);
    const topicRef = { Ref: Object.keys(t.findResources('AWS::SNS::Topic'))[0] };
    const common = {
      Threshold: 1, EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching', AlarmActions: [topicRef],
    };
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { ...common, Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Statistic: 'Maximum', Period: 60 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { ...common, Namespace: 'AWS/Lambda', MetricName: 'Errors', Statistic: 'Sum' });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ...common, Namespace: 'CdkMwaaMlops/DagTrigger', MetricName: 'Rejected', Statistic: 'Sum', Dimensions: [{ Name: 'Environment', Value: 'ml-env' }],
    });
    expect(trigger.rejectedEventsAlarm.metric).toBeDefined();
  });

  test('outcome metrics come from the JSON logs: one metric filter per outcome, counting only final records, by environment', () => {
    const { stack } = triggerWithEverySource();
    const filters = Object.values(template(stack).findResources('AWS::Logs::MetricFilter')).map((f: any) => f.Properties);
    expect(filters.map((f) => [f.FilterPattern, f.MetricTransformations[0].MetricName]).sort()).toEqual([
      ['{ ($.message.outcome = "already_triggered") && ($.message.final IS TRUE) }', 'AlreadyTriggered'],
      ['{ ($.message.outcome = "failed") && ($.message.final IS TRUE) }', 'Failed'],
      ['{ ($.message.outcome = "rejected") && ($.message.final IS TRUE) }', 'Rejected'],
      ['{ ($.message.outcome = "triggered") && ($.message.final IS TRUE) }', 'Triggered'],
    ]);
    for (const f of filters) {
      expect(f.MetricTransformations[0]).toMatchObject({ MetricNamespace: 'CdkMwaaMlops/DagTrigger', MetricValue: '1', Dimensions: [{ Key: 'Environment', Value: '$.message.environment' }] });
    }
  });

  test('a caller\'s queue is used as is; exposed parts are there for dashboards', () => {
    const { stack, environment } = importedEnvironment();
    const queue = new sqs.Queue(stack, 'MyDlq', { enforceSSL: true, encryption: sqs.QueueEncryption.SQS_MANAGED });
    const trigger = new DagTrigger(stack, 'Trigger', { environment, deadLetterQueue: queue, maxEventAge: Duration.hours(2), retryAttempts: 10 });
    const rule = trigger.onEvent('Custom', { eventPattern: { source: ['x'] }, dagId: 'd' });
    expect(trigger.deadLetterQueue).toBe(queue);
    expect(trigger.rules).toEqual([rule]);
    expect(Object.keys(template(stack).findResources('AWS::SQS::Queue'))).toHaveLength(1);
    expect(ruleWithPattern(stack, 'x').Properties.Targets[0].RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 10 });
    expect(trigger.metricTriggered().metricName).toBe('Triggered');
    expect(trigger.metricAlreadyTriggered().metricName).toBe('AlreadyTriggered');
    expect(trigger.metricFailed().metricName).toBe('Failed');
  });

  test('vpc puts the function in the VPC\'s private subnets', () => {
    const { stack, environment } = importedEnvironment();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    new DagTrigger(stack, 'Trigger', { environment, vpc });
    const t = template(stack);
    const fn = onlyResource(t, 'AWS::Lambda::Function');
    expect(fn.Properties.VpcConfig.SubnetIds).toHaveLength(2);
    expect(JSON.stringify(fn.Properties.VpcConfig.SubnetIds)).toContain('PrivateSubnet');
    // Lambda needs network-interface permissions to start in a VPC; the trigger's own role must carry them.
    expect(onlyResource(t, 'AWS::IAM::Role').Properties.ManagedPolicyArns).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole']] },
    ]);
  });

  test('a trigger on a created environment grants on that environment', () => {
    const stack = newStack();
    const environment = new AirflowEnvironment(stack, 'Airflow', { environmentName: 'created-env' });
    new DagTrigger(stack, 'Trigger', { environment }).onEvent('E', { eventPattern: { source: ['x'] }, dagId: 'd' });
    expect(JSON.stringify(template(stack).toJSON())).toContain(':role/created-env/User');
  });
});

describe('DagTrigger validation (at synth time, naming the prop)', () => {
  const cases: Array<[string, (t: DagTrigger, stack: ReturnType<typeof newStack>) => void, RegExp]> = [
    ['dagId with a slash', (t) => t.onEvent('E', { eventPattern: { source: ['x'] }, dagId: 'a/b' }), /E\.dagId: 'a\/b' is not allowed/],
    ['dagId longer than the InvokeRestApi path allows', (t) => t.onEvent('E', { eventPattern: { source: ['x'] }, dagId: 'd'.repeat(51) }), /at most 64 characters/],
    ['empty event pattern', (t) => t.onEvent('E', { eventPattern: {}, dagId: 'd' }), /eventPattern: an empty pattern/],
    ['S3 prefix with a leading slash', (t, s) => t.onObjectCreated('D', { bucket: new s3.Bucket(s, 'B'), prefix: '/raw', dagId: 'd' }), /prefix: '\/raw' starts with '\/'/],
    ['empty tag prefix list', (t, s) => t.onImagePushed('I', { repository: new ecr.Repository(s, 'R'), imageTagPrefixes: [], dagId: 'd' }), /imageTagPrefixes: \[\]/],
    ['bad model package group', (t) => t.onModelPackageStatusChange('M', { modelPackageGroupName: 'no spaces', dagId: 'd' }), /modelPackageGroupName: 'no spaces'/],
  ];
  test.each(cases)('%s', (_name, act, message) => {
    const { stack, environment } = importedEnvironment();
    const trigger = new DagTrigger(stack, 'Trigger', { environment });
    expect(() => act(trigger, stack)).toThrow(message);
  });

  test.each<[string, object, RegExp]>([
    ['retryAttempts over 185', { retryAttempts: 186 }, /retryAttempts: 186 is not allowed; use a whole number from 0 to 185 \(EventBridge retries at most 185 times\)$/],
    ['maxEventAge over a day', { maxEventAge: Duration.hours(25) }, /maxEventAge: 90000 seconds is not allowed; use a number from 60 to 86400 seconds \(EventBridge keeps events 60 seconds to 24 hours\)$/],
    ['timeout too short to retry', { timeout: Duration.seconds(5) }, /timeout: 5 seconds is not allowed; use a number from 10 to 900 seconds \(10 seconds leave room for one retry\)$/],
    ['reservedConcurrency 0', { reservedConcurrency: 0 }, /reservedConcurrency: 0 is not allowed; use a whole number of at least 1/],
    ['reservedConcurrency fractional', { reservedConcurrency: 2.5 }, /reservedConcurrency: 2.5 is not allowed; use a whole number of at least 1 \(0 would stop every trigger; leave it out for no reservation\)$/],
  ])('%s', (_name, props, message) => {
    const { stack, environment } = importedEnvironment();
    expect(() => new DagTrigger(stack, 'Trigger', { environment, ...props })).toThrow(message);
  });
});

describe('reservedConcurrency', () => {
  test('bounds the function\'s concurrency when set, and is left to the account when not', () => {
    const { stack, environment } = importedEnvironment();
    new DagTrigger(stack, 'Bounded', { environment, reservedConcurrency: 5 });
    new DagTrigger(stack, 'Unbounded', { environment });
    const functions = Object.entries(template(stack).findResources('AWS::Lambda::Function'))
      .filter(([id]) => id.includes('Function'))
      .map(([id, f]: [string, any]) => [id.startsWith('Bounded'), f.Properties.ReservedConcurrentExecutions]);
    expect(functions.sort()).toEqual([[false, undefined], [true, 5]]);
  });
});

describe('cdk-nag AwsSolutions', () => {
  test('every source, created environment: zero unacknowledged findings', () => {
    const stack = newStack();
    const environment = new AirflowEnvironment(stack, 'Airflow');
    const trigger = new DagTrigger(stack, 'Trigger', { environment });
    const repository = new ecr.Repository(stack, 'Repo', { imageTagMutability: ecr.TagMutability.IMMUTABLE, imageScanOnPush: true });
    trigger.onImagePushed('Image', { repository, dagId: 'train_model' });
    trigger.onModelPackageStatusChange('Approved', { modelPackageGroupName: 'churn', dagId: 'deploy_model' });
    expect(nagFindings(stack)).toEqual([]);
  });

  test('every source and option: zero unacknowledged findings', () => {
    const { stack } = triggerWithEverySource();
    expect(nagFindings(stack).filter((f) => !f.includes('/Data/') && !f.includes('/Repo/'))).toEqual([]);
  });

  test('in a VPC: zero unacknowledged findings', () => {
    const { stack, environment } = importedEnvironment();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    new DagTrigger(stack, 'Trigger', { environment, vpc }).onEvent('E', { eventPattern: { source: ['x'] }, dagId: 'd' });
    expect(nagFindings(stack).filter((f) => !f.includes('/Vpc/'))).toEqual([]);
  });
});
