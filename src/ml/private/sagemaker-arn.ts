import { ArnFormat, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** A function giving the ARN of a SageMaker resource in `scope`'s stack: `arn:<partition>:sagemaker:<region>:<account>:<resource>/<name>`. */
export function sagemakerArns(scope: Construct): (resource: string, resourceName: string) => string {
  const stack = Stack.of(scope);
  return (resource, resourceName) => stack.formatArn({ service: 'sagemaker', resource, resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
}
