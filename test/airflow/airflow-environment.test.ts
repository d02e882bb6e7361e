import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RemovalPolicy } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import {
  AirflowEnvironment, AirflowLogLevel, AirflowVersion, EndpointManagement, EnvironmentClass, WebserverAccessMode,
} from '../../src';
import { newStack, onlyResource, SAMPLE_DAGS, template } from '../util';

const FIXTURES = path.join(__dirname, '..', 'fixtures');

/** The `Body` of the putObject call a versioned-text custom resource makes. */
function putObjectBody(resource: any): string {
  const parts: any[] = resource.Properties.Create['Fn::Join'][1];
  const json = parts.map((p) => (typeof p === 'string' ? p : 'BUCKET')).join('');
  return JSON.parse(json).parameters.Body;
}

/** The custom resource that writes the text object `key` (default: requirements.txt). */
function versionedTextResource(t: ReturnType<typeof template>, key = 'requirements/requirements.txt'): any {
  return Object.values(t.findResources('Custom::AWS')).find((r: any) =>
    JSON.stringify(r.Properties.Create).includes(`\\"Key\\":\\"${key}\\"`));
}

describe('AirflowEnvironment defaults', () => {
  const stack = newStack();
  const env = new AirflowEnvironment(stack, 'Airflow');
  const t = template(stack);

  test('environment: newest Airflow 3, mw1.small, private webserver, explicit capacity, every log at INFO', () => {
    t.hasResourceProperties('AWS::MWAA::Environment', {
      AirflowVersion: '3.3.1',
      EnvironmentClass: 'mw1.small',
      WebserverAccessMode: 'PRIVATE_ONLY',
      MinWorkers: 1,
      MaxWorkers: 10,
      Schedulers: 2,
      DagS3Path: 'dags',
      Name: env.environmentName,
      LoggingConfiguration: Object.fromEntries(
        ['DagProcessingLogs', 'SchedulerLogs', 'TaskLogs', 'WebserverLogs', 'WorkerLogs']
          .map((k) => [k, { Enabled: true, LogLevel: 'INFO' }])),
      KmsKey: Match.absent(),
    });
    expect(env.environmentName).toMatch(/^[a-zA-Z][0-9a-zA-Z_-]{0,79}$/);
  });

  test('requirements.txt holds exactly the constraint line and is pinned by its S3 object version', () => {
    const req = versionedTextResource(t);
    expect(putObjectBody(req)).toBe(
      '--constraint "https://raw.githubusercontent.com/apache/airflow/constraints-3.3.1/constraints-3.12.txt"\n');
    const [id] = Object.entries(t.findResources('Custom::AWS')).find(([, r]) => r === req)!;
    t.hasResourceProperties('AWS::MWAA::Environment', {
      RequirementsS3Path: 'requirements/requirements.txt',
      RequirementsS3ObjectVersion: { 'Fn::GetAtt': [id, 'VersionId'] },
    });
  });

  test('network: two private subnets of a new VPC with one NAT gateway, an S3 gateway endpoint and flow logs', () => {
    t.resourceCountIs('AWS::EC2::NatGateway', 1);
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.s3']] },
    });
    t.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    const mwaa = onlyResource(t, 'AWS::MWAA::Environment');
    const subnets: any[] = mwaa.Properties.NetworkConfiguration.SubnetIds;
    expect(subnets).toHaveLength(2);
    for (const subnet of subnets) {
      expect(t.toJSON().Resources[subnet.Ref].Properties.MapPublicIpOnLaunch).toBe(false);
      expect(subnet.Ref).toMatch(/private/);
    }
  });

  test('security group lets the environment reach itself and nothing else in', () => {
    const sgId = onlyResource(t, 'AWS::MWAA::Environment').Properties.NetworkConfiguration.SecurityGroupIds[0]['Fn::GetAtt'][0];
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: '-1',
      GroupId: { 'Fn::GetAtt': [sgId, 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [sgId, 'GroupId'] },
    });
    expect(t.toJSON().Resources[sgId].Properties.SecurityGroupIngress).toBeUndefined();
  });

  test('source bucket: versioned, KMS-encrypted, public access blocked, SSL-only, logged, retained', () => {
    const sourceArn = onlyResource(t, 'AWS::MWAA::Environment').Properties.SourceBucketArn;
    const bucketId = sourceArn['Fn::GetAtt'][0];
    const bucket = t.toJSON().Resources[bucketId];
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: { LogFilePrefix: 'source-bucket/' },
    });
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('execution role trusts both MWAA principals, pinned to this account and environment', () => {
    const arn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':airflow:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:environment/${env.environmentName}`]] };
    const conditions = { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } }, ArnLike: { 'aws:SourceArn': arn } };
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'airflow.amazonaws.com' }, Condition: conditions },
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'airflow-env.amazonaws.com' }, Condition: conditions },
        ],
      },
    });
  });

  test('execution policy is the documented one, scoped to this environment', () => {
    const policies = Object.values(t.findResources('AWS::IAM::Policy')).filter((p: any) =>
      JSON.stringify(p).includes('airflow:PublishMetrics'));
    expect(policies).toHaveLength(1);
    const statements: any[] = (policies[0] as any).Properties.PolicyDocument.Statement;
    const byAction = (a: string) => statements.find((s) => [s.Action].flat().includes(a));
    expect(JSON.stringify(byAction('airflow:PublishMetrics').Resource)).toContain(`:environment/${env.environmentName}`);
    expect(JSON.stringify(byAction('logs:PutLogEvents').Resource)).toContain(`:log-group:airflow-${env.environmentName}-*`);
    expect(byAction('cloudwatch:PutMetricData')).toMatchObject({ Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': 'AmazonMWAA' } } });
    expect(JSON.stringify(byAction('sqs:ReceiveMessage').Resource)).toContain(':*:airflow-celery-*');
    expect(byAction('kms:Decrypt').NotResource).toBeDefined();
    // Only the three actions AWS gives no resource-level permissions get '*'.
    const starActions = statements.filter((s) => s.Resource === '*').flatMap((s) => [s.Action].flat()).sort();
    expect(starActions).toEqual(['cloudwatch:PutMetricData', 'logs:DescribeLogGroups', 's3:GetAccountPublicAccessBlock']);
    for (const s of statements) expect([s.Action].flat().some((a: string) => a === '*' || a.endsWith(':*'))).toBe(false);
  });

  test('MWAA log groups get a one-month retention once the environment has created them', () => {
    const envId = Object.keys(t.findResources('AWS::MWAA::Environment'))[0];
    const retentions = Object.values(t.findResources('Custom::LogRetention'));
    expect(retentions.map((r: any) => r.Properties.LogGroupName).sort()).toEqual(
      ['DAGProcessing', 'Scheduler', 'Task', 'WebServer', 'Worker'].map((c) => `airflow-${env.environmentName}-${c}`));
    for (const r of retentions as any[]) {
      expect(r.Properties.RetentionInDays).toBe(30);
      expect(r.DependsOn).toContain(envId);
    }
  });

  test('nothing is deployed to the DAG folder until asked', () => {
    t.resourceCountIs('Custom::CDKBucketDeployment', 0);
  });
});

describe('AirflowEnvironment options', () => {
  test('every typed setting reaches the environment', () => {
    const stack = newStack();
    new AirflowEnvironment(stack, 'Airflow', {
      environmentName: 'ml-platform',
      airflowVersion: AirflowVersion.V3_0_6,
      environmentClass: EnvironmentClass.MW1_MEDIUM,
      minWorkers: 2,
      maxWorkers: 20,
      schedulers: 3,
      minWebservers: 2,
      maxWebservers: 4,
      webserverAccessMode: WebserverAccessMode.PUBLIC_ONLY,
      endpointManagement: EndpointManagement.CUSTOMER,
      airflowConfigurationOptions: { 'core.default_task_retries': '2' },
      weeklyMaintenanceWindowStart: 'SUN:03:30',
      logging: { task: AirflowLogLevel.DEBUG, webserver: AirflowLogLevel.DISABLED },
      tags: { team: 'ml' },
    });
    template(stack).hasResourceProperties('AWS::MWAA::Environment', {
      Name: 'ml-platform',
      AirflowVersion: '3.0.6',
      EnvironmentClass: 'mw1.medium',
      MinWorkers: 2,
      MaxWorkers: 20,
      Schedulers: 3,
      MinWebservers: 2,
      MaxWebservers: 4,
      WebserverAccessMode: 'PUBLIC_ONLY',
      EndpointManagement: 'CUSTOMER',
      AirflowConfigurationOptions: { 'core.default_task_retries': '2' },
      WeeklyMaintenanceWindowStart: 'SUN:03:30',
      LoggingConfiguration: Match.objectLike({
        TaskLogs: { Enabled: true, LogLevel: 'DEBUG' },
        WebserverLogs: { Enabled: false },
        SchedulerLogs: { Enabled: true, LogLevel: 'INFO' },
      }),
      Tags: { team: 'ml' },
    });
    const names = Object.values(template(stack).findResources('Custom::LogRetention')).map((r: any) => r.Properties.LogGroupName);
    expect(names).not.toContain('airflow-ml-platform-WebServer');
    expect(names).toHaveLength(4);
  });

  test('the constraint line follows the Airflow version, and requirements follow it', () => {
    const stack = newStack();
    new AirflowEnvironment(stack, 'Airflow', {
      airflowVersion: AirflowVersion.V2_11_0,
      requirements: ['apache-airflow-providers-snowflake==6.1.0', 'scikit-learn'],
    });
    expect(putObjectBody(versionedTextResource(template(stack)))).toBe([
      '--constraint "https://raw.githubusercontent.com/apache/airflow/constraints-2.11.0/constraints-3.11.txt"',
      'apache-airflow-providers-snowflake==6.1.0',
      'scikit-learn',
      '',
    ].join('\n'));
  });

  test('changing requirements changes the pinned object; an unchanged deploy leaves it as it was', () => {
    const synth = (requirements: string[]) => {
      const stack = newStack();
      new AirflowEnvironment(stack, 'Airflow', { environmentName: 'same', requirements });
      return versionedTextResource(template(stack)).Properties;
    };
    expect(synth(['boto3'])).toEqual(synth(['boto3']));
    expect(synth(['boto3']).Update).not.toEqual(synth(['boto3', 'pandas']).Update);
  });

  test('customer managed key is wired into the environment, the bucket, the role and the key policy', () => {
    const stack = newStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const env = new AirflowEnvironment(stack, 'Airflow', { encryptionKey: key });
    const t = template(stack);
    const keyArn = { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] };
    t.hasResourceProperties('AWS::MWAA::Environment', { KmsKey: keyArn });
    t.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn } }] },
    });
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['kms:GenerateDataKey*']), Resource: keyArn, Condition: Match.anyValue() })]) },
    });
    t.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
          Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': Match.anyValue() } },
        })]),
      },
    });
    expect(env.encryptionKey).toBe(key);
  });

  test('brings its own VPC, subnets, security group, bucket and role', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 3, natGateways: 1 });
    const sg = new ec2.SecurityGroup(stack, 'Sg', { vpc });
    const bucket = new s3.Bucket(stack, 'Bucket', { versioned: true, blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('airflow.amazonaws.com') });
    const env = new AirflowEnvironment(stack, 'Airflow', {
      vpc,
      subnetSelection: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, availabilityZones: vpc.availabilityZones.slice(0, 2) },
      securityGroups: [sg],
      sourceBucket: bucket,
      executionRole: role,
    });
    const t = template(stack);
    t.resourceCountIs('AWS::EC2::VPC', 1);
    t.resourceCountIs('AWS::S3::Bucket', 1);
    t.resourceCountIs('AWS::EC2::SecurityGroup', 1);
    const props = onlyResource(t, 'AWS::MWAA::Environment').Properties;
    expect(props.SourceBucketArn).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket), 'Arn'] });
    expect(props.ExecutionRoleArn).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(role.node.defaultChild as iam.CfnRole), 'Arn'] });
    expect(props.NetworkConfiguration.SubnetIds).toHaveLength(2);
    expect(env.executionRole).toBe(role);
    expect(env.vpc).toBe(vpc);
  });

  test('log retention and removal policy are configurable', () => {
    const stack = newStack();
    new AirflowEnvironment(stack, 'Airflow', { logRetention: logs.RetentionDays.ONE_WEEK, removalPolicy: RemovalPolicy.DESTROY });
    const t = template(stack);
    t.hasResourceProperties('Custom::LogRetention', { RetentionInDays: 7, RemovalPolicy: 'destroy' });
    t.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete', Properties: Match.objectLike({ VersioningConfiguration: { Status: 'Enabled' } }) });
  });

  test('mw1.micro defaults to one worker and one scheduler', () => {
    const stack = newStack();
    new AirflowEnvironment(stack, 'Airflow', { environmentClass: EnvironmentClass.MW1_MICRO });
    template(stack).hasResourceProperties('AWS::MWAA::Environment', { EnvironmentClass: 'mw1.micro', MinWorkers: 1, MaxWorkers: 1, Schedulers: 1 });
  });
});

describe('DAG storage', () => {
  test('deploys a DAG directory and per-pipeline files into dags/ before the environment starts', () => {
    const stack = newStack();
    const env = new AirflowEnvironment(stack, 'Airflow', { dagsDirectory: SAMPLE_DAGS });
    env.addDagFile('configs/churn.json', JSON.stringify({ pipeline: 'churn' }));
    const t = template(stack);
    const deployment = onlyResource(t, 'Custom::CDKBucketDeployment');
    expect(deployment.Properties.DestinationBucketKeyPrefix).toBe('dags/');
    expect(deployment.Properties.SourceObjectKeys).toHaveLength(2);
    expect(deployment.Properties.Prune).toBe(true); // the environment owns dags/
    expect(deployment.Properties.RetainOnDelete).not.toBe(false);
    const envResource = onlyResource(t, 'AWS::MWAA::Environment');
    const deploymentId = Object.keys(t.findResources('Custom::CDKBucketDeployment'))[0];
    expect(envResource.DependsOn).toContain(deploymentId);
  });

  test('a DAG directory\'s asset leaves out Python caches, so running the DAGs locally does not change it', () => {
    const dags = fs.mkdtempSync(path.join(os.tmpdir(), 'dags-'));
    fs.writeFileSync(path.join(dags, 'pipeline.py'), '# airflow dag\n');
    const assetKey = (): string => {
      const env = new AirflowEnvironment(newStack(), 'Airflow', { dagsDirectory: dags });
      return JSON.stringify(onlyResource(template(env.stack), 'Custom::CDKBucketDeployment').Properties.SourceObjectKeys);
    };
    const clean = assetKey();
    fs.mkdirSync(path.join(dags, '__pycache__'));
    fs.writeFileSync(path.join(dags, '__pycache__', 'pipeline.cpython-312.pyc'), 'bytecode');
    fs.writeFileSync(path.join(dags, 'stray.pyc'), 'bytecode');
    expect(assetKey()).toBe(clean);
    fs.writeFileSync(path.join(dags, 'pipeline.py'), '# airflow dag, changed\n');
    expect(assetKey()).not.toBe(clean); // a changed DAG is a new asset
  });

  test('rejects a DAG file path outside the DAG folder', () => {
    const env = new AirflowEnvironment(newStack(), 'Airflow');
    expect(() => env.addDagFile('../requirements.txt', 'x')).toThrow(/fileName: '..\/requirements.txt' must be a relative path inside the DAG folder/);
    expect(() => env.addDagFile('/abs.py', 'x')).toThrow(/must be a relative path/);
  });

  test('startup script and plugins are pinned by object version', () => {
    const stack = newStack();
    new AirflowEnvironment(stack, 'Airflow', {
      startupScriptFile: path.join(FIXTURES, 'startup.sh'),
      pluginsDirectory: path.join(FIXTURES, 'plugins'),
    });
    const t = template(stack);
    const props = onlyResource(t, 'AWS::MWAA::Environment').Properties;
    expect(props.StartupScriptS3Path).toBe('startup/startup.sh');
    expect(props.StartupScriptS3ObjectVersion['Fn::GetAtt'][1]).toBe('VersionId');
    expect(props.PluginsS3ObjectVersion['Fn::GetAtt'][1]).toBe('VersionId');
    expect(JSON.stringify(props.PluginsS3Path)).toContain('plugins/');
    expect(putObjectBody(versionedTextResource(t, 'startup/startup.sh'))).toContain('export FIXTURE_STARTUP=1');
    t.hasResourceProperties('Custom::CDKBucketDeployment', { DestinationBucketKeyPrefix: 'plugins/', Extract: false });
  });
});

describe('grants and imports', () => {
  test('grantTriggerDag allows airflow:InvokeRestApi on the User role of this environment only', () => {
    const stack = newStack();
    const env = new AirflowEnvironment(stack, 'Airflow', { environmentName: 'shared' });
    const fn = new iam.Role(stack, 'Caller', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    env.grantTriggerDag(fn);
    template(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(fn.node.defaultChild as iam.CfnRole) }],
      PolicyDocument: {
        Statement: [{
          Action: 'airflow:InvokeRestApi',
          Effect: 'Allow',
          Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':airflow:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':role/shared/User']] },
        }],
      },
    });
  });

  test('grantWebUiAccess allows a web login token as Viewer unless told otherwise', () => {
    const stack = newStack();
    const env = new AirflowEnvironment(stack, 'Airflow', { environmentName: 'ui' });
    const person = new iam.Role(stack, 'Person', { assumedBy: new iam.AccountRootPrincipal() });
    env.grantWebUiAccess(person);
    env.grantWebUiAccess(person, 'Op');
    const statements = Object.values(template(stack).findResources('AWS::IAM::Policy'))
      .filter((p: any) => JSON.stringify(p.Properties.Roles).includes(stack.getLogicalId(person.node.defaultChild as iam.CfnRole)))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(statements.map((st: any) => st.Action)).toEqual(['airflow:CreateWebLoginToken', 'airflow:CreateWebLoginToken']);
    expect(statements.map((st: any) => st.Resource['Fn::Join'][1].at(-1))).toEqual([':role/ui/Viewer', ':role/ui/Op']);
  });

  test('an imported environment grants on its own account and region, and deploys DAGs without pruning', () => {
    const stack = newStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Bucket', 'team-mwaa-source');
    const env = AirflowEnvironment.fromEnvironmentAttributes(stack, 'Shared', {
      environmentName: 'team-env',
      environmentArn: 'arn:aws:airflow:eu-west-1:111122223333:environment/team-env',
      sourceBucket: bucket,
    });
    expect(env.airflowRoleArn('Op')).toBe('arn:aws:airflow:eu-west-1:111122223333:role/team-env/Op');
    env.addDagFile('configs/p.json', '{}');
    const t = template(stack);
    t.hasResourceProperties('Custom::CDKBucketDeployment', { DestinationBucketName: 'team-mwaa-source', Prune: false });
    expect(env.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] })).statementAdded).toBe(false);
  });

  test('an imported environment without a bucket says why it cannot take DAG files', () => {
    const env = AirflowEnvironment.fromEnvironmentAttributes(newStack(), 'Shared', { environmentName: 'team-env' });
    expect(() => env.addDagFile('a.py', '')).toThrow(/cannot deploy DAG files without the source bucket; pass sourceBucket/);
  });

  test('addToRolePolicy extends the execution role', () => {
    const stack = newStack();
    const env = new AirflowEnvironment(stack, 'Airflow');
    expect(env.addToRolePolicy(new iam.PolicyStatement({ actions: ['glue:StartJobRun'], resources: ['arn:aws:glue:us-east-1:111122223333:job/x'] })).statementAdded).toBe(true);
    template(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(env.executionRole.node.defaultChild as iam.CfnRole) }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'glue:StartJobRun' })]) },
    });
  });

  test('rejects an Airflow role name that is not one', () => {
    const env = new AirflowEnvironment(newStack(), 'Airflow');
    expect(() => env.grantTriggerDag(new iam.AccountRootPrincipal(), 'User/../Admin')).toThrow(/airflowRole: 'User\/..\/Admin' is not an Airflow role name/);
  });
});
