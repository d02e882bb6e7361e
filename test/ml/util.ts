import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AirflowEnvironment, AirflowVersion, IAirflowEnvironment, ModelWorkflow, ModelWorkflowProps } from '../../src';

/** A stack with a created Airflow 3.3.1 environment, an image repository and a code bucket, as a pipeline needs. */
export function workflowStack(id = 'Test') {
  const app = new App();
  const stack = new Stack(app, id);
  const environment = new AirflowEnvironment(stack, 'Airflow', { airflowVersion: AirflowVersion.V3_3_1 });
  const imageRepository = ecr.Repository.fromRepositoryName(stack, 'Images', 'churn-model');
  const codeBucket = s3.Bucket.fromBucketName(stack, 'Code', 'ml-code');
  return { app, stack, environment, imageRepository, preprocessingCode: { bucket: codeBucket, prefix: 'preprocessing/' } };
}

/** A workflow named `churn` on the stack of `workflowStack`, with `props` on top. */
export function churnWorkflow(parts: ReturnType<typeof workflowStack>, props: Partial<ModelWorkflowProps> = {}, id = 'Churn'): ModelWorkflow {
  return new ModelWorkflow(parts.stack, id, {
    environment: parts.environment as IAirflowEnvironment,
    pipelineName: 'churn',
    imageRepository: parts.imageRepository,
    preprocessingCode: parts.preprocessingCode,
    ...props,
  });
}

/** Renders CloudFormation intrinsics the way the assertions read them: `{Ref: X}` as `<X>`, `GetAtt` as `<X.Attr>`. */
export function render(value: any): string {
  if (typeof value === 'string') return value;
  if ('Ref' in value) return `<${value.Ref}>`;
  if ('Fn::GetAtt' in value) return `<${value['Fn::GetAtt'].join('.')}>`;
  if ('Fn::FindInMap' in value) return `<${value['Fn::FindInMap'].map(render).join('.')}>`;
  if ('Fn::Join' in value) return (value['Fn::Join'][1] as any[]).map(render).join(value['Fn::Join'][0]);
  return JSON.stringify(value);
}

/**
 * The pipeline config file as the DAG deployment writes it: taken from the cloud assembly (the staged asset and the
 * custom resource's markers), deploy-time values rendered with `render`.
 */
export function dagConfig(app: App, stack: Stack, pipelineName: string): any {
  const assembly = app.synth();
  const t = Template.fromStack(stack);
  for (const deployment of Object.values(t.findResources('Custom::CDKBucketDeployment'))) {
    const keys: string[] = deployment.Properties.SourceObjectKeys;
    for (let i = 0; i < keys.length; i++) {
      const file = path.join(assembly.directory, `asset.${keys[i].replace(/\.zip$/, '')}`, 'cdk_mwaa_mlops_pipelines', `${pipelineName}.json`);
      if (!fs.existsSync(file)) continue;
      let text = fs.readFileSync(file, 'utf-8');
      const markers = deployment.Properties.SourceMarkers[i] ?? {};
      for (const [marker, value] of Object.entries(markers)) text = text.split(marker).join(render(value));
      return JSON.parse(text);
    }
  }
  throw new Error(`no config for pipeline ${pipelineName} in ${stack.stackName}`);
}

/** The statements of every policy attached to the role with this logical id prefix. */
export function roleStatements(t: Template, roleLogicalIdPrefix: string): any[] {
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as any[]).some((r) => typeof r.Ref === 'string' && r.Ref.startsWith(roleLogicalIdPrefix)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/** Statements rendered to plain strings: `{ actions, resources, conditions }`, for exact comparisons. */
export function rendered(statements: any[]) {
  return statements.map((s) => ({
    actions: [s.Action].flat(),
    resources: [s.Resource ?? []].flat().map(render),
    ...(s.Condition ? { conditions: JSON.parse(JSON.stringify(s.Condition, (_k, v) => (v && typeof v === 'object' && !Array.isArray(v) && ('Ref' in v || 'Fn::Join' in v || 'Fn::GetAtt' in v) ? render(v) : v))) } : {}),
  }));
}
