import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { MwaaMlopsPipeline, Orchestration } from '../src';
import { acknowledgements, nagFindings } from './nag';

/** The trigger's rules with their pattern or schedule and the target's input. */
function triggerRules(t: Template) {
  return Object.values(t.findResources('AWS::Events::Rule'))
    .filter((rule) => JSON.stringify(rule.Properties.Targets ?? []).includes('TriggerFunction'))
    .map((rule) => ({
      pattern: rule.Properties.EventPattern,
      schedule: rule.Properties.ScheduleExpression,
      input: JSON.stringify(rule.Properties.Targets[0].InputTransformer?.InputTemplate ?? rule.Properties.Targets[0].Input),
    }));
}

describe.each([
  ['on an MWAA environment', {}],
  ['on MWAA Serverless', { orchestration: Orchestration.serverless() }],
])('MwaaMlopsPipeline with drift detection %s', (_mode, props) => {
  const app = new App();
  const stack = new Stack(app, 'Drifting', { env: { account: '123456789012', region: 'eu-west-1' } });
  const pipeline = new MwaaMlopsPipeline(stack, 'Churn', { ...props, workflow: { drift: { schedule: events.Schedule.rate(Duration.hours(6)) } } });
  const t = Template.fromStack(stack);
  const serverless = pipeline.environment === undefined;

  test('the schedule starts the drift check, and only the drift check', () => {
    const scheduled = triggerRules(t).filter((rule) => rule.schedule);
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0].schedule).toBe('rate(6 hours)');
    expect(scheduled[0].input).toMatch(serverless ? /ChurnWorkflowDriftWorkflow/ : /\\"dagId\\":\\"churn_drift\\"/);
  });

  test('the drift alarm going off, and nothing else of it, starts training', () => {
    const onAlarm = triggerRules(t).filter((rule) => rule.pattern?.source?.includes('aws.cloudwatch'));
    expect(onAlarm).toHaveLength(1);
    const alarmId = stack.getLogicalId(pipeline.workflow.driftAlarm!.node.defaultChild as any);
    expect(onAlarm[0].pattern).toEqual({
      'source': ['aws.cloudwatch'],
      'detail-type': ['CloudWatch Alarm State Change'],
      'resources': [{ 'Fn::GetAtt': [alarmId, 'Arn'] }],
      'detail': { state: { value: ['ALARM'] } },
    });
    expect(onAlarm[0].input).toMatch(serverless ? /ChurnWorkflowTrainingWorkflow/ : /\\"dagId\\":\\"churn_training\\"/);
  });

  test('the drift alarm notifies the topic and the dashboard has a drift section', () => {
    const alarm = Object.values(t.findResources('AWS::CloudWatch::Alarm')).find((a) => a.Properties.AlarmName === 'churn-data-drift')!;
    expect(alarm.Properties.AlarmActions).toEqual([{ Ref: stack.getLogicalId(pipeline.topic.node.defaultChild as any) }]);
    expect(pipeline.monitoring.alarms).toContain(pipeline.workflow.driftAlarm);
    const body = JSON.stringify(Object.values(t.findResources('AWS::CloudWatch::Dashboard'))[0].Properties.DashboardBody);
    expect(body).toContain('Data drift: churn');
    expect(body).toContain('DriftedFeatureShare');
  });

  test('failed drift runs raise an alarm like training and deployment runs', () => {
    const names = JSON.stringify(Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties.AlarmDescription));
    expect(names).toMatch(serverless ? /drift workflow/ : /drift DAG churn_drift/);
  });

  test('cdk-nag finds nothing unexplained', () => {
    expect(nagFindings(stack)).toEqual([]);
  });

  test('each policy on * explains each of its calls, the drift cool-down\'s ListTrainingJobs included', () => {
    const reasons = stack.node.findAll()
      .filter((c) => c instanceof iam.Policy && /UnscopedPolicy$/.test(c.node.id))
      .map((c) => ({
        actions: (c as iam.Policy).document.toJSON().Statement.flatMap((s: any) => [s.Action].flat()),
        why: acknowledgements(c).find((a) => a.id === 'AwsSolutions-IAM5[Resource::*]')?.reason,
      }))
      .filter((r) => r.actions.every((action: string) => action.startsWith('sagemaker:')));
    const training = reasons.find((r) => r.actions.includes('sagemaker:ListTrainingJobs'))!;
    expect(training.why).toMatch(/drift cool-down lists this pipeline's recent training jobs/);
    for (const { actions, why } of reasons) {
      expect(why).toMatch(/SageMaker has no resource-level permissions/);
      if (!actions.includes('sagemaker:ListModelPackages')) expect(why).not.toMatch(/packages/);
    }
  });
});

test('retrainOnDrift false: the alarm notifies, but starts no training', () => {
  const stack = new Stack(new App(), 'NotifyOnly', { env: { account: '123456789012', region: 'eu-west-1' } });
  const pipeline = new MwaaMlopsPipeline(stack, 'Churn', { workflow: { drift: { retrainOnDrift: false } } });
  const t = Template.fromStack(stack);
  expect(triggerRules(t).filter((rule) => rule.pattern?.source?.includes('aws.cloudwatch'))).toEqual([]);
  expect(triggerRules(t).filter((rule) => rule.schedule)).toHaveLength(1);
  expect(pipeline.monitoring.alarms).toContain(pipeline.workflow.driftAlarm);
});

test('without drift the pipeline has no drift rules, alarm or section', () => {
  const stack = new Stack(new App(), 'Plain', { env: { account: '123456789012', region: 'eu-west-1' } });
  new MwaaMlopsPipeline(stack, 'Churn');
  const t = Template.fromStack(stack);
  expect(triggerRules(t).filter((rule) => rule.schedule || rule.pattern?.source?.includes('aws.cloudwatch'))).toEqual([]);
  expect(JSON.stringify(t.toJSON())).not.toMatch(/DriftedFeatureShare|churn-data-drift|churn_drift/);
});
