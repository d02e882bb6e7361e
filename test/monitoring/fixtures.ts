import { Fn, Resource, Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import {
  AirflowEnvironment, DagTrigger, ModelBuildPipeline, PipelineMonitoring, PipelineMonitoringProps, PipelineSource,
  ServerlessWorkflowMonitoringOptions, WorkflowMonitoringOptions,
} from '../../src';
import { IServerlessWorkflow } from '../../src/serverless/serverless-workflow-ref';
import { newStack, onlyResource } from '../util';

const CONNECTION_ARN = 'arn:aws:codeconnections:eu-west-1:123456789012:connection/12345678-1234-1234-1234-123456789012';

export const WORKFLOW: WorkflowMonitoringOptions = {
  pipelineName: 'churn',
  environmentName: 'ml-env',
  trainingDagId: 'churn_training',
  deploymentDagId: 'churn_deployment',
  glueJobName: 'churn-preprocess',
  sagemakerJobNamePrefix: 'churn-',
  endpointName: 'churn-endpoint',
};

/** A monitoring construct beside the parts it watches (an imported environment, a build, a trigger). */
export function loop(props: PipelineMonitoringProps = {}, stack: Stack = newStack()) {
  const environment = AirflowEnvironment.fromEnvironmentAttributes(stack, 'Env', { environmentName: 'ml-env' });
  const build = new ModelBuildPipeline(stack, 'Build', {
    source: PipelineSource.connection({ connectionArn: CONNECTION_ARN, owner: 'acme', repository: 'churn-model', branch: 'main' }),
  });
  const trigger = new DagTrigger(stack, 'Trigger', { environment });
  const monitoring = new PipelineMonitoring(stack, 'Monitoring', props);
  return { stack, environment, build, trigger, monitoring };
}

/** The dashboard body as JSON, with references rendered as `REF(Logical)` / `GETATT(Logical.Attr)` / `TOKEN(...)`. */
export function dashboardBody(t: Template): any {
  const body = onlyResource(t, 'AWS::CloudWatch::Dashboard').Properties.DashboardBody;
  const text = typeof body === 'string' ? body : body['Fn::Join'][1].map(render).join('');
  return JSON.parse(text);
}

function render(part: any): string {
  if (typeof part === 'string') return part;
  if ('Ref' in part) return `REF(${part.Ref})`;
  if ('Fn::GetAtt' in part) return `GETATT(${part['Fn::GetAtt'].join('.')})`;
  return 'TOKEN';
}

/** The dashboard's graphs, by title: each metric as `[namespace, name, ...dimensions]` without the render options. */
export function graphs(t: Template): Record<string, any[][]> {
  const result: Record<string, any[][]> = {};
  for (const widget of dashboardBody(t).widgets) {
    if (widget.type !== 'metric' || !widget.properties.metrics) continue;
    result[widget.properties.title] = widget.properties.metrics.map((m: any[]) => m.filter((x) => typeof x !== 'object'));
  }
  return result;
}

/** The dashboard's graphs with each metric's render options (`stat`, `period`, `label`). */
export function graphOptions(t: Template, title: string): any[] {
  const widget = dashboardBody(t).widgets.find((w: any) => w.properties.title === title);
  return widget.properties.metrics.map((m: any[]) => m.find((x) => typeof x === 'object'));
}

/** The one alarm whose logical id contains `idPart`. */
export function alarm(t: Template, idPart: string): any {
  const found = Object.entries(t.findResources('AWS::CloudWatch::Alarm')).filter(([id]) => id.includes(idPart));
  if (found.length !== 1) throw new Error(`expected one alarm with '${idPart}' in its id, found ${found.map(([id]) => id).join(', ') || 'none'}`);
  return found[0][1];
}

/** The one rule whose logical id contains `idPart`. */
export function rule(t: Template, idPart: string): any {
  const found = Object.entries(t.findResources('AWS::Events::Rule')).filter(([id]) => id.includes(idPart));
  if (found.length !== 1) throw new Error(`expected one rule with '${idPart}' in its id, found ${found.map(([id]) => id).join(', ') || 'none'}`);
  return found[0][1];
}

export function logicalId(t: Template, type: string, idPart: string): string {
  const found = Object.keys(t.findResources(type)).filter((id) => id.includes(idPart));
  if (found.length !== 1) throw new Error(`expected one ${type} with '${idPart}' in its id, found ${found.join(', ') || 'none'}`);
  return found[0];
}

/** A workflow as `ServerlessWorkflow.fromWorkflowArn` gives one: only the interface the monitoring reads. */
export function serverlessWorkflow(scope: Construct, id: string, workflowArn: string): IServerlessWorkflow {
  class Workflow extends Resource implements IServerlessWorkflow {
    public readonly workflowArn = workflowArn;
    public readonly workflowName = Token.isUnresolved(workflowArn)
      ? Fn.select(1, Fn.split('/', workflowArn))
      : workflowArn.split('/')[1].replace(/-[a-zA-Z0-9]{10}$/, '');
    public grantStartRun(grantee: iam.IGrantable): iam.Grant {
      return iam.Grant.addToPrincipal({ grantee, actions: ['airflow-serverless:StartWorkflowRun'], resourceArns: [this.workflowArn] });
    }
  }
  return new Workflow(scope, id);
}

export const TRAINING_ARN = 'arn:aws:airflow-serverless:eu-west-1:123456789012:workflow/churn-training-AbCdEf1234';
export const DEPLOYMENT_ARN = 'arn:aws:airflow-serverless:eu-west-1:123456789012:workflow/churn-deployment-ZyXwVu9876';

/** The serverless options of pipeline `churn`, its workflows made in `scope`. */
export function serverlessOptions(scope: Construct): ServerlessWorkflowMonitoringOptions {
  return {
    pipelineName: 'churn',
    trainingWorkflow: serverlessWorkflow(scope, 'TrainingWorkflow', TRAINING_ARN),
    deploymentWorkflow: serverlessWorkflow(scope, 'DeploymentWorkflow', DEPLOYMENT_ARN),
    glueJobName: 'churn-preprocess',
    sagemakerJobNamePrefix: 'churn-',
    endpointName: 'churn-endpoint',
  };
}
