import { App, CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AirflowEnvironment, AirflowVersion, DagTrigger, ModelBuildPipeline, PipelineSource } from '../src';

/** The example: an MWAA environment on the library's defaults, and the events that start its DAGs. */
export class MwaaMlopsExampleStack extends Stack {
  public readonly airflow: AirflowEnvironment;
  public readonly trigger: DagTrigger;
  public readonly build: ModelBuildPipeline;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, { description: 'cdk-mwaa-mlops example: an Amazon MWAA environment, a model build pipeline and the triggers between them', ...props });
    this.airflow = new AirflowEnvironment(this, 'Airflow', {
      airflowVersion: AirflowVersion.V3_3_1,
      requirements: ['apache-airflow-providers-amazon'],
    });

    // A commit to the model repository (seeded with the starter model) is validated, its preprocessing code staged
    // and its image pushed; the new image starts training, an approved model package starts deployment.
    this.build = new ModelBuildPipeline(this, 'ModelBuild', {
      source: PipelineSource.newCodeCommitRepository({ repositoryName: 'mlops-model' }),
    });
    const images = this.build.imageRepository;
    this.trigger = new DagTrigger(this, 'Trigger', { environment: this.airflow });
    this.trigger.onImagePushed('NewModelImage', { repository: images, dagId: 'mlops_training' });
    this.trigger.onModelPackageStatusChange('ModelApproved', { modelPackageGroupName: 'mlops-models', dagId: 'mlops_deployment' });

    new CfnOutput(this, 'EnvironmentName', { value: this.airflow.environmentName });
    new CfnOutput(this, 'WebserverUrl', { value: this.airflow.webserverUrl });
    new CfnOutput(this, 'SourceBucket', { value: this.airflow.sourceBucket.bucketName });
    new CfnOutput(this, 'ExecutionRoleArn', { value: this.airflow.executionRole.roleArn });
    new CfnOutput(this, 'ModelImageRepository', { value: images.repositoryUri });
    new CfnOutput(this, 'PreprocessingCodePrefix', { value: this.build.scriptLocationPrefix });
    new CfnOutput(this, 'TriggerDeadLetterQueue', { value: this.trigger.deadLetterQueue.queueUrl });
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
