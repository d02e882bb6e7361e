import { App, CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { IConstruct } from 'constructs';
import {
  AirflowEnvironment, AirflowVersion, EndpointDeployment, ModelApproval, MwaaMlopsPipeline, PipelineSource, TrafficShifting,
} from '../src';
import { nagFindings } from './nag';
import { APPROVAL_CHANGED } from './trigger/events';
import { newStack, onlyResource } from './util';

const CONNECTION_ARN = 'arn:aws:codeconnections:eu-west-1:123456789012:connection/12345678-1234-1234-1234-123456789012';

function id(stack: Stack, construct: IConstruct): string {
  return stack.getLogicalId((construct instanceof CfnElement ? construct : construct.node.defaultChild) as CfnElement);
}

/** The rules whose target starts a DAG, by DAG id: `{ dagId: [eventPattern, ...] }`. */
function dagRules(t: Template): Record<string, any[]> {
  const byDag: Record<string, any[]> = {};
  for (const rule of Object.values(t.findResources('AWS::Events::Rule'))) {
    for (const target of rule.Properties.Targets ?? []) {
      const template: string | undefined = target.InputTransformer?.InputTemplate;
      const dagId = template?.match(/^\{"dagId":"([^"]+)"/)?.[1];
      if (dagId) (byDag[dagId] ??= []).push(rule.Properties.EventPattern);
    }
  }
  return byDag;
}

describe('MwaaMlopsPipeline with no props', () => {
  const app = new App();
  const stack = new Stack(app, 'Bare');
  const pipeline = new MwaaMlopsPipeline(stack, 'Churn');
  const t = Template.fromStack(stack);

  test('creates its own environment on Airflow 3.3.1 and names everything after the construct id', () => {
    expect(pipeline.pipelineName).toBe('churn');
    expect(pipeline.environment).toBeInstanceOf(AirflowEnvironment);
    expect(onlyResource(t, 'AWS::MWAA::Environment').Properties.AirflowVersion).toBe('3.3.1');
    t.hasResourceProperties('AWS::CodeCommit::Repository', { RepositoryName: 'churn-model', Code: Match.objectLike({ BranchName: 'main' }) });
    t.hasResourceProperties('AWS::SageMaker::ModelPackageGroup', { ModelPackageGroupName: 'churn-models' });
    expect(pipeline.workflow.endpointName).toBe('churn');
    expect(pipeline.workflow.approval).toBe(ModelApproval.MANUAL);
  });

  test('every part gets the one environment, the one topic and the shared key', () => {
    expect(pipeline.workflow.environment).toBe(pipeline.environment);
    expect(pipeline.trigger.environment).toBe(pipeline.environment);
    expect(pipeline.workflow.notificationTopic).toBe(pipeline.topic);
    expect(pipeline.topic).toBe(pipeline.monitoring.topic);
    expect(pipeline.modelBuild.failureTopic).toBeUndefined(); // monitoring reports build failures once
    expect(pipeline.modelBuild.encryptionKey).toBe(pipeline.encryptionKey);
    expect(pipeline.workflow.encryptionKey).toBe(pipeline.encryptionKey);

    const topic = { Ref: id(stack, pipeline.topic) };
    const key = id(stack, pipeline.encryptionKey);
    expect(Object.keys(t.findResources('AWS::SNS::Topic'))).toEqual([topic.Ref]);
    // The shared key and the topic's own key (EventBridge may use that one without conditions, so it protects nothing else).
    expect(Object.keys(t.findResources('AWS::KMS::Key')).sort()).toEqual([key, id(stack, pipeline.monitoring.encryptionKey!)].sort());
    const sharedKeyPolicy = t.findResources('AWS::KMS::Key')[key].Properties.KeyPolicy;
    expect(JSON.stringify(sharedKeyPolicy)).not.toContain('events.amazonaws.com');

    t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: { MWAA_ENVIRONMENT_NAME: pipeline.environment!.environmentName } } });
    t.hasResourceProperties('AWS::ECR::Repository', { EncryptionConfiguration: { EncryptionType: 'KMS', KmsKey: { 'Fn::GetAtt': [key, 'Arn'] } } });
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [Match.objectLike({ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [key, 'Arn'] } } })] },
    });
    // The DAGs may publish to the topic (the execution role's grants).
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: id(stack, (pipeline.environment as AirflowEnvironment).executionRole) }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'sns:Publish', Resource: topic })]) },
    });
  });

  test('the three rules start the right DAGs: image pushed and raw data created -> training, package approved -> deployment', () => {
    const images = { Ref: id(stack, pipeline.modelBuild.imageRepository) };
    const data = { Ref: id(stack, pipeline.workflow.dataBucket) };
    expect(dagRules(t)).toEqual({
      churn_training: expect.arrayContaining([
        { 'source': ['aws.ecr'], 'detail-type': ['ECR Image Action'], 'detail': { 'action-type': ['PUSH'], 'result': ['SUCCESS'], 'repository-name': [images] } },
        { 'source': ['aws.s3'], 'detail-type': ['Object Created'], 'detail': { bucket: { name: [data] }, object: { key: [{ prefix: 'raw/' }] } } },
      ]),
      churn_deployment: [{
        'source': ['aws.sagemaker'],
        'detail-type': ['SageMaker Model Package State Change'],
        'detail': { ModelPackageGroupName: ['churn-models'], ModelApprovalStatus: ['Approved'], $or: APPROVAL_CHANGED },
      }],
    });
    expect(dagRules(t).churn_training).toHaveLength(2);
    t.hasResourceProperties('Custom::S3BucketNotifications', { BucketName: data, NotificationConfiguration: { EventBridgeConfiguration: {} } });
  });

  test('a dashboard, and every failure point alarms to the topic: environment, build, trigger, DAGs, jobs, endpoint', () => {
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const topic = { Ref: id(stack, pipeline.topic) };
    const alarms = t.findResources('AWS::CloudWatch::Alarm');
    const notifying = Object.entries(alarms).filter(([, a]) => JSON.stringify(a.Properties.AlarmActions) === JSON.stringify([topic]));
    // 2 environment + 1 build + 3 trigger + 2 DAGs + 3 jobs (Glue, training, processing) + 3 endpoint.
    expect(notifying).toHaveLength(14);
    expect(pipeline.monitoring.alarms).toHaveLength(14);
    // The rest are the endpoint's rollback alarms, which SageMaker reads and nobody needs to be paged for.
    const silent = Object.keys(alarms).filter((logicalId) => !notifying.some(([n]) => n === logicalId));
    expect(silent.sort()).toEqual(pipeline.workflow.rollbackAlarms.map((a) => id(stack, a)).sort());
    // Failed builds reach the topic once, as the event (not also through a build topic).
    const buildFailures = Object.values(t.findResources('AWS::Events::Rule')).filter((r) =>
      r.Properties.EventPattern.source?.[0] === 'aws.codepipeline' && r.Properties.EventPattern.detail?.state?.[0] === 'FAILED');
    expect(buildFailures).toHaveLength(1);
    expect(buildFailures[0].Properties.Targets).toEqual([expect.objectContaining({ Arn: topic })]);
  });

  test('the first build waits for the environment, the DAGs and the rules it starts', () => {
    const dependsOn: string[] = t.findResources('AWS::CodePipeline::Pipeline')[id(stack, pipeline.modelBuild.pipeline)].DependsOn;
    expect(dependsOn).toEqual(expect.arrayContaining([
      id(stack, pipeline.environment!),
      id(stack, pipeline.trigger.rules[0]),
      id(stack, pipeline.workflow.glueJob),
    ]));
  });

  test('cdk-nag AwsSolutions finds nothing unacknowledged, and synth has no warnings', () => {
    expect(nagFindings(app)).toEqual([]);
    Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
  });
});

test('MwaaMlopsPipeline grants pass through to the parts: endpoint, model artifacts, DAG runs', () => {
  const stack = newStack();
  const pipeline = new MwaaMlopsPipeline(stack, 'Churn');
  const role = new iam.Role(stack, 'Consumer', { assumedBy: new iam.AccountRootPrincipal() });
  pipeline.grantInvokeEndpoint(role);
  pipeline.grantReadModelArtifacts(role);
  pipeline.grantTriggerDag(role);
  const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy');
  const mine = Object.values(policies)
    .filter((p) => p.Properties.Roles[0].Ref === id(stack, role))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
  const actions = mine.flatMap((s: any) => [s.Action].flat());
  expect(actions).toEqual(expect.arrayContaining(['sagemaker:InvokeEndpoint', 's3:GetObject', 'kms:Decrypt', 'airflow:InvokeRestApi']));
  expect(JSON.stringify(mine)).toContain(':endpoint/churn');
  expect(JSON.stringify(mine)).toContain(`${pipeline.environment!.environmentName}/User`);
});

describe('MwaaMlopsPipeline fully configured', () => {
  const app = new App();
  const stack = new Stack(app, 'Full');
  const airflow = new AirflowEnvironment(stack, 'Airflow', { airflowVersion: AirflowVersion.V3_3_1 });
  const topic = new sns.Topic(stack, 'Alerts', { enforceSSL: true, masterKey: new kms.Key(stack, 'AlertsKey', { enableKeyRotation: true }) });
  const key = new kms.Key(stack, 'MlKey', { enableKeyRotation: true });
  const fraud = new MwaaMlopsPipeline(stack, 'Fraud', {
    environment: airflow,
    pipelineName: 'fraud',
    source: PipelineSource.connection({ connectionArn: CONNECTION_ARN, owner: 'acme', repository: 'fraud-model' }),
    encryptionKey: key,
    modelBuild: { maxImageCount: 10, validateTimeout: Duration.minutes(20) },
    workflow: { deployment: EndpointDeployment.serverless(), approval: ModelApproval.AUTOMATIC, endpointName: 'fraud-scoring' },
    trigger: { retryAttempts: 10 },
    monitoring: { topic, dashboardName: 'fraud-loop' },
  });
  const demand = new MwaaMlopsPipeline(stack, 'Demand', {
    environment: airflow,
    workflow: { deployment: EndpointDeployment.realTime({ trafficShifting: TrafficShifting.canary(20, Duration.minutes(10)) }) },
  });
  fraud.monitoring.monitorEnvironment(airflow);
  const t = Template.fromStack(stack);

  test('both pipelines run on the shared environment; no environment of their own', () => {
    t.resourceCountIs('AWS::MWAA::Environment', 1);
    expect(fraud.environment).toBe(airflow);
    expect(demand.environment).toBe(airflow);
    expect(dagRules(t)).toEqual({
      fraud_training: [expect.anything(), expect.anything()],
      fraud_deployment: [expect.objectContaining({ detail: { ModelPackageGroupName: ['fraud-models'], ModelApprovalStatus: ['Approved'], $or: APPROVAL_CHANGED } })],
      demand_training: [expect.anything(), expect.anything()],
      demand_deployment: [expect.objectContaining({ detail: { ModelPackageGroupName: ['demand-models'], ModelApprovalStatus: ['Approved'], $or: APPROVAL_CHANGED } })],
    });
  });

  test('the given topic and key are used, the parts\' options arrive', () => {
    expect(fraud.topic).toBe(topic);
    expect(fraud.encryptionKey).toBe(key);
    expect(fraud.modelBuild.encryptionKey).toBe(key);
    expect(fraud.workflow.encryptionKey).toBe(key);
    t.resourceCountIs('AWS::SNS::Topic', 2); // the given one, and demand's own
    t.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'fraud-loop' });
    t.hasResourceProperties('AWS::ECR::Repository', { LifecyclePolicy: { LifecyclePolicyText: Match.stringLikeRegexp('"countNumber":10') } });
    t.hasResourceProperties('AWS::CodeBuild::Project', { TimeoutInMinutes: 20 });
    t.hasResourceProperties('AWS::Events::Rule', { Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 10 } })] });
    expect(fraud.workflow.deployment.kind).toBe('serverless');
    expect(fraud.workflow.endpointName).toBe('fraud-scoring');
    expect(fraud.workflow.rollbackAlarms).toEqual([]);
    expect(fraud.modelBuild.sourceRepository).toBeUndefined();
  });

  test('the shared environment is watched once, by the pipeline that was asked to', () => {
    expect(fraud.monitoring.alarms).toHaveLength(14); // a serverless endpoint is watched too (4XX, 5XX, latency)
    expect(demand.monitoring.alarms).toHaveLength(12); // no environment alarms
  });

  test('cdk-nag AwsSolutions finds nothing unacknowledged', () => {
    expect(nagFindings(app)).toEqual([]);
  });
});

describe('MwaaMlopsPipeline variants', () => {
  test('EndpointDeployment.none(): no approval rule, no deployment DAG alarm, no endpoint', () => {
    const stack = newStack();
    const pipeline = new MwaaMlopsPipeline(stack, 'Registry', { workflow: { deployment: EndpointDeployment.none() } });
    const t = Template.fromStack(stack);
    expect(Object.keys(dagRules(t))).toEqual(['registry_training']);
    expect(pipeline.workflow.endpointName).toBeUndefined();
    expect(JSON.stringify(t.findResources('AWS::CloudWatch::Alarm'))).not.toContain('registry_deployment');
    expect(pipeline.monitoring.alarms).toHaveLength(14 - 1 - 3);
  });

  test('an imported environment with its execution role: the role is granted the DAGs\' calls, DAG files go to its bucket', () => {
    const stack = newStack();
    const role = iam.Role.fromRoleArn(stack, 'ExecRole', 'arn:aws:iam::123456789012:role/mwaa-exec');
    const environment = AirflowEnvironment.fromEnvironmentAttributes(stack, 'Env', {
      environmentName: 'shared-env',
      executionRole: role,
      airflowVersion: AirflowVersion.V3_3_1,
      sourceBucket: s3.Bucket.fromBucketName(stack, 'Src', 'shared-env-source'),
    });
    new MwaaMlopsPipeline(stack, 'Churn', { environment });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::MWAA::Environment', 0);
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: ['mwaa-exec'],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['glue:StartJobRun']) })]) },
    });
    t.hasResourceProperties('Custom::CDKBucketDeployment', { DestinationBucketName: 'shared-env-source', DestinationBucketKeyPrefix: 'dags/' });
  });

  test('an imported environment without its role, acknowledged: synthesizes, and the ungranted warning is acknowledged', () => {
    const stack = newStack();
    const environment = AirflowEnvironment.fromEnvironmentAttributes(stack, 'Env', {
      environmentName: 'shared-env',
      airflowVersion: AirflowVersion.V3_3_1,
      sourceBucket: s3.Bucket.fromBucketName(stack, 'Src', 'shared-env-source'),
    });
    const pipeline = new MwaaMlopsPipeline(stack, 'Churn', { environment, executionRoleGrantedSeparately: true });
    const role = new iam.Role(stack, 'TheirRole', { assumedBy: new iam.ServicePrincipal('airflow-env.amazonaws.com') });
    pipeline.workflow.grantRunDags(role);
    const annotations = Annotations.fromStack(stack);
    annotations.hasNoWarning('*', Match.stringLikeRegexp('have no permissions yet'));
    Template.fromStack(stack).resourceCountIs('AWS::MWAA::Environment', 0);
  });

  test('the pipeline name comes from the construct id, or from pipelineName', () => {
    expect(new MwaaMlopsPipeline(newStack(), 'Fraud_Detection').pipelineName).toBe('fraud-detection');
    expect(new MwaaMlopsPipeline(newStack(), 'Anything', { pipelineName: 'churn' }).pipelineName).toBe('churn');
  });
});

describe('MwaaMlopsPipeline refuses what cannot work', () => {
  const imported = (stack: Stack) => AirflowEnvironment.fromEnvironmentAttributes(stack, 'Env', { environmentName: 'shared-env' });
  const cases: Array<[string, (stack: Stack) => void, RegExp]> = [
    ['environment and environmentProps', (s) => new MwaaMlopsPipeline(s, 'P', { environment: imported(s), environmentProps: {} }),
      /^environmentProps: given with environment .*Env; .*pass one or the other/],
    ['an imported environment without its role', (s) => new MwaaMlopsPipeline(s, 'P', { environment: imported(s) }),
      /^environment: .*Env is imported without executionRole.*executionRoleGrantedSeparately: true.*grantRunDags/],
    ['executionRoleGrantedSeparately on a created environment', (s) => new MwaaMlopsPipeline(s, 'P', { executionRoleGrantedSeparately: true }),
      /^executionRoleGrantedSeparately: true, but the environment's execution role is known/],
    ['modelBuild.failureTopic', (s) => new MwaaMlopsPipeline(s, 'P', { modelBuild: { failureTopic: new sns.Topic(s, 'T') } }),
      /^modelBuild.failureTopic: .*\/T is set, but build failures are reported to the monitoring topic \(set monitoring.topic\)/],
    ['modelBuild.notifyOnFailure', (s) => new MwaaMlopsPipeline(s, 'P', { modelBuild: { notifyOnFailure: true } }), /^modelBuild.notifyOnFailure: true is set/],
    ['workflow.notificationTopic', (s) => new MwaaMlopsPipeline(s, 'P', { workflow: { notificationTopic: new sns.Topic(s, 'T') } }),
      /^workflow.notificationTopic: .* the DAGs notify the monitoring topic/],
    ['trigger.alarmTopic', (s) => new MwaaMlopsPipeline(s, 'P', { trigger: { alarmTopic: new sns.Topic(s, 'T') } }), /^trigger.alarmTopic: /],
    ['modelBuild.encryptionKey', (s) => new MwaaMlopsPipeline(s, 'P', { modelBuild: { encryptionKey: new kms.Key(s, 'K') } }), /^modelBuild.encryptionKey: .*share one key \(set encryptionKey\)/],
    ['workflow.encryptionKey', (s) => new MwaaMlopsPipeline(s, 'P', { workflow: { encryptionKey: new kms.Key(s, 'K') } }), /^workflow.encryptionKey: /],
    ['a raw prefix that covers the pipeline\'s outputs', (s) => new MwaaMlopsPipeline(s, 'P', { workflow: { dataPrefixes: { raw: '' } } }),
      /^workflow.dataPrefixes.raw: '' covers processed 'processed\/', artifacts 'artifacts\/', checkpoints 'checkpoints\/'; new objects/],
    ['a raw prefix above the processed prefix', (s) => new MwaaMlopsPipeline(s, 'P', { workflow: { dataPrefixes: { raw: 'data/', processed: 'data/splits/' } } }),
      /^workflow.dataPrefixes.raw: 'data\/' covers processed 'data\/splits\/';/],
    ['a construct id that makes no pipeline name', (s) => new MwaaMlopsPipeline(s, '42'),
      /^pipelineName: not given, and '42' derived from the construct id '42' is not a pipeline name; pass pipelineName/],
    ['an invalid pipelineName', (s) => new MwaaMlopsPipeline(s, 'P', { pipelineName: 'Churn_Model' }), /^pipelineName: 'Churn_Model' is not allowed/],
    ['two pipelines of one name on a shared environment', (s) => {
      const environment = new AirflowEnvironment(s, 'Shared', { airflowVersion: AirflowVersion.V3_3_1 });
      new MwaaMlopsPipeline(s, 'A', { environment, pipelineName: 'churn' });
      new MwaaMlopsPipeline(s, 'B', { environment, pipelineName: 'churn', source: PipelineSource.connection({ connectionArn: CONNECTION_ARN, owner: 'o', repository: 'r' }) });
    }, /^pipelineName: 'churn' is already used on environment/],
    ['an Airflow 2 environment', (s) => new MwaaMlopsPipeline(s, 'P', { environmentProps: { airflowVersion: AirflowVersion.V2_10_3 } }),
      /^environment: .* runs Airflow 2\.10\.3; the DAGs of ModelWorkflow need Airflow 3/],
  ];
  test.each(cases)('%s', (_name, build, message) => {
    expect(() => build(newStack())).toThrow(message);
  });
});
