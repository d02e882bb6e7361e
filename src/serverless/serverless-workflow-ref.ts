import { IResource } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/** An Amazon MWAA Serverless workflow (`AWS::MWAAServerless::Workflow`), created here or imported. */
export interface IServerlessWorkflow extends IResource {
  /**
   * The workflow's ARN (`arn:<partition>:airflow-serverless:<region>:<account>:workflow/<name>-<suffix>`).
   * @attribute
   */
  readonly workflowArn: string;
  /** The workflow's name. */
  readonly workflowName: string;
  /** Lets `grantee` start runs of this workflow (`airflow-serverless:StartWorkflowRun` on this workflow only). */
  grantStartRun(grantee: iam.IGrantable): iam.Grant;
}
