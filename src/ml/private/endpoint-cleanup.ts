import * as path from 'path';
import { CustomResource, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { sagemakerArns } from './sagemaker-arn';
import { addUnscopedPolicy, addWildcardStatement } from '../../private/nag-ids';

const HANDLER_DIRECTORY = path.join(__dirname, '..', '..', '..', 'assets', 'cleanup');

export interface EndpointCleanupOptions {
  readonly pipelineName: string;
  readonly endpointName: string;
  /**
   * What every model and endpoint config of the endpoint's runs is named after (`<prefix>model-<run key>`).
   * @default `<pipelineName>-`
   */
  readonly resourcePrefix?: string;
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: logs.RetentionDays;
}

/**
 * On stack delete, deletes the endpoint the deployment DAG created and the endpoint configs and models it named
 * with the pipeline's prefixes (assets/cleanup/endpoint_cleanup.py). A small Python function answering
 * CloudFormation itself: aws-cdk-lib's AwsCustomResource cannot wait for an endpoint that is still creating.
 */
export function createEndpointCleanup(scope: Construct, options: EndpointCleanupOptions): CustomResource {
  const sagemaker = sagemakerArns(scope);
  const prefix = options.resourcePrefix ?? `${options.pipelineName}-`;
  const logGroup = new logs.LogGroup(scope, 'EndpointCleanupLogs', { retention: options.logRetention });
  const role = new iam.Role(scope, 'EndpointCleanupRole', {
    description: `Deletes the SageMaker endpoint of pipeline ${options.pipelineName} when its stack is deleted`,
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
  });
  logGroup.grantWrite(role);
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['sagemaker:DescribeEndpoint', 'sagemaker:DeleteEndpoint'],
    resources: [sagemaker('endpoint', options.endpointName.toLowerCase())],
  }));
  addWildcardStatement(role, new iam.PolicyStatement({
    actions: ['sagemaker:DeleteEndpointConfig', 'sagemaker:DeleteModel'],
    resources: [sagemaker('endpoint-config', `${prefix}config-*`), sagemaker('model', `${prefix}model-*`)],
  }), `the deployment DAG names each run's endpoint configs and models ${prefix}config-<run key> and ${prefix}model-<run key>.`);
  const listPolicy = addUnscopedPolicy(scope, 'EndpointCleanupUnscopedPolicy', role, [new iam.PolicyStatement({
    actions: ['sagemaker:ListEndpointConfigs', 'sagemaker:ListModels'],
    resources: ['*'],
  })], 'SageMaker has no resource-level permissions for List calls; the handler filters by the pipeline\'s name prefixes.');
  const fn = new lambda.Function(scope, 'EndpointCleanupFunction', {
    description: `cdk-mwaa-mlops: deletes endpoint ${options.endpointName} and its configs and models on stack delete`,
    // python3.15: the newest in Lambda's API and in the newest aws-cdk-lib (cdk-nag's AwsSolutions-L1 compares with that);
    // constructed here, the floor aws-cdk-lib (which lacks PYTHON_3_15) knows it as well.
    runtime: new lambda.Runtime('python3.15', lambda.RuntimeFamily.PYTHON, { supportsInlineCode: true }),
    architecture: lambda.Architecture.ARM_64,
    handler: 'endpoint_cleanup.handler',
    code: lambda.Code.fromAsset(HANDLER_DIRECTORY, { exclude: ['__pycache__', '*.pyc'] }),
    timeout: Duration.minutes(15),
    memorySize: 256,
    role,
    logGroup,
  });
  const resource = new CustomResource(scope, 'EndpointCleanup', {
    serviceToken: fn.functionArn,
    resourceType: 'Custom::CdkMwaaMlopsEndpointCleanup',
    // The function answers within its own 15 minutes; should it die without answering, CloudFormation gives up then
    // rather than after its default hour.
    serviceTimeout: Duration.minutes(16),
    properties: {
      EndpointName: options.endpointName,
      PipelineName: options.pipelineName,
      ...(options.resourcePrefix ? { ResourcePrefix: options.resourcePrefix } : {}),
      RemovalPolicy: options.removalPolicy === RemovalPolicy.RETAIN ? 'retain' : 'destroy',
    },
  });
  // Deleted before its role loses the permissions it needs (the List calls are in a policy of their own).
  resource.node.addDependency(role, listPolicy);
  return resource;
}
