import { Duration } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AirflowEnvironment, DagTrigger, PipelineMonitoring } from '../../src';
import { nagFindings } from '../nag';
import { newStack, onlyResource, template } from '../util';
import { alarm, dashboardBody, graphOptions, graphs, logicalId, loop, rule, WORKFLOW } from './fixtures';

const ALARM_ARNS = {
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudwatch:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':alarm:*']],
};
const ALARM_CONDITIONS = {
  StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
  ArnLike: { 'aws:SourceArn': ALARM_ARNS },
};

function statements(policy: any, principal: string): any[] {
  return policy.Statement.filter((s: any) => s.Principal?.Service === principal);
}

describe('PipelineMonitoring topic', () => {
  test('default: a topic encrypted with a new rotating key, TLS only, that this account\'s alarms may publish to', () => {
    const stack = newStack();
    new PipelineMonitoring(stack, 'Monitoring');
    const t = template(stack);
    const keyId = logicalId(t, 'AWS::KMS::Key', 'MonitoringTopicKey');
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    t.hasResource('AWS::KMS::Key', { DeletionPolicy: 'Delete' });
    expect(onlyResource(t, 'AWS::SNS::Topic').Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });

    const topicPolicy = onlyResource(t, 'AWS::SNS::TopicPolicy').Properties.PolicyDocument;
    expect(topicPolicy.Statement).toContainEqual(expect.objectContaining({
      Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    }));
    expect(statements(topicPolicy, 'cloudwatch.amazonaws.com')).toEqual([expect.objectContaining({
      Effect: 'Allow', Action: 'sns:Publish', Condition: ALARM_CONDITIONS,
    })]);
    const keyPolicy = onlyResource(t, 'AWS::KMS::Key').Properties.KeyPolicy;
    expect(statements(keyPolicy, 'cloudwatch.amazonaws.com')).toEqual([expect.objectContaining({
      Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Condition: ALARM_CONDITIONS,
    })]);
    // EventBridge gets nothing until a rule publishes to the topic.
    expect(statements(topicPolicy, 'events.amazonaws.com')).toEqual([]);
    expect(statements(keyPolicy, 'events.amazonaws.com')).toEqual([]);
  });

  test('rules that publish: EventBridge may publish and use the key, with no condition (AWS supports none there)', () => {
    const stack = newStack();
    new PipelineMonitoring(stack, 'Monitoring').monitorWorkflow(WORKFLOW);
    const t = template(stack);
    const topicPolicy = onlyResource(t, 'AWS::SNS::TopicPolicy').Properties.PolicyDocument;
    const monitoringKey = onlyResource(t, 'AWS::KMS::Key');
    const publish = statements(topicPolicy, 'events.amazonaws.com');
    expect(publish).toEqual([expect.objectContaining({ Effect: 'Allow', Action: 'sns:Publish' })]);
    expect(publish[0].Condition).toBeUndefined();
    const useKey = statements(monitoringKey.Properties.KeyPolicy, 'events.amazonaws.com');
    expect(useKey.length).toBeGreaterThan(0);
    for (const statement of useKey) {
      expect(statement.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
      expect(statement.Condition).toBeUndefined();
    }
  });

  test('a given key encrypts the created topic and gets the same statements', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const monitoring = new PipelineMonitoring(stack, 'Monitoring', { encryptionKey: key });
    const t = template(stack);
    expect(monitoring.encryptionKey).toBe(key);
    expect(Object.keys(t.findResources('AWS::KMS::Key'))).toEqual([logicalId(t, 'AWS::KMS::Key', 'Key')]);
    expect(onlyResource(t, 'AWS::SNS::Topic').Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [logicalId(t, 'AWS::KMS::Key', 'Key'), 'Arn'] });
    expect(statements(onlyResource(t, 'AWS::KMS::Key').Properties.KeyPolicy, 'cloudwatch.amazonaws.com')).toHaveLength(1);
  });

  test('an imported key: a warning says what its policy must allow', () => {
    const stack = newStack();
    const key = kms.Key.fromKeyArn(stack, 'Key', 'arn:aws:kms:eu-west-1:123456789012:key/12345678-1234-1234-1234-123456789012');
    const monitoring = new PipelineMonitoring(stack, 'Monitoring', { encryptionKey: key });
    monitoring.monitorWorkflow(WORKFLOW);
    Annotations.fromStack(stack).hasWarning('/Test/Monitoring', Match.stringLikeRegexp('encryptionKey: .*imported.*cloudwatch.amazonaws.com and events.amazonaws.com'));
  });

  test('a given topic: no topic or key is created; alarms and rules use it', () => {
    const stack2 = newStack('Given');
    const topic = new sns.Topic(stack2, 'Alerts', { enforceSSL: true, masterKey: new kms.Key(stack2, 'AlertsKey', { enableKeyRotation: true }) });
    const given = new PipelineMonitoring(stack2, 'Monitoring', { topic });
    given.monitorWorkflow(WORKFLOW);
    const t = template(stack2);
    expect(given.topic).toBe(topic);
    expect(given.encryptionKey).toBeUndefined();
    expect(Object.keys(t.findResources('AWS::SNS::Topic'))).toEqual([logicalId(t, 'AWS::SNS::Topic', 'Alerts')]);
    expect(Object.keys(t.findResources('AWS::KMS::Key'))).toEqual([logicalId(t, 'AWS::KMS::Key', 'AlertsKey')]);
    expect(alarm(t, 'TrainingDagFailedAlarm').Properties.AlarmActions).toEqual([{ Ref: logicalId(t, 'AWS::SNS::Topic', 'Alerts') }]);
    expect(rule(t, 'GlueJobFailed').Properties.Targets[0].Arn).toEqual({ Ref: logicalId(t, 'AWS::SNS::Topic', 'Alerts') });
    expect(statements(onlyResource(t, 'AWS::SNS::TopicPolicy').Properties.PolicyDocument, 'cloudwatch.amazonaws.com')).toHaveLength(1);
  });

  test('an imported topic: a warning says what its policy must allow', () => {
    const stack = newStack();
    const topic = sns.Topic.fromTopicArn(stack, 'Alerts', 'arn:aws:sns:eu-west-1:123456789012:alerts');
    new PipelineMonitoring(stack, 'Monitoring', { topic });
    Annotations.fromStack(stack).hasWarning('/Test/Monitoring', Match.stringLikeRegexp('topic: .*imported.*cloudwatch.amazonaws.com and events.amazonaws.com'));
    expect(template(stack).findResources('AWS::SNS::Topic')).toEqual({});
  });

  test('topic and encryptionKey together are refused', () => {
    const stack = newStack();
    const topic = sns.Topic.fromTopicArn(stack, 'Alerts', 'arn:aws:sns:eu-west-1:123456789012:alerts');
    const encryptionKey = new kms.Key(stack, 'Key');
    expect(() => new PipelineMonitoring(stack, 'Monitoring', { topic, encryptionKey })).toThrow(/encryptionKey: .*topic is given/);
  });
});

describe('PipelineMonitoring dashboard and options', () => {
  test('default: one dashboard with a generated name, a day of history', () => {
    const stack = newStack();
    new PipelineMonitoring(stack, 'Monitoring');
    const dashboard = onlyResource(template(stack), 'AWS::CloudWatch::Dashboard').Properties;
    expect(dashboard.DashboardName).toBeUndefined();
    expect(JSON.parse(dashboard.DashboardBody)).toEqual({ start: '-P1D', widgets: [] });
  });

  test('dashboardName, period and thresholds are used', () => {
    const { stack, monitoring } = loop({
      dashboardName: 'churn-health',
      period: Duration.minutes(1),
      endpointLatencyThreshold: Duration.millis(250),
      endpointClientErrorThreshold: 3,
      endpointServerErrorThreshold: 2,
    });
    monitoring.monitorWorkflow(WORKFLOW);
    const t = template(stack);
    expect(onlyResource(t, 'AWS::CloudWatch::Dashboard').Properties.DashboardName).toBe('churn-health');
    expect(alarm(t, 'EndpointLatencyAlarm').Properties).toMatchObject({ Threshold: 250_000, Period: 60 });
    expect(alarm(t, 'EndpointClientErrorsAlarm').Properties).toMatchObject({ Threshold: 3, Period: 60 });
    expect(alarm(t, 'EndpointServerErrorsAlarm').Properties).toMatchObject({ Threshold: 2, Period: 60 });
    expect(graphOptions(t, 'Endpoint model latency (p90, microseconds)')).toEqual([{ stat: 'p90', period: 60 }]);
  });

  test.each([
    [{ dashboardName: 'churn health' }, /dashboardName: 'churn health' is not allowed; use 1 to 255 letters, digits/],
    [{ period: Duration.seconds(90) }, /period: 90 seconds is not allowed; use whole minutes from 1 minute to 1 day/],
    [{ period: Duration.days(2) }, /period: 172800 seconds is not allowed/],
    [{ endpointLatencyThreshold: Duration.millis(0) }, /endpointLatencyThreshold \(milliseconds\): 0 is not allowed; use a number greater than 0/],
    [{ endpointClientErrorThreshold: 0 }, /endpointClientErrorThreshold: 0 is not allowed/],
    [{ endpointServerErrorThreshold: -1 }, /endpointServerErrorThreshold: -1 is not allowed/],
  ])('refuses %p', (props, message) => {
    expect(() => new PipelineMonitoring(newStack(), 'Monitoring', props)).toThrow(message);
  });
});

describe('PipelineMonitoring.monitorBuild', () => {
  test('counts started, succeeded and failed executions from CodePipeline events; failures are reported and raise an alarm', () => {
    const { stack, monitoring, build } = loop();
    monitoring.monitorBuild(build);
    const t = template(stack);
    const pipeline = { Ref: logicalId(t, 'AWS::CodePipeline::Pipeline', 'BuildPipeline') };
    for (const state of ['STARTED', 'SUCCEEDED', 'FAILED']) {
      expect(rule(t, `${state.charAt(0)}${state.slice(1).toLowerCase()}Executions`).Properties.EventPattern).toEqual({
        'source': ['aws.codepipeline'],
        'detail-type': ['CodePipeline Pipeline Execution State Change'],
        'detail': { pipeline: [pipeline], state: [state] },
      });
    }
    // Started and succeeded executions are only counted; a failure is sent to the topic.
    expect(rule(t, 'StartedExecutions').Properties.Targets).toBeUndefined();
    expect(rule(t, 'SucceededExecutions').Properties.Targets).toBeUndefined();
    expect(rule(t, 'FailedExecutions').Properties.Targets).toEqual([{
      Arn: { Ref: logicalId(t, 'AWS::SNS::Topic', 'MonitoringTopic') },
      Id: 'Target0',
      InputTransformer: {
        InputPathsMap: { 'detail-pipeline': '$.detail.pipeline', 'detail-execution-id': '$.detail.execution-id' },
        InputTemplate: '"[Test/Build] Model build pipeline <detail-pipeline> failed: execution <detail-execution-id>"',
      },
    }]);
    const failedRule = logicalId(t, 'AWS::Events::Rule', 'FailedExecutions');
    expect(alarm(t, 'FailedExecutionsAlarm').Properties).toMatchObject({
      Namespace: 'AWS/Events',
      MetricName: 'MatchedEvents',
      Statistic: 'Sum',
      Period: 300,
      Dimensions: [{ Name: 'RuleName', Value: { Ref: failedRule } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: logicalId(t, 'AWS::SNS::Topic', 'MonitoringTopic') }],
    });
    expect(graphs(t)['Pipeline executions']).toEqual([
      ['AWS/Events', 'MatchedEvents', 'RuleName', `REF(${logicalId(t, 'AWS::Events::Rule', 'StartedExecutions')})`],
      ['AWS/Events', 'MatchedEvents', 'RuleName', `REF(${logicalId(t, 'AWS::Events::Rule', 'SucceededExecutions')})`],
      ['AWS/Events', 'MatchedEvents', 'RuleName', `REF(${failedRule})`],
    ]);
    expect(monitoring.rules).toHaveLength(3);
    expect(monitoring.alarms).toHaveLength(1);
  });

  test('the same build twice is refused', () => {
    const { monitoring, build } = loop();
    monitoring.monitorBuild(build);
    expect(() => monitoring.monitorBuild(build)).toThrow(/build 'Test\/Build' is already monitored; call monitorBuild once for it/);
  });
});

describe('PipelineMonitoring.monitorTrigger', () => {
  test('the trigger\'s alarms notify the topic; outcomes and dead-letter depth are graphed', () => {
    const { stack, monitoring, trigger } = loop();
    monitoring.monitorTrigger(trigger);
    const t = template(stack);
    const topic = { Ref: logicalId(t, 'AWS::SNS::Topic', 'MonitoringTopic') };
    for (const id of ['TriggerDeadLetterAlarm', 'TriggerErrorsAlarm', 'TriggerRejectedEventsAlarm']) {
      expect(alarm(t, id).Properties.AlarmActions).toEqual([topic]);
    }
    expect(monitoring.alarms).toEqual([trigger.deadLetterAlarm, trigger.errorsAlarm, trigger.rejectedEventsAlarm]);
    const g = graphs(t);
    expect(g['Trigger outcomes']).toEqual(['Triggered', 'AlreadyTriggered', 'Rejected', 'Failed'].map((name) =>
      ['CdkMwaaMlops/DagTrigger', name, 'Environment', 'ml-env']));
    expect(g['Dead-letter queue depth']).toEqual([
      ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', `GETATT(${logicalId(t, 'AWS::SQS::Queue', 'TriggerDeadLetterQueue')}.QueueName)`],
    ]);
    expect(graphOptions(t, 'Dead-letter queue depth')).toEqual([{ label: 'Events waiting for replay', stat: 'Maximum' }]);
  });

  test('a trigger that already notifies the topic is not given it twice', () => {
    const stack = newStack();
    const monitoring = new PipelineMonitoring(stack, 'Monitoring');
    const environment = AirflowEnvironment.fromEnvironmentAttributes(stack, 'Env', { environmentName: 'ml-env' });
    const trigger = new DagTrigger(stack, 'Trigger', { environment, alarmTopic: monitoring.topic });
    monitoring.monitorTrigger(trigger);
    const t = template(stack);
    expect(alarm(t, 'TriggerErrorsAlarm').Properties.AlarmActions).toEqual([{ Ref: logicalId(t, 'AWS::SNS::Topic', 'MonitoringTopic') }]);
  });

  test('the same trigger twice is refused', () => {
    const { monitoring, trigger } = loop();
    monitoring.monitorTrigger(trigger);
    expect(() => monitoring.monitorTrigger(trigger)).toThrow(/trigger 'Test\/Trigger' is already monitored/);
  });
});

describe('PipelineMonitoring.monitorEnvironment', () => {
  test('MWAA\'s own metrics: alarms on a silent scheduler and on DAG import errors; tasks graphed', () => {
    const { stack, monitoring, environment } = loop();
    monitoring.monitorEnvironment(environment);
    const t = template(stack);
    const topic = { Ref: logicalId(t, 'AWS::SNS::Topic', 'MonitoringTopic') };
    expect(alarm(t, 'SchedulerHeartbeatAlarm').Properties).toMatchObject({
      Namespace: 'AmazonMWAA',
      MetricName: 'SchedulerHeartbeat',
      Statistic: 'Sum',
      Period: 300,
      Dimensions: [{ Name: 'Environment', Value: 'ml-env' }, { Name: 'Function', Value: 'Scheduler' }],
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 3,
      TreatMissingData: 'breaching',
      AlarmActions: [topic],
    });
    expect(alarm(t, 'ImportErrorsAlarm').Properties).toMatchObject({
      Namespace: 'AmazonMWAA',
      MetricName: 'ImportErrors',
      Statistic: 'Maximum',
      Dimensions: [{ Name: 'Environment', Value: 'ml-env' }, { Name: 'Function', Value: 'DAG Processing' }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [topic],
    });
    const g = graphs(t);
    expect(g.Tasks).toEqual([
      ['AmazonMWAA', 'QueuedTasks', 'Environment', 'ml-env', 'Function', 'Executor'],
      ['AmazonMWAA', 'RunningTasks', 'Environment', 'ml-env', 'Function', 'Executor'],
    ]);
    expect(g['Failed task instances']).toEqual([['AmazonMWAA', 'TaskInstanceFailures', 'DAG', 'All', 'Environment', 'ml-env', 'Task', 'All']]);
    expect(g['Scheduler heartbeat']).toEqual([['AmazonMWAA', 'SchedulerHeartbeat', 'Environment', 'ml-env', 'Function', 'Scheduler']]);
    expect(g['DAG import errors']).toEqual([['AmazonMWAA', 'ImportErrors', 'Environment', 'ml-env', 'Function', 'DAG Processing']]);
  });

  test('a created environment: the heartbeat alarm waits for it', () => {
    const stack = newStack();
    const environment = new AirflowEnvironment(stack, 'Airflow');
    const monitoring = new PipelineMonitoring(stack, 'Monitoring');
    monitoring.monitorEnvironment(environment);
    const t = template(stack);
    const env = logicalId(t, 'AWS::MWAA::Environment', 'Airflow');
    expect(alarm(t, 'SchedulerHeartbeatAlarm').DependsOn).toContain(env);
  });

  test('the same environment twice (even imported twice) is refused', () => {
    const { stack, monitoring, environment } = loop();
    monitoring.monitorEnvironment(environment);
    const again = AirflowEnvironment.fromEnvironmentAttributes(stack, 'Again', { environmentName: 'ml-env' });
    expect(() => monitoring.monitorEnvironment(again)).toThrow(/environment 'ml-env' is already monitored; call monitorEnvironment once for it/);
  });
});

describe('PipelineMonitoring.monitorWorkflow', () => {
  test('DAG run outcomes from MWAA\'s DAGDuration timers; a failed run of either DAG raises an alarm', () => {
    const { stack, monitoring } = loop();
    monitoring.monitorWorkflow(WORKFLOW);
    const t = template(stack);
    const topic = { Ref: logicalId(t, 'AWS::SNS::Topic', 'MonitoringTopic') };
    for (const [id, dag] of [['TrainingDagFailedAlarm', 'churn_training'], ['DeploymentDagFailedAlarm', 'churn_deployment']]) {
      expect(alarm(t, id).Properties).toMatchObject({
        Namespace: 'AmazonMWAA',
        MetricName: 'DAGDurationFailed',
        Statistic: 'SampleCount',
        Period: 300,
        Dimensions: [{ Name: 'DAG', Value: dag }, { Name: 'Environment', Value: 'ml-env' }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [topic],
      });
    }
    expect(graphs(t)['DAG runs']).toEqual(['churn_training', 'churn_deployment'].flatMap((dag) => [
      ['AmazonMWAA', 'DAGDurationSuccess', 'DAG', dag, 'Environment', 'ml-env'],
      ['AmazonMWAA', 'DAGDurationFailed', 'DAG', dag, 'Environment', 'ml-env'],
    ]));
    expect(graphOptions(t, 'DAG runs')).toEqual([
      { label: 'churn_training succeeded', stat: 'SampleCount' }, { label: 'churn_training failed', stat: 'SampleCount' },
      { label: 'churn_deployment succeeded', stat: 'SampleCount' }, { label: 'churn_deployment failed', stat: 'SampleCount' },
    ]);
  });

  test('Glue job failures: a rule on the job\'s FAILED/TIMEOUT/ERROR events tells the topic which run and why', () => {
    const { stack, monitoring } = loop();
    monitoring.monitorWorkflow(WORKFLOW);
    const t = template(stack);
    const found = rule(t, 'GlueJobFailed').Properties;
    expect(found.EventPattern).toEqual({
      'source': ['aws.glue'],
      'detail-type': ['Glue Job State Change'],
      'detail': { jobName: ['churn-preprocess'], state: ['FAILED', 'TIMEOUT', 'ERROR'] },
    });
    expect(found.Targets).toEqual([{
      Arn: { Ref: logicalId(t, 'AWS::SNS::Topic', 'MonitoringTopic') },
      Id: 'Target0',
      InputTransformer: {
        InputPathsMap: { 'detail-jobName': '$.detail.jobName', 'detail-jobRunId': '$.detail.jobRunId', 'detail-state': '$.detail.state', 'detail-message': '$.detail.message' },
        InputTemplate: '"[churn] Glue job <detail-jobName> run <detail-jobRunId> ended <detail-state>: <detail-message>"',
      },
    }]);
    expect(alarm(t, 'GlueJobFailedAlarm').Properties).toMatchObject({
      Namespace: 'AWS/Events',
      MetricName: 'MatchedEvents',
      Statistic: 'Sum',
      Dimensions: [{ Name: 'RuleName', Value: { Ref: logicalId(t, 'AWS::Events::Rule', 'GlueJobFailed') } }],
      Threshold: 1,
      AlarmActions: [{ Ref: logicalId(t, 'AWS::SNS::Topic', 'MonitoringTopic') }],
    });
  });

  test.each([
    ['Training', 'SageMaker Training Job State Change', 'TrainingJobName', 'TrainingJobStatus', 'training'],
    ['Processing', 'SageMaker Processing Job State Change', 'ProcessingJobName', 'ProcessingJobStatus', 'processing'],
  ])('SageMaker %s job failures: jobs named with the prefix that end Failed or Stopped are reported', (label, detailType, nameField, statusField, word) => {
    const { stack, monitoring } = loop();
    monitoring.monitorWorkflow(WORKFLOW);
    const t = template(stack);
    const found = rule(t, `${label}JobFailed`).Properties;
    expect(found.EventPattern).toEqual({
      'source': ['aws.sagemaker'],
      'detail-type': [detailType],
      'detail': { [nameField]: [{ prefix: 'churn-' }], [statusField]: ['Failed', 'Stopped'] },
    });
    expect(found.Targets[0].InputTransformer).toEqual({
      InputPathsMap: { [`detail-${nameField}`]: `$.detail.${nameField}`, [`detail-${statusField}`]: `$.detail.${statusField}`, 'detail-FailureReason': '$.detail.FailureReason' },
      InputTemplate: `"[churn] SageMaker ${word} job <detail-${nameField}> ended <detail-${statusField}>: <detail-FailureReason>"`,
    });
    expect(alarm(t, `${label}JobFailedAlarm`).Properties).toMatchObject({
      MetricName: 'MatchedEvents', Dimensions: [{ Name: 'RuleName', Value: { Ref: logicalId(t, 'AWS::Events::Rule', `${label}JobFailed`) } }],
    });
    expect(graphs(t)['Job failures']).toContainEqual(['AWS/Events', 'MatchedEvents', 'RuleName', `REF(${logicalId(t, 'AWS::Events::Rule', `${label}JobFailed`)})`]);
  });

  test('the endpoint: invocations, 4XX, 5XX and p90 model latency on variant AllTraffic, with alarms', () => {
    const { stack, monitoring } = loop();
    monitoring.monitorWorkflow(WORKFLOW);
    const t = template(stack);
    const dimensions = [{ Name: 'EndpointName', Value: 'churn-endpoint' }, { Name: 'VariantName', Value: 'AllTraffic' }];
    const topic = { Ref: logicalId(t, 'AWS::SNS::Topic', 'MonitoringTopic') };
    expect(alarm(t, 'EndpointServerErrorsAlarm').Properties).toMatchObject({
      Namespace: 'AWS/SageMaker',
      MetricName: 'Invocation5XXErrors',
      Statistic: 'Sum',
      Dimensions: dimensions,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      AlarmActions: [topic],
    });
    expect(alarm(t, 'EndpointClientErrorsAlarm').Properties).toMatchObject({
      Namespace: 'AWS/SageMaker',
      MetricName: 'Invocation4XXErrors',
      Statistic: 'Sum',
      Dimensions: dimensions,
      Threshold: 10,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [topic],
    });
    expect(alarm(t, 'EndpointLatencyAlarm').Properties).toMatchObject({
      Namespace: 'AWS/SageMaker',
      MetricName: 'ModelLatency',
      ExtendedStatistic: 'p90',
      Dimensions: dimensions,
      Threshold: 1_000_000,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 3,
      TreatMissingData: 'notBreaching',
      AlarmActions: [topic],
    });
    const g = graphs(t);
    expect(g['Endpoint invocations']).toEqual(['Invocations', 'Invocation4XXErrors', 'Invocation5XXErrors'].map((name) =>
      ['AWS/SageMaker', name, 'EndpointName', 'churn-endpoint', 'VariantName', 'AllTraffic']));
    expect(g['Endpoint model latency (p90, microseconds)']).toEqual([['AWS/SageMaker', 'ModelLatency', 'EndpointName', 'churn-endpoint', 'VariantName', 'AllTraffic']]);
    // DAG runs (2), Glue and SageMaker jobs (3), endpoint (3).
    expect(monitoring.alarms).toHaveLength(8);
  });

  test('no endpoint: no endpoint alarms or graphs', () => {
    const { stack, monitoring } = loop();
    monitoring.monitorWorkflow({ ...WORKFLOW, endpointName: undefined });
    const t = template(stack);
    expect(Object.keys(t.findResources('AWS::CloudWatch::Alarm')).filter((id) => id.includes('Endpoint'))).toEqual([]);
    expect(Object.keys(graphs(t))).toEqual(['DAG runs', 'Job failures']);
    expect(monitoring.alarms).toHaveLength(5);
  });

  test('every section: a title, the status of its alarms, then its graphs', () => {
    const { stack, monitoring, build, trigger, environment } = loop();
    monitoring.monitorBuild(build);
    monitoring.monitorTrigger(trigger);
    monitoring.monitorEnvironment(environment);
    monitoring.monitorWorkflow(WORKFLOW);
    const body = dashboardBody(template(stack));
    const titles = body.widgets.filter((w: any) => w.type === 'text').map((w: any) => w.properties.markdown);
    expect(titles).toEqual(['## Model build: Test/Build', '## DAG trigger: Test/Trigger', '## Airflow environment: ml-env', '## Pipeline: churn']);
    const alarmWidgets = body.widgets.filter((w: any) => w.type === 'alarm');
    expect(alarmWidgets.map((w: any) => w.properties.alarms.length)).toEqual([1, 3, 2, 8]);
    expect(monitoring.alarms).toHaveLength(14);
  });

  test('the same pipeline twice is refused', () => {
    const { monitoring } = loop();
    monitoring.monitorWorkflow(WORKFLOW);
    expect(() => monitoring.monitorWorkflow(WORKFLOW)).toThrow(/workflow 'churn' is already monitored; call monitorWorkflow or monitorServerlessWorkflows once per pipeline/);
  });

  test('overlapping job name prefixes are refused: each pipeline would report the other\'s jobs', () => {
    const { monitoring } = loop();
    monitoring.monitorWorkflow(WORKFLOW);
    expect(() => monitoring.monitorWorkflow({
      ...WORKFLOW, pipelineName: 'churn-eu', trainingDagId: 'churn-eu_training', deploymentDagId: 'churn-eu_deployment', sagemakerJobNamePrefix: 'churn-eu-',
    })).toThrow(/sagemakerJobNamePrefix: 'churn-eu-' of pipeline churn-eu overlaps 'churn-' of pipeline churn/);
    monitoring.monitorWorkflow({ ...WORKFLOW, pipelineName: 'fraud', trainingDagId: 'fraud_training', deploymentDagId: 'fraud_deployment', sagemakerJobNamePrefix: 'fraud-' });
  });

  test.each([
    [{ pipelineName: '' }, /pipelineName: '' is not allowed; use lowercase letters, digits and single hyphens/],
    [{ pipelineName: 'Churn_1' }, /pipelineName: 'Churn_1' is not allowed/],
    [{ environmentName: '' }, /environmentName: '' is not allowed; use an MWAA environment name/],
    [{ trainingDagId: '' }, /trainingDagId: '' is not allowed; use 1 to 50 letters/],
    [{ deploymentDagId: 'has space' }, /deploymentDagId: 'has space' is not allowed/],
    [{ deploymentDagId: 'churn_training' }, /deploymentDagId: 'churn_training' is also the trainingDagId/],
    [{ glueJobName: '' }, /glueJobName: '' is not allowed; use a Glue job name of 1 to 255 characters/],
    [{ sagemakerJobNamePrefix: '' }, /sagemakerJobNamePrefix: '' is not allowed; use 1 to 63 letters, digits or '-'/],
    [{ sagemakerJobNamePrefix: 'churn_' }, /sagemakerJobNamePrefix: 'churn_' is not allowed/],
    [{ endpointName: '' }, /endpointName: '' is not allowed; use a SageMaker endpoint name .*or leave it out/],
    [{ endpointName: 'churn-' }, /endpointName: 'churn-' is not allowed/],
  ])('refuses %p', (override, message) => {
    const { monitoring } = loop();
    expect(() => monitoring.monitorWorkflow({ ...WORKFLOW, ...override })).toThrow(message);
  });
});

describe('PipelineMonitoring cdk-nag', () => {
  test('AwsSolutions clean with everything watched', () => {
    const { stack, monitoring, build, trigger, environment } = loop();
    monitoring.monitorBuild(build);
    monitoring.monitorTrigger(trigger);
    monitoring.monitorEnvironment(environment);
    monitoring.monitorWorkflow(WORKFLOW);
    expect(nagFindings(stack).filter((f) => f.includes('/Monitoring'))).toEqual([]);
  });

  test('AwsSolutions clean alone', () => {
    const stack = newStack();
    new PipelineMonitoring(stack, 'Monitoring').monitorWorkflow(WORKFLOW);
    expect(nagFindings(stack)).toEqual([]);
  });
});
