import { Fn } from 'aws-cdk-lib';
import { PipelineMonitoring } from '../../src';
import { nagFindings } from '../nag';
import { newStack, onlyResource, template } from '../util';
import {
  alarm, dashboardBody, DEPLOYMENT_ARN, graphOptions, graphs, logicalId, loop, rule, serverlessOptions, serverlessWorkflow, TRAINING_ARN, WORKFLOW,
} from './fixtures';

const FAILED = ['MWAA Serverless Workflow Run Failed', 'MWAA Serverless Workflow Run Timeout'];

function statements(policy: any, principal: string): any[] {
  return policy.Statement.filter((s: any) => s.Principal?.Service === principal);
}

describe('PipelineMonitoring.monitorServerlessWorkflows', () => {
  test.each([
    ['Training', TRAINING_ARN, 'churn-training', 'training'],
    ['Deployment', DEPLOYMENT_ARN, 'churn-deployment', 'deployment'],
  ])('%s workflow: failed and timed-out runs (matched by the workflow ARN in resources) go to the topic with a readable message', (label, arn, name, word) => {
    const { stack, monitoring } = loop();
    monitoring.monitorServerlessWorkflows(serverlessOptions(stack));
    const t = template(stack);
    const topic = { Ref: logicalId(t, 'AWS::SNS::Topic', 'MonitoringTopic') };
    const failed = rule(t, `${label}WorkflowRunsFailed`).Properties;
    expect(failed.EventPattern).toEqual({
      'source': ['aws.airflow-serverless'],
      'detail-type': FAILED,
      'resources': [{ prefix: arn }],
    });
    expect(failed.State).toBe('ENABLED');
    expect(failed.Targets).toEqual([{
      Arn: topic,
      Id: 'Target0',
      InputTransformer: {
        InputPathsMap: { 'detail-type': '$.detail-type', 'time': '$.time', 'id': '$.id' },
        InputTemplate: `"[churn] MWAA Serverless ${word} workflow ${name}: <detail-type> at <time> (event <id>). `
          + `The run's error and its tasks: ListWorkflowRuns and GetWorkflowRun on ${arn}; task logs in the workflow's log group"`,
      },
    }]);
    expect(alarm(t, `${label}WorkflowRunsFailedAlarm`).Properties).toMatchObject({
      Namespace: 'AWS/Events',
      MetricName: 'MatchedEvents',
      Statistic: 'Sum',
      Period: 300,
      Dimensions: [{ Name: 'RuleName', Value: { Ref: logicalId(t, 'AWS::Events::Rule', `${label}WorkflowRunsFailed`) } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: [topic],
      AlarmDescription: `[churn] A run of MWAA Serverless ${word} workflow ${name} failed or timed out: the topic has the details`,
    });
    // Succeeded runs are only counted.
    const succeeded = rule(t, `${label}WorkflowRunsSucceeded`).Properties;
    expect(succeeded.EventPattern).toEqual({
      'source': ['aws.airflow-serverless'], 'detail-type': ['MWAA Serverless Workflow Run Succeeded'], 'resources': [{ prefix: arn }],
    });
    expect(succeeded.Targets).toBeUndefined();
  });

  test('the dashboard counts each workflow\'s succeeded and failed runs; Glue, SageMaker and endpoint as monitorWorkflow has them', () => {
    const { stack, monitoring } = loop();
    monitoring.monitorServerlessWorkflows(serverlessOptions(stack));
    const t = template(stack);
    const ref = (id: string) => `REF(${logicalId(t, 'AWS::Events::Rule', id)})`;
    const g = graphs(t);
    expect(Object.keys(g)).toEqual(['Workflow runs', 'Job failures', 'Endpoint invocations', 'Endpoint model latency (p90, microseconds)']);
    expect(g['Workflow runs']).toEqual(['TrainingWorkflowRunsSucceeded', 'TrainingWorkflowRunsFailed', 'DeploymentWorkflowRunsSucceeded', 'DeploymentWorkflowRunsFailed']
      .map((id) => ['AWS/Events', 'MatchedEvents', 'RuleName', ref(id)]));
    expect(graphOptions(t, 'Workflow runs')).toEqual([
      { label: 'Training succeeded', stat: 'Sum' }, { label: 'Training failed or timed out', stat: 'Sum' },
      { label: 'Deployment succeeded', stat: 'Sum' }, { label: 'Deployment failed or timed out', stat: 'Sum' },
    ]);
    expect(g['Job failures']).toEqual(['GlueJobFailed', 'TrainingJobFailed', 'ProcessingJobFailed'].map((id) => ['AWS/Events', 'MatchedEvents', 'RuleName', ref(id)]));
    expect(rule(t, 'GlueJobFailed').Properties.EventPattern.detail).toEqual({ jobName: ['churn-preprocess'], state: ['FAILED', 'TIMEOUT', 'ERROR'] });
    expect(rule(t, 'TrainingJobFailed').Properties.EventPattern.detail).toEqual({ TrainingJobName: [{ prefix: 'churn-' }], TrainingJobStatus: ['Failed', 'Stopped'] });
    expect(alarm(t, 'EndpointServerErrorsAlarm').Properties.Dimensions).toEqual([{ Name: 'EndpointName', Value: 'churn-endpoint' }, { Name: 'VariantName', Value: 'AllTraffic' }]);

    const body = dashboardBody(t);
    expect(body.widgets.filter((w: any) => w.type === 'text').map((w: any) => w.properties.markdown)).toEqual(['## Pipeline: churn (MWAA Serverless)']);
    // Workflows (2), Glue and SageMaker jobs (3), endpoint (3).
    expect(body.widgets.find((w: any) => w.type === 'alarm').properties.alarms).toHaveLength(8);
    expect(monitoring.alarms).toHaveLength(8);
    // Succeeded and failed runs of two workflows, and the three jobs.
    expect(monitoring.rules).toHaveLength(7);
  });

  test('no MWAA environment metrics in this mode', () => {
    const stack = newStack();
    new PipelineMonitoring(stack, 'Monitoring').monitorServerlessWorkflows(serverlessOptions(stack));
    const t = template(stack);
    const namespaces = Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((a: any) => a.Properties.Namespace);
    expect(new Set(namespaces)).toEqual(new Set(['AWS/Events', 'AWS/SageMaker']));
    expect(JSON.stringify(dashboardBody(t))).not.toContain('AmazonMWAA');
  });

  test('only a training workflow and no endpoint: one workflow\'s rules and alarm, no endpoint alarms', () => {
    const { stack, monitoring } = loop();
    monitoring.monitorServerlessWorkflows({ ...serverlessOptions(stack), deploymentWorkflow: undefined, endpointName: undefined });
    const t = template(stack);
    expect(Object.keys(t.findResources('AWS::Events::Rule')).filter((id) => id.includes('Deployment'))).toEqual([]);
    expect(Object.keys(graphs(t))).toEqual(['Workflow runs', 'Job failures']);
    expect(graphs(t)['Workflow runs']).toHaveLength(2);
    expect(monitoring.alarms).toHaveLength(4);
  });

  test('a workflow created in the stack: the pattern and message take its ARN and name as references', () => {
    const stack = newStack();
    const monitoring = new PipelineMonitoring(stack, 'Monitoring');
    const arn = Fn.getAtt('Wf', 'WorkflowArn').toString();
    monitoring.monitorServerlessWorkflows({ ...serverlessOptions(stack), trainingWorkflow: serverlessWorkflow(stack, 'Created', arn), deploymentWorkflow: undefined });
    const found = rule(template(stack), 'TrainingWorkflowRunsFailed').Properties;
    expect(found.EventPattern.resources).toEqual([{ prefix: { 'Fn::GetAtt': ['Wf', 'WorkflowArn'] } }]);
    expect(JSON.stringify(found.Targets[0].InputTransformer.InputTemplate)).toContain('Fn::GetAtt');
  });

  test('EventBridge may publish to the topic and use its key (no condition: AWS supports none there)', () => {
    const stack = newStack();
    const monitoring = new PipelineMonitoring(stack, 'Monitoring');
    monitoring.monitorServerlessWorkflows(serverlessOptions(stack));
    const t = template(stack);
    const publish = statements(onlyResource(t, 'AWS::SNS::TopicPolicy').Properties.PolicyDocument, 'events.amazonaws.com');
    expect(publish).toEqual([expect.objectContaining({ Effect: 'Allow', Action: 'sns:Publish' })]);
    expect(publish[0].Condition).toBeUndefined();
    const useKey = statements(onlyResource(t, 'AWS::KMS::Key').Properties.KeyPolicy, 'events.amazonaws.com');
    expect(useKey.length).toBeGreaterThan(0);
    for (const statement of useKey) expect(statement.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
  });

  test('a pipeline is watched once, in either mode', () => {
    const { stack, monitoring } = loop();
    monitoring.monitorWorkflow(WORKFLOW);
    expect(() => monitoring.monitorServerlessWorkflows(serverlessOptions(stack)))
      .toThrow(/workflow 'churn' is already monitored; call monitorWorkflow or monitorServerlessWorkflows once per pipeline/);
  });

  test('job name prefixes may not overlap those of a pipeline watched in the other mode', () => {
    const { stack, monitoring } = loop();
    monitoring.monitorWorkflow(WORKFLOW);
    expect(() => monitoring.monitorServerlessWorkflows({ ...serverlessOptions(stack), pipelineName: 'churn-eu', sagemakerJobNamePrefix: 'churn-eu-' }))
      .toThrow(/sagemakerJobNamePrefix: 'churn-eu-' of pipeline churn-eu overlaps 'churn-' of pipeline churn/);
  });

  test.each([
    ['pipelineName', (o: any) => ({ ...o, pipelineName: 'Churn_1' }), /pipelineName: 'Churn_1' is not allowed/],
    ['a token pipelineName', (o: any) => ({ ...o, pipelineName: Fn.ref('Name') }), /pipelineName: must be a literal name, not a token/],
    ['no trainingWorkflow', (o: any) => ({ ...o, trainingWorkflow: undefined }), /trainingWorkflow: is required/],
    ['the same workflow twice', (o: any) => ({ ...o, deploymentWorkflow: o.trainingWorkflow }), /deploymentWorkflow: Test\/TrainingWorkflow is also the trainingWorkflow/],
    ['glueJobName', (o: any) => ({ ...o, glueJobName: '' }), /glueJobName: '' is not allowed/],
    ['sagemakerJobNamePrefix', (o: any) => ({ ...o, sagemakerJobNamePrefix: 'churn_' }), /sagemakerJobNamePrefix: 'churn_' is not allowed/],
    ['endpointName', (o: any) => ({ ...o, endpointName: 'churn-' }), /endpointName: 'churn-' is not allowed/],
  ])('refuses %s', (_what, change, message) => {
    const { stack, monitoring } = loop();
    expect(() => monitoring.monitorServerlessWorkflows(change(serverlessOptions(stack)))).toThrow(message);
  });

  test.each([
    ['an environment ARN', 'arn:aws:airflow:eu-west-1:123456789012:environment/ml-env', 'trainingWorkflow'],
    ['a workflow ARN without a name', 'arn:aws:airflow-serverless:eu-west-1:123456789012:workflow/', 'deploymentWorkflow'],
  ])('refuses %s as a workflow', (_what, arn, prop) => {
    const { stack, monitoring } = loop();
    const options = serverlessOptions(stack);
    expect(() => monitoring.monitorServerlessWorkflows({ ...options, [prop]: serverlessWorkflow(stack, 'Bad', arn) }))
      .toThrow(new RegExp(`${prop} \\(workflowArn\\): '${arn}' is not allowed; use an MWAA Serverless workflow ARN`));
  });

  test('two workflows imported twice by the same ARN are the same workflow', () => {
    const { stack, monitoring } = loop();
    expect(() => monitoring.monitorServerlessWorkflows({
      ...serverlessOptions(stack), deploymentWorkflow: serverlessWorkflow(stack, 'Again', TRAINING_ARN),
    })).toThrow(/deploymentWorkflow: Test\/Again is also the trainingWorkflow/);
  });

  test('AwsSolutions clean, alone and beside the rest of the loop', () => {
    const alone = newStack();
    new PipelineMonitoring(alone, 'Monitoring').monitorServerlessWorkflows(serverlessOptions(alone));
    expect(nagFindings(alone)).toEqual([]);
    const { stack, monitoring, build, trigger } = loop();
    monitoring.monitorBuild(build);
    monitoring.monitorTrigger(trigger);
    monitoring.monitorServerlessWorkflows(serverlessOptions(stack));
    expect(nagFindings(stack).filter((f) => f.includes('/Monitoring'))).toEqual([]);
  });
});
