import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { IServerlessWorkflow } from '../serverless/serverless-workflow-ref';

/**
 * What `PipelineMonitoring` watches of one pipeline whatever runs its DAGs: the jobs its training starts and the
 * endpoint its deployment keeps up to date.
 */
export interface PipelineJobsMonitoringOptions {
  /** The pipeline's name: it titles the dashboard section and prefixes every notification. */
  readonly pipelineName: string;
  /** The Glue job that preprocesses the pipeline's data; runs ending FAILED, TIMEOUT or ERROR are reported. */
  readonly glueJobName: string;
  /**
   * What the names of the pipeline's SageMaker training and processing jobs start with; jobs ending Failed or
   * Stopped are reported. The library's DAGs name them `<pipelineName>-train-<run>` and `<pipelineName>-eval-<run>`,
   * so pass `<pipelineName>-`.
   */
  readonly sagemakerJobNamePrefix: string;
  /**
   * The SageMaker endpoint the deployment DAG keeps up to date (variant `AllTraffic`).
   *
   * @default - the pipeline deploys no endpoint, so none is watched
   */
  readonly endpointName?: string;
}

/** What `PipelineMonitoring.monitorWorkflow` watches of one pipeline's training and deployment on an MWAA environment. */
export interface WorkflowMonitoringOptions extends PipelineJobsMonitoringOptions {
  /** The MWAA environment that runs the pipeline's DAGs. */
  readonly environmentName: string;
  /** The id of the training DAG, whose failed runs raise an alarm. */
  readonly trainingDagId: string;
  /**
   * The id of the deployment DAG, whose failed runs raise an alarm.
   *
   * @default - the pipeline has no deployment DAG (it deploys no endpoint)
   */
  readonly deploymentDagId?: string;
  /**
   * The id of the drift DAG, whose failed runs raise an alarm.
   *
   * @default - the pipeline has no drift DAG (no drift detection)
   */
  readonly driftDagId?: string;
}

/**
 * What `PipelineMonitoring.monitorServerlessWorkflows` watches of one pipeline whose DAGs run as MWAA Serverless
 * workflows.
 */
export interface ServerlessWorkflowMonitoringOptions extends PipelineJobsMonitoringOptions {
  /** The training workflow, whose failed and timed-out runs are reported and raise an alarm. */
  readonly trainingWorkflow: IServerlessWorkflow;
  /**
   * The deployment workflow, whose failed and timed-out runs are reported and raise an alarm.
   *
   * @default - the pipeline has no deployment workflow (it deploys no endpoint)
   */
  readonly deploymentWorkflow?: IServerlessWorkflow;
  /**
   * The drift workflow, whose failed and timed-out runs are reported and raise an alarm.
   *
   * @default - the pipeline has no drift workflow (no drift detection)
   */
  readonly driftWorkflow?: IServerlessWorkflow;
}

/** What `PipelineMonitoring.monitorDrift` watches of one pipeline's drift detection. */
export interface DriftMonitoringOptions {
  /** The pipeline's name: it titles the dashboard section. */
  readonly pipelineName: string;
  /** The alarm on the share of drifted features; it gets the topic as its action. */
  readonly driftAlarm: cloudwatch.Alarm;
  /** The share of drifted features each drift check publishes (`ModelWorkflow.metricDriftedFeatureShare()`). */
  readonly driftedFeatureShare: cloudwatch.IMetric;
}
