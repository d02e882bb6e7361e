import { Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { churnWorkflow, dagConfig, render, rendered, roleStatements, workflowStack } from './util';
import {
  AirflowEnvironment, AirflowVersion, EndpointDeployment, GlueWorkerType, MetricComparison, ModelApproval, ModelWorkflow, TrafficShifting,
} from '../../src';
import { nagFindings } from '../nag';

const SAGEMAKER = (resource: string) => `arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:${resource}`;

describe('ModelWorkflow defaults', () => {
  const parts = workflowStack();
  const workflow = churnWorkflow(parts);
  const t = Template.fromStack(parts.stack);

  test('names: DAG ids, endpoint, model package group, and a Glue job name from CloudFormation', () => {
    expect([workflow.trainingDagId, workflow.deploymentDagId, workflow.endpointName]).toEqual(['churn_training', 'churn_deployment', 'churn']);
    expect(workflow.modelPackageGroupName).toBe('churn-models');
    expect(parts.stack.resolve(workflow.glueJobName)).toEqual({ Ref: expect.stringMatching(/^ChurnGlueJob/) });
    expect(workflow.rawDataPrefix).toBe('raw/');
  });

  test('the data bucket is versioned, KMS-encrypted with the pipeline key, TLS-only, private, access-logged, EventBridge on, retained', () => {
    t.hasResource('AWS::S3::Bucket', {
      Properties: {
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ChurnKey'), 'Arn'] } } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('^ChurnDataAccessLogsBucket') }, LogFilePrefix: 'data-bucket/' },
      },
      UpdateReplacePolicy: 'Retain',
      DeletionPolicy: 'Retain',
    });
    t.hasResourceProperties('Custom::S3BucketNotifications', { NotificationConfiguration: { EventBridgeConfiguration: {} } });
    const policy = Object.values(t.findResources('AWS::S3::BucketPolicy')).find((p) => render(p.Properties.Bucket).startsWith('<ChurnDataBucket'))!;
    expect(policy.Properties.PolicyDocument.Statement).toEqual(expect.arrayContaining([
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      expect.objectContaining({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
    ]));
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('the Glue job: Glue 5, the shipped script as an asset, workers, timeout, concurrency, bookmarks off, continuous logs, KMS security configuration', () => {
    t.hasResourceProperties('AWS::Glue::Job', {
      GlueVersion: '5.0',
      Command: { Name: 'glueetl', PythonVersion: '3', ScriptLocation: { 'Fn::Sub': Match.stringLikeRegexp('^s3://cdk-[a-z0-9]+-assets-.*\\.py$') } },
      WorkerType: 'G.1X',
      NumberOfWorkers: 2,
      Timeout: 60,
      MaxRetries: 0,
      ExecutionProperty: { MaxConcurrentRuns: 3 },
      SecurityConfiguration: { Ref: Match.stringLikeRegexp('^ChurnGlueSecurityConfiguration') },
      DefaultArguments: {
        '--job-language': 'python',
        '--job-bookmark-option': 'job-bookmark-disable',
        '--enable-continuous-cloudwatch-log': 'true',
        '--continuous-log-logGroup': { Ref: Match.stringLikeRegexp('^ChurnGlueLogs') },
        '--enable-metrics': 'true',
      },
    });
    const key = { 'Fn::GetAtt': [Match.stringLikeRegexp('^ChurnKey'), 'Arn'] };
    t.hasResourceProperties('AWS::Glue::SecurityConfiguration', {
      EncryptionConfiguration: {
        S3Encryptions: [{ S3EncryptionMode: 'SSE-KMS', KmsKeyArn: key }],
        CloudWatchEncryption: { CloudWatchEncryptionMode: 'SSE-KMS', KmsKeyArn: key },
        JobBookmarksEncryption: { JobBookmarksEncryptionMode: 'CSE-KMS', KmsKeyArn: key },
      },
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: Match.stringLikeRegexp('^/aws-glue/cdk-mwaa-mlops/'), RetentionInDays: 90, KmsKeyId: key });
  });

  test('the Glue role reads the script, the staged code and raw data, and writes the pipeline\'s processed prefix only', () => {
    const statements = rendered(roleStatements(t, 'ChurnGlueRole'));
    const actions = (resource: RegExp) => statements.filter((s) => s.resources.some((r) => resource.test(r))).flatMap((s) => s.actions);
    expect(actions(/\/assets\//)).toEqual([]); // no wildcard on the assets bucket: the script object only
    expect(statements).toEqual(expect.arrayContaining([
      { actions: ['s3:GetObject'], resources: ['arn:<AWS::Partition>:s3:::ml-code/preprocessing/*'] },
      { actions: ['s3:GetObject'], resources: [expect.stringMatching(/^<ChurnDataBucket\w+\.Arn>\/raw\/\*$/)] },
      { actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], resources: [expect.stringMatching(/^<ChurnDataBucket\w+\.Arn>\/processed\/churn\/\*$/)] },
      { actions: ['s3:ListBucket'], resources: [expect.stringMatching(/^<ChurnDataBucket/)], conditions: { StringLike: { 's3:prefix': ['processed/churn/*'] } } },
    ]));
    const writes = statements.filter((s) => s.actions.some((a) => /Put|Delete/.test(a) && a.startsWith('s3:')));
    expect(writes.flatMap((s) => s.resources)).toEqual([expect.stringMatching(/\/processed\/churn\/\*$/)]);
    expect(statements.flatMap((s) => s.actions).filter((a) => a.includes('*'))).toEqual([]);
  });

  test('the SageMaker role: exact statements, no managed policies, trusted by SageMaker in this account only', () => {
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'sagemaker.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }] },
      Description: 'SageMaker training, evaluation and model role of pipeline churn',
    });
    const role = Object.values(t.findResources('AWS::IAM::Role')).find((r) => r.Properties.Description?.startsWith('SageMaker training'))!;
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const statements = rendered(roleStatements(t, 'ChurnSageMakerRole'));
    const bucket = expect.stringMatching(/^<ChurnDataBucket\w+\.Arn>$/);
    expect(statements).toEqual([
      { actions: ['s3:GetObject'], resources: [expect.stringMatching(/\/processed\/churn\/\*$/)] },
      { actions: ['s3:ListBucket'], resources: [bucket], conditions: { StringLike: { 's3:prefix': ['processed/churn/*'] } } },
      { actions: ['s3:GetObject', 's3:PutObject'], resources: [expect.stringMatching(/\/artifacts\/churn\/\*$/)] },
      { actions: ['s3:ListBucket'], resources: [bucket], conditions: { StringLike: { 's3:prefix': ['artifacts/churn/*'] } } },
      { actions: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'], resources: ['arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/churn-model'] },
      { actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey'], resources: [expect.stringMatching(/^<ChurnKey/)] },
      { actions: ['kms:CreateGrant'], resources: [expect.stringMatching(/^<ChurnKey/)], conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } } },
      {
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: ['/aws/sagemaker/TrainingJobs', '/aws/sagemaker/ProcessingJobs', '/aws/sagemaker/Endpoints/churn']
          .map((g) => `arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:${g}:*`),
      },
      // The two calls without resource-level permissions, in a policy of their own.
      { actions: ['ecr:GetAuthorizationToken'], resources: ['*'] },
      { actions: ['cloudwatch:PutMetricData'], resources: ['*'], conditions: { StringLike: { 'cloudwatch:namespace': ['/aws/sagemaker/*'] } } },
    ]);
  });

  test('the MWAA execution role gets exactly what the DAGs call, scoped to this pipeline', () => {
    const statements = rendered(roleStatements(t, 'AirflowExecutionRole')).filter((s) => s.actions.some((a) => /^(glue|sagemaker|iam|ecr|cloudwatch:Describe)/.test(a)) || s.resources.some((r) => r.includes('Churn')));
    expect(statements).toEqual([
      { actions: ['glue:GetJob', 'glue:StartJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:BatchStopJobRun'], resources: [expect.stringMatching(/:job\/<ChurnGlueJob\w+>$/)] },
      {
        actions: ['sagemaker:CreateTrainingJob', 'sagemaker:DescribeTrainingJob', 'sagemaker:StopTrainingJob', 'sagemaker:CreateProcessingJob', 'sagemaker:DescribeProcessingJob', 'sagemaker:StopProcessingJob', 'sagemaker:AddTags'],
        resources: [SAGEMAKER('training-job/churn-train-*'), SAGEMAKER('processing-job/churn-eval-*')],
      },
      {
        actions: ['sagemaker:CreateModelPackageGroup', 'sagemaker:CreateModelPackage', 'sagemaker:DescribeModelPackage', 'sagemaker:AddTags'],
        resources: [SAGEMAKER('model-package-group/churn-models'), SAGEMAKER('model-package/churn-models/*')],
      },
      { actions: ['iam:PassRole'], resources: [expect.stringMatching(/^<ChurnSageMakerRole\w+\.Arn>$/)], conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } } },
      { actions: ['ecr:DescribeRepositories', 'ecr:DescribeImages'], resources: ['arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/churn-model'] },
      {
        actions: ['s3:GetObject'],
        resources: [expect.stringMatching(/^<ChurnDataBucket\w+\.Arn>\/processed\/churn\/\*$/), expect.stringMatching(/^<ChurnDataBucket\w+\.Arn>\/artifacts\/churn\/\*$/)],
      },
      { actions: ['s3:ListBucket'], resources: [expect.stringMatching(/^<ChurnDataBucket\w+\.Arn>$/)] },
      { actions: ['kms:Decrypt', 'kms:DescribeKey'], resources: [expect.stringMatching(/^<ChurnKey/)] },
      { actions: ['kms:CreateGrant'], resources: [expect.stringMatching(/^<ChurnKey/)], conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } } },
      {
        actions: ['sagemaker:CreateModel', 'sagemaker:DescribeModel', 'sagemaker:CreateEndpointConfig', 'sagemaker:DescribeEndpointConfig', 'sagemaker:CreateEndpoint', 'sagemaker:UpdateEndpoint', 'sagemaker:DescribeEndpoint', 'sagemaker:AddTags'],
        resources: [SAGEMAKER('model/churn-model-*'), SAGEMAKER('endpoint-config/churn-config-*'), SAGEMAKER('endpoint/churn')],
      },
      { actions: ['cloudwatch:DescribeAlarms'], resources: [expect.stringMatching(/^<ChurnInvocation5xxAlarm\w+\.Arn>$/), expect.stringMatching(/^<ChurnModelLatencyAlarm\w+\.Arn>$/)] },
      // In a policy of its own: SageMaker has no resource-level permissions for it.
      { actions: ['sagemaker:ListModelPackages'], resources: ['*'] },
    ]);
  });

  test('the model package group is CloudFormation\'s and retained on delete', () => {
    t.hasResource('AWS::SageMaker::ModelPackageGroup', {
      Properties: { ModelPackageGroupName: 'churn-models' },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('rollback alarms: 5XX errors and model latency on the AllTraffic variant, passed to the DAG config', () => {
    const dimensions = [{ Name: 'EndpointName', Value: 'churn' }, { Name: 'VariantName', Value: 'AllTraffic' }];
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SageMaker',
      MetricName: 'Invocation5XXErrors',
      Statistic: 'Sum',
      Dimensions: dimensions,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 2,
      Period: 60,
      TreatMissingData: 'notBreaching',
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SageMaker',
      MetricName: 'ModelLatency',
      Statistic: 'Average',
      Dimensions: dimensions,
      Threshold: 1_000_000,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(workflow.rollbackAlarms).toHaveLength(2);
  });

  test('the endpoint clean-up runs on stack delete, before the environment goes, and may delete only this pipeline\'s resources', () => {
    t.hasResourceProperties('Custom::CdkMwaaMlopsEndpointCleanup', { EndpointName: 'churn', PipelineName: 'churn', RemovalPolicy: 'destroy', ServiceTimeout: '960' });
    t.hasResourceProperties('AWS::Lambda::Function', { Handler: 'endpoint_cleanup.handler', Runtime: 'python3.15', Timeout: 900 });
    const [cleanupId] = Object.keys(t.findResources('Custom::CdkMwaaMlopsEndpointCleanup'));
    expect(Object.values(t.findResources('AWS::MWAA::Environment'))[0].DependsOn).toContain(cleanupId);
    const statements = rendered(roleStatements(t, 'ChurnEndpointCleanupRole'));
    expect(statements.filter((s) => s.actions.some((a) => a.startsWith('sagemaker:')))).toEqual([
      { actions: ['sagemaker:DescribeEndpoint', 'sagemaker:DeleteEndpoint'], resources: [SAGEMAKER('endpoint/churn')] },
      { actions: ['sagemaker:DeleteEndpointConfig', 'sagemaker:DeleteModel'], resources: [SAGEMAKER('endpoint-config/churn-config-*'), SAGEMAKER('model/churn-model-*')] },
      { actions: ['sagemaker:ListEndpointConfigs', 'sagemaker:ListModels'], resources: ['*'] },
    ]);
  });

  test('the DAG config holds every name, ARN, prefix and setting, and the created environment installs what the DAGs import', () => {
    const config = dagConfig(parts.app, parts.stack, 'churn');
    expect(config).toEqual({
      config_version: 1,
      pipeline_name: 'churn',
      aws_conn_id: 'aws_default',
      max_active_runs: 1,
      retries: 2,
      poll_interval_seconds: 60,
      data: {
        bucket: expect.stringMatching(/^<ChurnDataBucket\w+>$/),
        raw_prefix: 'raw/',
        processed_prefix: 'processed/',
        artifacts_prefix: 'artifacts/',
        checkpoints_prefix: 'checkpoints/',
        kms_key_arn: expect.stringMatching(/^<ChurnKey\w+\.Arn>$/),
      },
      preprocessing: { glue_job_name: expect.stringMatching(/^<ChurnGlueJob\w+>$/), script_prefix: 's3://ml-code/preprocessing/', seed: 42, train_fraction: 0.7, validation_fraction: 0.15 },
      training: {
        image_repository_name: 'churn-model',
        role_arn: expect.stringMatching(/^<ChurnSageMakerRole\w+\.Arn>$/),
        instance_type: 'ml.m5.large',
        instance_count: 1,
        volume_size_gb: 30,
        max_runtime_seconds: 3600,
        hyperparameters: {},
      },
      evaluation: { instance_type: 'ml.m5.large', metric: 'auc', threshold: 0.9, comparison: 'GreaterThanOrEqualTo' },
      registry: { model_package_group_name: 'churn-models', auto_approve: false },
      deployment: {
        mode: 'real_time',
        endpoint_name: 'churn',
        instance_type: 'ml.m5.large',
        initial_instance_count: 1,
        termination_wait_seconds: 300,
        traffic_shifting: { type: 'CANARY', step_percent: 10, wait_seconds: 300 },
        rollback_alarm_names: [expect.stringMatching(/^<ChurnInvocation5xxAlarm\w+>$/), expect.stringMatching(/^<ChurnModelLatencyAlarm\w+>$/)],
      },
    });
    expect(parts.environment.requirements).toEqual(['aiobotocore']);
  });

  test('cdk-nag AwsSolutions: no unacknowledged finding', () => {
    expect(nagFindings(parts.stack)).toEqual([]);
  });
});

describe('ModelWorkflow options', () => {
  test('serverless: no alarms, no traffic shifting; spot training; automatic approval; custom prefixes and Glue sizing', () => {
    const parts = workflowStack();
    const topic = new sns.Topic(parts.stack, 'Alerts', { enforceSSL: true });
    churnWorkflow(parts, {
      deployment: EndpointDeployment.serverless({ memorySizeMb: 4096, maxConcurrency: 20 }),
      approval: ModelApproval.AUTOMATIC,
      endpointName: 'churn-live',
      training: { instanceType: 'ml.c5.xlarge', instanceCount: 2, volumeSize: Size.gibibytes(50), maxRuntime: Duration.hours(2), hyperparameters: { C: '0.5' }, spot: { maxWait: Duration.hours(3) } },
      evaluation: { metric: 'f1', threshold: 0.8, comparison: MetricComparison.GREATER_THAN_OR_EQUAL_TO, instanceType: 'ml.c5.large' },
      preprocessing: {
        workerType: GlueWorkerType.G_2X,
        workerCount: 5,
        timeout: Duration.minutes(30),
        maxConcurrentRuns: 1,
        trainFraction: 0.8,
        validationFraction: 0.1,
        seed: 7,
      },
      dataPrefixes: { raw: 'in/', processed: 'work/', artifacts: 'out/', checkpoints: 'ckpt/' },
      notificationTopic: topic,
      maxActiveRuns: 2,
      retries: 0,
      pollInterval: Duration.seconds(5),
    });
    const t = Template.fromStack(parts.stack);
    t.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    t.hasResourceProperties('AWS::Glue::Job', { WorkerType: 'G.2X', NumberOfWorkers: 5, Timeout: 30, ExecutionProperty: { MaxConcurrentRuns: 1 } });
    const config = dagConfig(parts.app, parts.stack, 'churn');
    expect(config.deployment).toEqual({ mode: 'serverless', endpoint_name: 'churn-live', serverless_memory_mb: 4096, serverless_max_concurrency: 20 });
    expect(config.training).toMatchObject({
      instance_type: 'ml.c5.xlarge', instance_count: 2, volume_size_gb: 50, max_runtime_seconds: 7200, hyperparameters: { C: '0.5' }, spot: { max_wait_seconds: 10800 },
    });
    expect(config.registry.auto_approve).toBe(true);
    expect(config.preprocessing).toMatchObject({ seed: 7, train_fraction: 0.8, validation_fraction: 0.1 });
    expect(config.data).toMatchObject({ raw_prefix: 'in/', processed_prefix: 'work/', artifacts_prefix: 'out/', checkpoints_prefix: 'ckpt/' });
    expect(config.notification_topic_arn).toMatch(/^<Alerts\w+>$/);
    expect([config.max_active_runs, config.retries, config.poll_interval_seconds]).toEqual([2, 0, 5]);
    const sagemaker = rendered(roleStatements(t, 'ChurnSageMakerRole'));
    expect(sagemaker).toContainEqual({ actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], resources: [expect.stringMatching(/\/ckpt\/churn\/\*$/)] });
    const mwaa = rendered(roleStatements(t, 'AirflowExecutionRole'));
    expect(mwaa).toContainEqual({ actions: ['sns:Publish'], resources: [expect.stringMatching(/^<Alerts\w+>$/)] });
    expect(mwaa.some((s) => s.actions.includes('cloudwatch:DescribeAlarms'))).toBe(false);
    expect(nagFindings(parts.stack)).toEqual([]);
  });

  test('EndpointDeployment.none(): no endpoint, no deployment DAG, no clean-up, no deployment grants', () => {
    const parts = workflowStack();
    const workflow = churnWorkflow(parts, { deployment: EndpointDeployment.none() });
    const t = Template.fromStack(parts.stack);
    expect([workflow.deploymentDagId, workflow.endpointName, workflow.endpointArn]).toEqual([undefined, undefined, undefined]);
    t.resourceCountIs('Custom::CdkMwaaMlopsEndpointCleanup', 0);
    expect(dagConfig(parts.app, parts.stack, 'churn').deployment).toEqual({ mode: 'none' });
    expect(rendered(roleStatements(t, 'AirflowExecutionRole')).flatMap((s) => s.actions)).not.toContain('sagemaker:CreateEndpoint');
    expect(() => workflow.grantInvokeEndpoint(new iam.AccountRootPrincipal())).toThrow(/deploys no endpoint/);
  });

  test('canary and linear traffic shifting, custom rollback alarms, all at once', () => {
    const parts = workflowStack();
    churnWorkflow(parts, {
      deployment: EndpointDeployment.realTime({
        instanceType: 'ml.c5.large',
        initialInstanceCount: 3,
        trafficShifting: TrafficShifting.linear(20, Duration.minutes(2)),
        rollbackAlarms: { maxInvocation5xxErrors: 5, maxModelLatency: Duration.millis(250), period: Duration.minutes(5), evaluationPeriods: 3 },
        terminationWait: Duration.minutes(1),
      }),
    });
    const t = Template.fromStack(parts.stack);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Invocation5XXErrors', Threshold: 5, Period: 300, EvaluationPeriods: 3 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ModelLatency', Threshold: 250_000 });
    expect(dagConfig(parts.app, parts.stack, 'churn').deployment).toMatchObject({
      instance_type: 'ml.c5.large', initial_instance_count: 3, termination_wait_seconds: 60, traffic_shifting: { type: 'LINEAR', step_percent: 20, wait_seconds: 120 },
    });
    const other = workflowStack();
    churnWorkflow(other, { deployment: EndpointDeployment.realTime({ trafficShifting: TrafficShifting.allAtOnce(Duration.minutes(10)) }) });
    expect(dagConfig(other.app, other.stack, 'churn').deployment.traffic_shifting).toEqual({ type: 'ALL_AT_ONCE', wait_seconds: 600 });
  });

  test('endpointRemovalPolicy RETAIN tells the clean-up to keep the endpoint; a given data bucket and key are used as they are', () => {
    const parts = workflowStack();
    const bucket = new s3.Bucket(parts.stack, 'Shared', { versioned: true, enforceSSL: true });
    churnWorkflow(parts, { endpointRemovalPolicy: RemovalPolicy.RETAIN, dataBucket: bucket });
    const t = Template.fromStack(parts.stack);
    t.hasResourceProperties('Custom::CdkMwaaMlopsEndpointCleanup', { RemovalPolicy: 'retain' });
    t.resourceCountIs('AWS::S3::Bucket', 3); // the shared bucket and the environment's two; none created for the pipeline
    expect(dagConfig(parts.app, parts.stack, 'churn').data.bucket).toMatch(/^<Shared\w+>$/);
  });

  test('two workflows on one environment deploy the DAG files once and a config each', () => {
    const parts = workflowStack();
    churnWorkflow(parts);
    new ModelWorkflow(parts.stack, 'Fraud', { environment: parts.environment, pipelineName: 'fraud', imageRepository: parts.imageRepository, preprocessingCode: parts.preprocessingCode });
    const t = Template.fromStack(parts.stack);
    const deployment = Object.values(t.findResources('Custom::CDKBucketDeployment'))[0];
    expect(deployment.Properties.SourceObjectKeys).toHaveLength(3); // the DAG folder, churn.json, fraud.json
    expect(dagConfig(parts.app, parts.stack, 'fraud').pipeline_name).toBe('fraud');
    expect(parts.environment.requirements).toEqual(['aiobotocore']);
    expect(nagFindings(parts.stack)).toEqual([]);
  });

  test('an imported environment: the DAG files deploy without pruning; with its role the grants land on it; warnings say what is the user\'s to do', () => {
    const parts = workflowStack();
    const role = iam.Role.fromRoleArn(parts.stack, 'MwaaRole', 'arn:aws:iam::123456789012:role/mwaa-exec');
    const environment = AirflowEnvironment.fromEnvironmentAttributes(parts.stack, 'Shared', {
      environmentName: 'shared', sourceBucket: s3.Bucket.fromBucketName(parts.stack, 'Src', 'mwaa-src'), executionRole: role,
    });
    const workflow = new ModelWorkflow(parts.stack, 'Churn', { environment, pipelineName: 'churn', imageRepository: parts.imageRepository, preprocessingCode: parts.preprocessingCode });
    const t = Template.fromStack(parts.stack);
    t.hasResourceProperties('Custom::CDKBucketDeployment', { Prune: false, DestinationBucketName: 'mwaa-src' });
    t.hasResourceProperties('AWS::IAM::Policy', { Roles: ['mwaa-exec'], PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'iam:PassRole' })]) } });
    const warnings = Annotations.fromStack(parts.stack).findWarning('*', Match.stringLikeRegexp('.*')).map((w) => String(w.entry.data));
    expect(warnings).toEqual(expect.arrayContaining([
      expect.stringMatching(/Airflow version of environment shared is unknown/),
      expect.stringMatching(/add these lines to its requirements.txt.*: aiobotocore/),
    ]));
    expect(warnings.some((w) => /grantRunDags/.test(w))).toBe(false);
    expect(workflow.environment).toBe(environment);
  });

  test('an imported environment without a role: a warning, and grantRunDags gives a named role the same statements', () => {
    const parts = workflowStack();
    const environment = AirflowEnvironment.fromEnvironmentAttributes(parts.stack, 'Shared', {
      environmentName: 'shared', sourceBucket: s3.Bucket.fromBucketName(parts.stack, 'Src', 'mwaa-src'), airflowVersion: AirflowVersion.V3_2_1,
    });
    const workflow = new ModelWorkflow(parts.stack, 'Churn', { environment, pipelineName: 'churn', imageRepository: parts.imageRepository, preprocessingCode: parts.preprocessingCode });
    const role = new iam.Role(parts.stack, 'Mine', { assumedBy: new iam.ServicePrincipal('airflow-env.amazonaws.com') });
    workflow.grantRunDags(role);
    const warnings = Annotations.fromStack(parts.stack).findWarning('*', Match.stringLikeRegexp('.*')).map((w) => String(w.entry.data));
    expect(warnings).toEqual(expect.arrayContaining([expect.stringMatching(/call grantRunDags\(role\) with the environment's execution role/)]));
    expect(warnings.some((w) => /Airflow version/.test(w))).toBe(false);
    const statements = rendered(roleStatements(Template.fromStack(parts.stack), 'Mine'));
    expect(statements.map((s) => s.actions[0])).toEqual([
      'glue:GetJob', 'sagemaker:CreateTrainingJob', 'sagemaker:CreateModelPackageGroup', 'sagemaker:ListModelPackages', 'iam:PassRole',
      'ecr:DescribeRepositories', 's3:GetObject', 's3:ListBucket', 'kms:Decrypt', 'kms:CreateGrant', 'sagemaker:CreateModel', 'cloudwatch:DescribeAlarms',
    ]);
  });

  test('grants: invoke the endpoint, read model artifacts', () => {
    const parts = workflowStack();
    const workflow = churnWorkflow(parts);
    const app = new iam.Role(parts.stack, 'App', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    workflow.grantInvokeEndpoint(app);
    workflow.grantReadModelArtifacts(app);
    const statements = rendered(roleStatements(Template.fromStack(parts.stack), 'App'));
    expect(statements).toEqual(expect.arrayContaining([
      { actions: ['sagemaker:InvokeEndpoint', 'sagemaker:InvokeEndpointAsync', 'sagemaker:InvokeEndpointWithResponseStream'], resources: [SAGEMAKER('endpoint/churn')] },
      { actions: ['s3:GetObject'], resources: [expect.stringMatching(/\/artifacts\/churn\/\*$/)] },
      { actions: ['kms:Decrypt'], resources: [expect.stringMatching(/^<ChurnKey/)] },
    ]));
  });
});

describe('ModelWorkflow refuses what cannot work, naming the prop, the value and what is allowed', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['pipeline name pattern', () => churnWorkflow(workflowStack(), { pipelineName: 'Churn_1' }), /pipelineName: 'Churn_1' is not allowed; use lowercase letters/],
    ['pipeline name length', () => churnWorkflow(workflowStack(), { pipelineName: 'a'.repeat(25) }), /at most 24 characters/],
    ['pipeline name with a stage segment', () => churnWorkflow(workflowStack(), { pipelineName: 'churn-model' }), /contains the segment 'model'/],
    ['training instance type', () => churnWorkflow(workflowStack(), { training: { instanceType: 'm5.large' } }), /training.instanceType: 'm5.large' is not a SageMaker instance type/],
    ['endpoint instance type', () => EndpointDeployment.realTime({ instanceType: 'ml.m5' }), /deployment instanceType: 'ml.m5' is not a SageMaker instance type/],
    ['serverless memory', () => EndpointDeployment.serverless({ memorySizeMb: 1500 }), /memorySizeMb: 1500 is not allowed; serverless endpoints take 1024, 2048/],
    ['serverless concurrency', () => EndpointDeployment.serverless({ maxConcurrency: 201 }), /deployment maxConcurrency: 201 is not allowed; use a whole number from 1 to 200$/],
    ['threshold of a [0,1] metric', () => churnWorkflow(workflowStack(), { evaluation: { metric: 'auc', threshold: 1.5 } }), /evaluation.threshold: 1.5 is not allowed; use a number from 0 to 1 \(auc is a fraction\)$/],
    ['split fractions', () => churnWorkflow(workflowStack(), { preprocessing: { trainFraction: 0.8, validationFraction: 0.2 } }), /the sum must be below 1/],
    ['canary percent', () => TrafficShifting.canary(60, Duration.minutes(1)), /trafficShifting percent \(canary\): 60 is not allowed; use a whole number from 1 to 50$/],
    ['linear percent', () => TrafficShifting.linear(5, Duration.minutes(1)), /trafficShifting percent \(linear\): 5 is not allowed; use a whole number from 10 to 50$/],
    ['traffic wait', () => TrafficShifting.canary(10, Duration.hours(2)), /trafficShifting wait: 7200 seconds is not allowed; use a number from 0 to 3600 seconds$/],
    ['spot max wait', () => churnWorkflow(workflowStack(), { training: { maxRuntime: Duration.hours(2), spot: { maxWait: Duration.hours(1) } } }), /training.spot.maxWait: 3600 s is below training.maxRuntime \(7200 s\)/],
    ['data prefix', () => churnWorkflow(workflowStack(), { dataPrefixes: { raw: '/raw' } }), /dataPrefixes.raw: '\/raw' is not a key prefix/],
    ['endpoint name', () => churnWorkflow(workflowStack(), { endpointName: 'churn_live' }), /endpointName: 'churn_live' is not a SageMaker name/],
    ['endpoint name without an endpoint', () => churnWorkflow(workflowStack(), { deployment: EndpointDeployment.none(), endpointName: 'x' }), /endpointName: 'x' is set, but deployment is EndpointDeployment.none\(\)/],
    ['Glue workers', () => churnWorkflow(workflowStack(), { preprocessing: { workerCount: 1 } }), /preprocessing.workerCount: 1 is not allowed; use a whole number from 2 to 299$/],
    ['retries', () => churnWorkflow(workflowStack(), { retries: 11 }), /retries: 11 is not allowed; use a whole number from 0 to 10$/],
    ['poll interval', () => churnWorkflow(workflowStack(), { pollInterval: Duration.hours(2) }), /pollInterval: 7200 seconds is not allowed; use a number from 1 to 3600 seconds$/],
    ['two workflows with one name on one environment', () => { const p = workflowStack(); churnWorkflow(p); churnWorkflow(p, {}, 'Again'); }, /pipelineName: 'churn' is already used on environment Test\/Airflow/],
    ['an Airflow 2 environment', () => {
      const p = workflowStack();
      const old = new AirflowEnvironment(p.stack, 'Old', { airflowVersion: AirflowVersion.V2_10_3 });
      churnWorkflow(p, { environment: old });
    }, /runs Airflow 2.10.3; the DAGs of ModelWorkflow need Airflow 3 \(3.0.6 or newer/],
  ];
  test.each(cases)('%s', (_name, build, message) => {
    expect(build).toThrow(message);
  });

  test('the same pipeline name on two environments is fine', () => {
    const p = workflowStack();
    churnWorkflow(p);
    const other = new AirflowEnvironment(p.stack, 'Other', { airflowVersion: AirflowVersion.V3_3_1 });
    expect(() => churnWorkflow(p, { environment: other, endpointName: 'churn-b', modelPackageGroupName: 'churn-b-models' }, 'Again')).not.toThrow();
    expect(Stack.of(other)).toBe(p.stack);
  });
});
