/*
 * The cdk-nag gate can fail: a wildcard planted on any role the library creates or grants is reported, because each
 * acknowledgement names one exact resource (or action) the library rendered, and the few actions that AWS authorizes
 * on `*` only sit in policies of their own. Runs on the floor (`test`) and the newest aws-cdk-lib (`test:newest-cdk`).
 */
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { IConstruct } from 'constructs';
import { AirflowEnvironment, AirflowVersion, IAirflowEnvironment, MwaaMlopsPipeline } from '../src';
import { acknowledgements, nagFindings, reasonsNotNamingTheirSubject } from './nag';

/** What a careless change might add: reads of every object and every secret. */
const PLANTED = [
  new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }),
  new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: ['*'] }),
];

function importedEnvironment(stack: Stack): IAirflowEnvironment {
  return AirflowEnvironment.fromEnvironmentAttributes(stack, 'Env', {
    environmentName: 'shared-env',
    executionRole: iam.Role.fromRoleArn(stack, 'ExecRole', 'arn:aws:iam::123456789012:role/mwaa-exec'),
    airflowVersion: AirflowVersion.V3_3_1,
    sourceBucket: s3.Bucket.fromBucketName(stack, 'Src', 'shared-env-source'),
  });
}

/** A pipeline on its own environment, or on an imported one, with no findings before anything is planted. */
function pipeline(kind: 'created' | 'imported'): { app: App; pipeline: MwaaMlopsPipeline } {
  const app = new App();
  const stack = new Stack(app, 'Planted');
  const p = new MwaaMlopsPipeline(stack, 'Churn', kind === 'imported' ? { environment: importedEnvironment(stack) } : {});
  expect(nagFindings(app)).toEqual([]);
  return { app, pipeline: p };
}

/** The IAM5 findings on `*`, by the path of the policy that holds them. */
function wildcardFindings(app: App): string[] {
  return nagFindings(app).filter((f) => f.startsWith('AwsSolutions-IAM5[Resource::*]'));
}

describe('a statement on * planted on a role of the pipeline is reported', () => {
  test.each(['created', 'imported'] as const)('the execution role of a %s environment', (kind) => {
    const { app, pipeline: p } = pipeline(kind);
    for (const statement of PLANTED) expect(p.environment!.addToRolePolicy(statement).statementAdded).toBe(true);
    expect(wildcardFindings(app)).toEqual([
      kind === 'created'
        ? 'AwsSolutions-IAM5[Resource::*]: Planted/Churn/Environment/ExecutionRole/DefaultPolicy/Resource'
        : 'AwsSolutions-IAM5[Resource::*]: Planted/ExecRole/Policy/Resource',
    ]);
  });

  test.each([
    ['the SageMaker role', (p: MwaaMlopsPipeline) => p.workflow.sagemakerRole, 'Planted/Churn/Workflow/SageMakerRole/DefaultPolicy/Resource'],
    ['the Glue role', (p: MwaaMlopsPipeline) => p.workflow.glueRole, 'Planted/Churn/Workflow/GlueRole/DefaultPolicy/Resource'],
    ['the image build role', (p: MwaaMlopsPipeline) => p.modelBuild.imageProject.role!, 'Planted/Churn/Build/BuildImage/Role/DefaultPolicy/Resource'],
    ['the trigger role', (p: MwaaMlopsPipeline) => p.trigger.triggerFunction.role!, 'Planted/Churn/Trigger/Role/DefaultPolicy/Resource'],
  ])('%s', (_name, roleOf, policyPath) => {
    const { app, pipeline: p } = pipeline('created');
    roleOf(p).addToPrincipalPolicy(PLANTED[0]);
    expect(wildcardFindings(app)).toEqual([`AwsSolutions-IAM5[Resource::*]: ${policyPath}`]);
  });

  test('a wildcard ARN the library did not render is reported even on a role that has acknowledged ones', () => {
    const { app, pipeline: p } = pipeline('created');
    const otherPrefix = p.workflow.dataBucket.arnForObjects('raw/other-team/*');
    p.workflow.sagemakerRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [otherPrefix] }));
    expect(nagFindings(app)).toEqual([
      expect.stringMatching(/^AwsSolutions-IAM5\[Resource::<ChurnWorkflowDataBucket\w+\.Arn>\/raw\/other-team\/\*\]: Planted\/Churn\/Workflow\/SageMakerRole\/DefaultPolicy\/Resource$/),
    ]);
  });
});

describe('acknowledgements name what they acknowledge', () => {
  test.each(['created', 'imported'] as const)('every reason on a pipeline with a %s environment names its resource, action or policy', (kind) => {
    const { app } = pipeline(kind);
    expect(acknowledgements(app).length).toBeGreaterThan(20);
    expect(reasonsNotNamingTheirSubject(app)).toEqual([]);
  });

  test('IAM5 on * is acknowledged only on policies that only the library writes (never on a role or its default policy)', () => {
    const { app } = pipeline('created');
    const onStar = acknowledgements(app).filter((a) => a.id === 'AwsSolutions-IAM5[Resource::*]');
    const holders = onStar.map((a) => app.node.findAll().find((c) => c.node.path === a.path)!) as IConstruct[];
    expect(holders.every((c) => c instanceof iam.Policy || /LogRetention|AWS679f53fac/.test(c.node.path))).toBe(true);
    expect([...new Set(onStar.map((a) => a.path))].sort()).toEqual([
      'Planted/Churn/Build/ImageBuildUnscopedPolicy',
      'Planted/Churn/Environment/ExecutionPolicy',
      'Planted/Churn/Workflow/DagRunUnscopedPolicy',
      'Planted/Churn/Workflow/EndpointCleanupUnscopedPolicy',
      'Planted/Churn/Workflow/GlueUnscopedPolicy',
      'Planted/Churn/Workflow/SageMakerUnscopedPolicy',
      'Planted/LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a',
    ]);
  });
});
