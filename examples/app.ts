import { App, CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AirflowEnvironment, AirflowVersion } from '../src';

/** The example: an MWAA environment on the library's defaults, as a team would start. */
export class MwaaMlopsExampleStack extends Stack {
  public readonly airflow: AirflowEnvironment;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, { description: 'cdk-mwaa-mlops example: an Amazon MWAA environment with secure defaults', ...props });
    this.airflow = new AirflowEnvironment(this, 'Airflow', {
      airflowVersion: AirflowVersion.V3_3_1,
      requirements: ['apache-airflow-providers-amazon'],
    });
    new CfnOutput(this, 'EnvironmentName', { value: this.airflow.environmentName });
    new CfnOutput(this, 'WebserverUrl', { value: this.airflow.webserverUrl });
    new CfnOutput(this, 'SourceBucket', { value: this.airflow.sourceBucket.bucketName });
    new CfnOutput(this, 'ExecutionRoleArn', { value: this.airflow.executionRole.roleArn });
  }
}

/** Builds the example app; the output directory comes from CDK_OUTDIR (as with `cdk synth`) or `cdk.out`. */
export function createExampleApp(): App {
  const app = new App({ outdir: process.env.CDK_OUTDIR ?? 'cdk.out' });
  new MwaaMlopsExampleStack(app, 'MwaaMlopsExample');
  return app;
}

if (require.main === module) {
  createExampleApp().synth();
}
