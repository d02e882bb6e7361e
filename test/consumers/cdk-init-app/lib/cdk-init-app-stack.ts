import * as cdk from 'aws-cdk-lib/core';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  AirflowEnvironment, AirflowVersion, EndpointDeployment, EnvironmentClass, ModelApproval, MwaaMlopsPipeline, PipelineSource,
  TrafficShifting,
} from 'cdk-mwaa-mlops';

/** The quick start on its defaults: a new MWAA environment, VPC and CodeCommit starter repository. */
export class CdkInitAppStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props?: cdk.StackProps) {
    super(scope, id, props);

    new MwaaMlopsPipeline(this, 'Churn');
  }
}

/** A pipeline on an MWAA environment another team runs: its DAG files go to that environment's bucket. */
export class ImportedEnvironmentStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props?: cdk.StackProps) {
    super(scope, id, props);

    const environment = AirflowEnvironment.fromEnvironmentAttributes(this, 'SharedAirflow', {
      environmentName: 'shared-airflow',
      airflowVersion: AirflowVersion.V3_3_1,
      executionRole: iam.Role.fromRoleArn(this, 'SharedAirflowRole', `arn:aws:iam::${this.account}:role/shared-airflow-execution`),
      sourceBucket: s3.Bucket.fromBucketName(this, 'SharedAirflowSource', 'shared-airflow-source'),
    });
    new MwaaMlopsPipeline(this, 'Demand', { environment });
  }
}

/** Choices off the defaults: a GitHub repository, a serverless endpoint, spot training, a canary rollout. */
export class NonDefaultPropsStack extends cdk.Stack {
  constructor(scope: Construct, id: string, props?: cdk.StackProps) {
    super(scope, id, props);

    const airflow = new AirflowEnvironment(this, 'Airflow', {
      airflowVersion: AirflowVersion.V3_2_1,
      environmentClass: EnvironmentClass.MW1_MEDIUM,
      maxWorkers: 4,
    });
    const fraud = new MwaaMlopsPipeline(this, 'Fraud', {
      environment: airflow,
      source: PipelineSource.connection({
        connectionArn: `arn:aws:codeconnections:${this.region}:${this.account}:connection/00000000-0000-0000-0000-000000000000`,
        owner: 'acme',
        repository: 'fraud-model',
        branch: 'release',
      }),
      workflow: {
        approval: ModelApproval.AUTOMATIC,
        deployment: EndpointDeployment.serverless({ memorySizeMb: 3072, maxConcurrency: 20 }),
        training: {
          instanceType: 'ml.m5.xlarge',
          maxRuntime: cdk.Duration.hours(2),
          spot: { maxWait: cdk.Duration.hours(4) },
          hyperparameters: { 'max-depth': '6' },
        },
        evaluation: { metric: 'auc', threshold: 0.85 },
      },
    });
    new MwaaMlopsPipeline(this, 'Risk', {
      environment: airflow,
      workflow: {
        approval: ModelApproval.MANUAL,
        deployment: EndpointDeployment.realTime({ trafficShifting: TrafficShifting.canary(10, cdk.Duration.minutes(15)) }),
      },
    });
    fraud.monitoring.monitorEnvironment(airflow);
  }
}
