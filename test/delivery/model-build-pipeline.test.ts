import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ModelBuildPipeline, ModelBuildPipelineProps, PipelineSource } from '../../src';
import { nagFindings } from '../nag';
import { newStack, onlyResource, template } from '../util';

const CONNECTION_ARN = 'arn:aws:codeconnections:eu-west-1:123456789012:connection/12345678-1234-1234-1234-123456789012';

const SOURCES: Record<string, (stack: Stack) => PipelineSource> = {
  'connection': () => PipelineSource.connection({ connectionArn: CONNECTION_ARN, owner: 'acme', repository: 'churn-model', branch: 'release' }),
  'codecommit': (stack) => PipelineSource.codeCommit({ repository: codecommit.Repository.fromRepositoryName(stack, 'Repo', 'churn-model') }),
  'new-codecommit': () => PipelineSource.newCodeCommitRepository({ repositoryName: 'churn-model' }),
  's3': (stack) => {
    const bucket = new s3.Bucket(stack, 'Uploads', { versioned: true, enforceSSL: true });
    Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason: 'a test fixture standing in for the team\'s upload bucket' });
    return PipelineSource.s3({ bucket, objectKey: 'model/source.zip' });
  },
};

function build(kind: string = 'new-codecommit', props: Partial<ModelBuildPipelineProps> = {}) {
  const stack = newStack();
  const pipeline = new ModelBuildPipeline(stack, 'Build', { source: SOURCES[kind](stack), ...props });
  return { stack, pipeline, t: template(stack) };
}

function pipelineResource(t: ReturnType<typeof template>): any {
  return onlyResource(t, 'AWS::CodePipeline::Pipeline').Properties;
}

function sourceAction(t: ReturnType<typeof template>): any {
  return pipelineResource(t).Stages[0].Actions[0];
}

function project(t: ReturnType<typeof template>, id: string): any {
  const found = Object.entries(t.findResources('AWS::CodeBuild::Project')).filter(([logicalId]) => logicalId.startsWith(`Build${id}`));
  expect(found).toHaveLength(1);
  return found[0][1].Properties;
}

function rolePolicyStatements(t: ReturnType<typeof template>, roleLogicalIdPrefix: string): any[] {
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref?.startsWith(roleLogicalIdPrefix)))
    .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

describe('sources: every kind starts the pipeline on a change, none polls', () => {
  test.each(Object.keys(SOURCES))('%s: no polling, a V2 pipeline', (kind) => {
    const { t } = build(kind);
    const pipeline = pipelineResource(t);
    expect(pipeline.PipelineType).toBe('V2');
    const configuration = sourceAction(t).Configuration;
    expect(configuration.PollForSourceChanges ?? configuration.DetectChanges).toBe(false);
  });

  test('connection: a V2 trigger on pushes to the branch', () => {
    const { t } = build('connection');
    expect(sourceAction(t)).toMatchObject({
      ActionTypeId: { Provider: 'CodeStarSourceConnection' },
      Configuration: { ConnectionArn: CONNECTION_ARN, FullRepositoryId: 'acme/churn-model', BranchName: 'release', DetectChanges: false },
    });
    expect(pipelineResource(t).Triggers).toEqual([{
      ProviderType: 'CodeStarSourceConnection',
      GitConfiguration: { SourceActionName: 'Source', Push: [{ Branches: { Includes: ['release'] } }] },
    }]);
  });

  test('CodeCommit: an EventBridge rule on the branch starts the pipeline', () => {
    const { t } = build('codecommit');
    expect(sourceAction(t).Configuration).toMatchObject({ RepositoryName: 'churn-model', BranchName: 'main' });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ 'source': ['aws.codecommit'], 'detail-type': ['CodeCommit Repository State Change'], 'detail': { event: ['referenceCreated', 'referenceUpdated'], referenceName: ['main'] } }),
      Targets: [Match.objectLike({ Arn: Match.anyValue() })],
    });
  });

  test('new CodeCommit repository: seeded with the starter repository, retained on delete', () => {
    const { t, pipeline } = build('new-codecommit');
    const repository = onlyResource(t, 'AWS::CodeCommit::Repository');
    expect(repository.Properties).toMatchObject({ RepositoryName: 'churn-model', Code: { BranchName: 'main', S3: { Key: expect.stringMatching(/\.zip$/) } } });
    expect(repository.DeletionPolicy).toBe('Retain');
    expect(pipeline.sourceRepository).toBeDefined();
  });

  test('S3: a rule on the object key starts the pipeline, and the bucket sends events to EventBridge', () => {
    const { t } = build('s3');
    expect(sourceAction(t).Configuration).toMatchObject({ S3ObjectKey: 'model/source.zip', PollForSourceChanges: false });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'source': ['aws.s3'], 'detail-type': ['Object Created'], 'detail': { bucket: { name: [Match.anyValue()] }, object: { key: ['model/source.zip'] } } },
    });
    t.hasResourceProperties('Custom::S3BucketNotifications', { NotificationConfiguration: { EventBridgeConfiguration: {} } });
  });

  test('S3 with an imported bucket: a synth warning says to turn on EventBridge notifications', () => {
    const stack = newStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Imported', 'uploads');
    new ModelBuildPipeline(stack, 'Build', { source: PipelineSource.s3({ bucket, objectKey: 'source.zip' }) });
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('imported, so EventBridge notifications cannot be turned on here'));
  });
});

describe('stages', () => {
  test('source, validate, stage preprocessing, then build the image, each with the revision as COMMIT_ID', () => {
    const { t } = build('connection');
    const stages = pipelineResource(t).Stages;
    expect(stages.map((s: any) => s.Name)).toEqual(['Source', 'Validate', 'StagePreprocessing', 'BuildImage']);
    for (const stage of stages.slice(1)) {
      expect(JSON.parse(stage.Actions[0].Configuration.EnvironmentVariables)).toEqual([{ name: 'COMMIT_ID', type: 'PLAINTEXT', value: '#{Source_Source_NS.CommitId}' }]);
    }
  });

  test('S3 sources tag with the object version', () => {
    const { t } = build('s3');
    const variables = JSON.parse(pipelineResource(t).Stages[3].Actions[0].Configuration.EnvironmentVariables);
    expect(variables[0].value).toBe('#{Source_Source_NS.VersionId}');
  });

  test('only the image build is privileged; all run on the current standard image with timeouts and their own log groups', () => {
    const { t } = build();
    const expectations: Record<string, [boolean, number]> = { Validate: [false, 30], StagePreprocessing: [false, 10], BuildImage: [true, 60] };
    for (const [id, [privileged, timeout]] of Object.entries(expectations)) {
      const p = project(t, id);
      expect(p.Environment).toMatchObject({ Image: 'aws/codebuild/standard:7.0', PrivilegedMode: privileged });
      expect(p.TimeoutInMinutes).toBe(timeout);
      expect(p.EncryptionKey).toBeDefined();
      expect(p.LogsConfig.CloudWatchLogs).toMatchObject({ Status: 'ENABLED', GroupName: { Ref: expect.stringMatching(new RegExp(`^Build${id}Logs`)) } });
    }
    expect(project(t, 'BuildImage').Cache).toEqual({ Type: 'LOCAL', Modes: ['LOCAL_DOCKER_LAYER_CACHE'] });
    for (const group of Object.values(t.findResources('AWS::Logs::LogGroup'))) {
      expect((group as any).Properties.RetentionInDays).toBe(90);
    }
  });

  test('the image is tagged with the commit, pushed once per commit, logged in with get-login-password, and no command dumps the environment', () => {
    const { t } = build();
    const spec = JSON.parse(project(t, 'BuildImage').Source.BuildSpec);
    const commands: string[] = Object.values(spec.phases).flatMap((phase: any) => phase.commands);
    expect(commands.join('\n')).toContain('docker build --tag "${IMAGE_REPOSITORY_URI}:${COMMIT_ID}" .');
    expect(commands.join('\n')).toContain('docker push "${IMAGE_REPOSITORY_URI}:${COMMIT_ID}"');
    expect(commands.join('\n')).toContain('aws ecr get-login-password');
    expect(spec.env['exported-variables']).toEqual(['IMAGE_DIGEST']);
    for (const name of ['Validate', 'StagePreprocessing', 'BuildImage']) {
      const phases = Object.values(JSON.parse(project(t, name).Source.BuildSpec).phases);
      for (const command of phases.flatMap((phase: any) => phase.commands as string[])) {
        expect(command).not.toMatch(/^\s*(env|printenv|export -p|set)\s*($|\|)|set -x|ecr get-login(?!-password)/);
      }
    }
  });

  test('the staging build writes under <prefix><commit>/ of the script bucket', () => {
    const { t, stack, pipeline } = build('new-codecommit', { scriptPrefix: 'code/glue/' });
    const p = project(t, 'StagePreprocessing');
    expect(p.Environment.EnvironmentVariables).toEqual(expect.arrayContaining([
      { Name: 'SCRIPT_PREFIX', Type: 'PLAINTEXT', Value: 'code/glue/' },
      { Name: 'SCRIPT_BUCKET', Type: 'PLAINTEXT', Value: { Ref: expect.stringMatching(/^BuildScriptBucket/) } },
    ]));
    expect(stack.resolve(pipeline.scriptLocationPrefix)).toEqual({ 'Fn::Join': ['', ['s3://', { Ref: expect.stringMatching(/^BuildScriptBucket/) }, '/code/glue/']] });
  });
});

describe('image repository', () => {
  test('created: scan on push, immutable tags, KMS, keeps the last N images, retained', () => {
    const { t } = build('new-codecommit', { maxImageCount: 7 });
    const repository = onlyResource(t, 'AWS::ECR::Repository');
    expect(repository.Properties).toMatchObject({
      ImageScanningConfiguration: { ScanOnPush: true },
      ImageTagMutability: 'IMMUTABLE',
      EncryptionConfiguration: { EncryptionType: 'KMS' },
    });
    expect(JSON.parse(repository.Properties.LifecyclePolicy.LifecyclePolicyText).rules[0].selection).toMatchObject({ countType: 'imageCountMoreThan', countNumber: 7 });
    expect(repository.DeletionPolicy).toBe('Retain');
  });

  test('brought: used as given, nothing created', () => {
    const stack = newStack();
    const imageRepository = ecr.Repository.fromRepositoryName(stack, 'Images', 'team-images');
    const pipeline = new ModelBuildPipeline(stack, 'Build', { source: SOURCES.codecommit(stack), imageRepository });
    const puller = new iam.Role(stack, 'Puller', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
    pipeline.grantPullImages(puller);
    const t = template(stack);
    t.resourceCountIs('AWS::ECR::Repository', 0);
    expect(pipeline.imageRepository).toBe(imageRepository);
    // the construct's key does not encrypt a brought repository: pulling it needs no grant on that key
    expect(rolePolicyStatements(t, 'Puller').flatMap((s: any) => [s.Action].flat())).not.toContain('kms:Decrypt');
  });
});

describe('least privilege', () => {
  test('the staging build may only write under the staging prefix of the script bucket', () => {
    const { t } = build();
    const writes = rolePolicyStatements(t, 'BuildStagePreprocessingRole').filter((s: any) => [s.Action].flat().includes('s3:PutObject'));
    expect(writes).toHaveLength(1);
    expect(writes[0].Resource).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^BuildScriptBucket/), 'Arn'] }, '/preprocessing/*']] });
  });

  test('the image build may push to its repository only; only docker login is on *', () => {
    const { t } = build();
    const statements = rolePolicyStatements(t, 'BuildBuildImageRole');
    const ecrStatements = statements.filter((s: any) => [s.Action].flat().some((a: string) => a.startsWith('ecr:')));
    for (const statement of ecrStatements) {
      if (statement.Resource === '*') expect(statement.Action).toBe('ecr:GetAuthorizationToken');
      else expect(statement.Resource).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^BuildImageRepository/), 'Arn'] });
    }
    expect(ecrStatements.flatMap((s: any) => [s.Action].flat())).toEqual(expect.arrayContaining(['ecr:PutImage', 'ecr:CompleteLayerUpload', 'ecr:DescribeImages']));
    expect(statements.some((s: any) => [s.Action].flat().includes('s3:PutObject') && JSON.stringify(s.Resource).includes('ScriptBucket'))).toBe(false);
  });

  test('the validation build can neither push images nor stage code', () => {
    const { t } = build();
    const actions = rolePolicyStatements(t, 'BuildValidateRole').flatMap((s: any) => [s.Action].flat());
    expect(actions.filter((a: string) => a.startsWith('ecr:'))).toEqual([]);
    expect(JSON.stringify(rolePolicyStatements(t, 'BuildValidateRole'))).not.toContain('ScriptBucket');
  });

  test('grants: the Glue role reads the staged code, the SageMaker role pulls images', () => {
    const stack = newStack();
    const pipeline = new ModelBuildPipeline(stack, 'Build', { source: SOURCES['new-codecommit'](stack) });
    const glue = new iam.Role(stack, 'Glue', { assumedBy: new iam.ServicePrincipal('glue.amazonaws.com') });
    const sagemaker = new iam.Role(stack, 'SageMaker', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
    pipeline.grantReadPreprocessingCode(glue);
    pipeline.grantPullImages(sagemaker);
    const t = template(stack);
    const glueStatements = rolePolicyStatements(t, 'Glue');
    expect(glueStatements.find((s: any) => [s.Action].flat().includes('s3:GetObject*'))?.Resource).toEqual(expect.arrayContaining([
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^BuildScriptBucket/), 'Arn'] }, '/preprocessing/*']] },
    ]));
    const pulls = rolePolicyStatements(t, 'SageMaker').flatMap((s: any) => [s.Action].flat());
    expect(pulls).toEqual(expect.arrayContaining(['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'kms:Decrypt']));
    expect(pulls).not.toContain('ecr:PutImage');
  });
});

describe('notifications', () => {
  test('by default: a KMS-encrypted, TLS-only topic, told by a rule on failed executions', () => {
    const { t, pipeline } = build();
    expect(pipeline.failureTopic).toBeDefined();
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    expect(JSON.stringify(t.findResources('AWS::KMS::Key'))).toContain('events.amazonaws.com'); // EventBridge may use the topic's key
    t.hasResourceProperties('AWS::SNS::TopicPolicy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Effect: 'Deny' })]) } });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ 'detail': { state: ['FAILED'] }, 'detail-type': ['CodePipeline Pipeline Execution State Change'] }),
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^BuildFailureTopic') } })],
    });
  });

  test('a given topic is used; notifyOnFailure: false turns notifications off', () => {
    const stack = newStack();
    const topic = new sns.Topic(stack, 'Ops', { enforceSSL: true });
    const given = new ModelBuildPipeline(stack, 'Build', { source: SOURCES['new-codecommit'](stack), failureTopic: topic });
    expect(given.failureTopic).toBe(topic);
    template(stack).resourceCountIs('AWS::SNS::Topic', 1);
    expect(JSON.stringify(template(stack).findResources('AWS::KMS::Key'))).not.toContain('events.amazonaws.com');

    const { t, pipeline } = build('new-codecommit', { notifyOnFailure: false });
    expect(pipeline.failureTopic).toBeUndefined();
    t.resourceCountIs('AWS::SNS::Topic', 0);
    expect(JSON.stringify(t.findResources('AWS::Events::Rule'))).not.toContain('FAILED');
  });
});

describe('encryption of what the construct creates', () => {
  function keyStatements(t: ReturnType<typeof template>): any[] {
    return Object.values(t.findResources('AWS::KMS::Key')).flatMap((k: any) => k.Properties.KeyPolicy.Statement);
  }

  test('the build log groups are encrypted with the construct\'s key, which CloudWatch Logs may use for those groups only', () => {
    const { t } = build();
    const keyId = Object.keys(t.findResources('AWS::KMS::Key'))[0];
    const groups = Object.values(t.findResources('AWS::Logs::LogGroup')).map((g: any) => g.Properties);
    expect(groups).toHaveLength(3);
    const logs = keyStatements(t).filter((st) => JSON.stringify(st.Principal).includes('logs.'));
    expect(logs).toHaveLength(1);
    const pattern: string = JSON.stringify(logs[0].Condition.ArnLike['kms:EncryptionContext:aws:logs:arn']);
    const prefix = /log-group:([^"*]+)\*/.exec(pattern)![1];
    expect(prefix).toMatch(/^\/cdk-mwaa-mlops\/model-build\/.+\/$/);
    for (const group of groups) {
      expect(group.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
      // `<prefix><id>-<stack uuid>`: covered by the key policy, and new for every stack a retained group outlives.
      const [, parts] = group.LogGroupName['Fn::Join'];
      expect(parts[0].startsWith(prefix)).toBe(true);
      expect(JSON.stringify(parts.slice(1))).toContain('AWS::StackId');
    }
  });

  test('two pipelines in one stack have distinct log group prefixes', () => {
    const stack = newStack();
    new ModelBuildPipeline(stack, 'A', { source: SOURCES['new-codecommit'](stack) });
    new ModelBuildPipeline(stack, 'B', { source: PipelineSource.connection({ connectionArn: CONNECTION_ARN, owner: 'o', repository: 'r', branch: 'main' }) });
    const names = Object.values(template(stack).findResources('AWS::Logs::LogGroup')).map((g: any) => JSON.stringify(g.Properties.LogGroupName));
    expect(new Set(names).size).toBe(6);
  });
});

describe('EventBridge may publish to the failure topic and use its key, with no condition (AWS supports none there)', () => {
  function eventBridgeStatements(resources: Record<string, any>, policyOf: (r: any) => any): any[] {
    return Object.values(resources).flatMap((r: any) => policyOf(r).Statement)
      .filter((st: any) => JSON.stringify(st.Principal ?? {}).includes('events.amazonaws.com'));
  }

  test('created topic: one unconditioned statement in the topic policy and in the key policy', () => {
    const { t } = build();
    const topic = eventBridgeStatements(t.findResources('AWS::SNS::TopicPolicy'), (r) => r.Properties.PolicyDocument);
    const key = eventBridgeStatements(t.findResources('AWS::KMS::Key'), (r) => r.Properties.KeyPolicy);
    expect(topic).toHaveLength(1);
    expect(key).toHaveLength(1);
    // SNS topic policies for EventBridge take no Condition, and KMS gets no aws:SourceArn from EventBridge deliveries.
    for (const st of [...topic, ...key]) expect(st.Condition).toBeUndefined();
    expect(topic[0].Action).toBe('sns:Publish');
    expect(key[0].Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
  });

  test('given topic: its policy lets EventBridge publish; the construct\'s key is not opened to EventBridge', () => {
    const stack = newStack();
    const topic = new sns.Topic(stack, 'Ops', { enforceSSL: true });
    new ModelBuildPipeline(stack, 'Build', { source: SOURCES['new-codecommit'](stack), failureTopic: topic });
    const t = template(stack);
    const statements = eventBridgeStatements(t.findResources('AWS::SNS::TopicPolicy'), (r) => r.Properties.PolicyDocument);
    expect(statements).toHaveLength(1);
    expect(statements[0].Condition).toBeUndefined();
    expect(eventBridgeStatements(t.findResources('AWS::KMS::Key'), (r) => r.Properties.KeyPolicy)).toEqual([]);
  });
});

describe('bad props fail at synth with the prop and the value', () => {
  test.each([
    ['a connection ARN that is not one', () => PipelineSource.connection({ connectionArn: 'arn:aws:iam::123456789012:role/x', owner: 'a', repository: 'b' }), /connectionArn: 'arn:aws:iam::123456789012:role\/x' is not a connection ARN/],
    ['an empty branch', () => PipelineSource.connection({ connectionArn: CONNECTION_ARN, owner: 'a', repository: 'b', branch: '' }), /branch: '' is not a Git branch name/],
    ['a branch with a space', () => PipelineSource.newCodeCommitRepository({ repositoryName: 'x', branch: 'my branch' }), /branch: 'my branch'/],
    ['an owner with a space', () => PipelineSource.connection({ connectionArn: CONNECTION_ARN, owner: 'a b', repository: 'b' }), /owner: 'a b' is not a repository owner/],
    ['a repository name ending in .git', () => PipelineSource.newCodeCommitRepository({ repositoryName: 'model.git' }), /repositoryName: 'model.git' is not a CodeCommit repository name/],
    ['an object key starting with /', () => PipelineSource.s3({ bucket: s3.Bucket.fromBucketName(newStack(), 'B', 'uploads'), objectKey: '/source.zip' }), /objectKey: '\/source.zip' is not an object key/],
  ])('%s', (_name, make, message) => {
    expect(make).toThrow(message);
  });

  test.each([
    [{ maxImageCount: 0 }, /maxImageCount: 0 is not allowed; use a whole number from 1 to 10000$/],
    [{ maxImageCount: 2.5 }, /maxImageCount: 2.5 is not allowed; use a whole number from 1 to 10000$/],
    [{ scriptPrefix: 'preprocessing' }, /scriptPrefix: 'preprocessing' must be a key prefix ending with '\/'/],
    [{ scriptPrefix: '/code/' }, /scriptPrefix: '\/code\/' must be a key prefix/],
    [{ imageBuildTimeout: Duration.hours(9) }, /imageBuildTimeout: 540 minutes is not allowed; use a whole number from 5 to 480 minutes$/],
    [{ validateTimeout: Duration.minutes(1) }, /validateTimeout: 1 minutes is not allowed; use a whole number from 5 to 480 minutes$/],
    [{ notifyOnFailure: false, failureTopic: undefined as any }, null],
  ])('%j', (props, message) => {
    if (message === null) {
      expect(() => build('new-codecommit', props)).not.toThrow();
    } else {
      expect(() => build('new-codecommit', props)).toThrow(message);
    }
  });

  test('a failure topic with notifications off is a contradiction', () => {
    const stack = newStack();
    const failureTopic = new sns.Topic(stack, 'T');
    expect(() => new ModelBuildPipeline(stack, 'Build', { source: SOURCES['new-codecommit'](stack), failureTopic, notifyOnFailure: false }))
      .toThrow(/failureTopic is given but notifyOnFailure is false/);
  });
});

describe('cdk-nag', () => {
  test.each(Object.keys(SOURCES))('AwsSolutions: no unacknowledged finding with a %s source', (kind) => {
    const { stack } = build(kind);
    expect(nagFindings(stack)).toEqual([]);
  });
});
