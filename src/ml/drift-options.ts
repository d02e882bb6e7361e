import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';

/**
 * Drift detection for a real-time endpoint: the endpoint captures its requests, each training run records a sample of
 * its training split as the model's baseline, a drift check compares the deployed model's captured inputs with its
 * baseline on a schedule (a SageMaker Processing job: PSI and the two-sample KS test per feature), and an alarm on the
 * share of drifted features starts the training DAG. Retraining still passes the quality gate and the approval: drift
 * never deploys a model by itself.
 */
export interface DriftDetectionOptions {
  /**
   * How often the drift check runs.
   * @default Schedule.rate(Duration.days(1))
   */
  readonly schedule?: events.Schedule;

  /**
   * The share of the endpoint's requests (and responses) that are captured, 1-100 percent. Capture files are
   * written to the data bucket, so this is the storage cost's dial.
   * @default 100
   */
  readonly samplingPercentage?: number;

  /**
   * The share of features that drifted (0-1) at which the drift alarm goes off and starts the training DAG.
   * @default 0.3
   */
  readonly threshold?: number;

  /**
   * Whether the drift alarm starts the training DAG (otherwise it only notifies the topic).
   * @default true
   */
  readonly retrainOnDrift?: boolean;

  /**
   * After a training job of the pipeline starts, how long a drift alarm starts no new training (the run skips).
   * @default Duration.days(1)
   */
  readonly coolDown?: Duration;

  /**
   * A feature drifts when its population stability index reaches this value.
   * @default 0.2
   */
  readonly psiThreshold?: number;

  /**
   * A feature drifts when the two-sample Kolmogorov-Smirnov test's p-value is below this (0-1).
   * @default 0.05
   */
  readonly ksAlpha?: number;

  /**
   * The fewest captured values a feature needs to be judged (below, it is reported as not judged).
   * @default 100
   */
  readonly minRecords?: number;

  /**
   * The most training rows the baseline keeps (a uniform sample).
   * @default 10000
   */
  readonly baselineSampleRows?: number;

  /**
   * The instance type of the drift check and baseline processing jobs.
   * @default 'ml.m5.large'
   */
  readonly instanceType?: string;

  /**
   * The longest a drift check or baseline job may run.
   * @default Duration.hours(1)
   */
  readonly maxRuntime?: Duration;

  /**
   * The image the drift check and baseline jobs run on: it must have Python 3.9 or newer with numpy and scipy.
   * @default - the SageMaker scikit-learn 1.2-1 image of the stack's region
   */
  readonly imageUri?: string;
}
