import { Duration, Size } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';

/** Who approves a registered model package for deployment. */
export enum ModelApproval {
  /** A person approves it in the SageMaker Model Registry (then the deployment DAG runs). */
  MANUAL = 'MANUAL',
  /** The training DAG registers it approved and starts the deployment when it passed the quality gate. */
  AUTOMATIC = 'AUTOMATIC',
}

/** How the evaluation metric is compared with the threshold. */
export enum MetricComparison {
  /** The metric must be at least the threshold (AUC, accuracy, F1, ...). */
  GREATER_THAN_OR_EQUAL_TO = 'GreaterThanOrEqualTo',
  /** The metric must be at most the threshold (errors, losses). */
  LESS_THAN_OR_EQUAL_TO = 'LessThanOrEqualTo',
}

/** The worker types of a Glue 5 Spark job. */
export enum GlueWorkerType {
  /** 4 vCPU, 16 GB. */
  G_1X = 'G.1X',
  /** 8 vCPU, 32 GB. */
  G_2X = 'G.2X',
  /** 16 vCPU, 64 GB. */
  G_4X = 'G.4X',
  /** 32 vCPU, 128 GB. */
  G_8X = 'G.8X',
}

/** Where the staged preprocessing code lives: a commit's `preprocess.py` is at `s3://<bucket>/<prefix><commit>/`. */
export interface PreprocessingCodeLocation {
  /** The bucket the build pipeline stages the code to. */
  readonly bucket: s3.IBucket;
  /** The key prefix of the staged code, ending in `/`. */
  readonly prefix: string;
  /**
   * The key the staged code is encrypted with, when it is a customer managed key the reader must be granted.
   * @default - the bucket's own `encryptionKey`, if any
   */
  readonly encryptionKey?: kms.IKey;
}

/** The Glue (Spark) preprocessing job that splits raw data into train, validation and test. */
export interface PreprocessingOptions {
  /**
   * The worker type.
   * @default GlueWorkerType.G_1X
   */
  readonly workerType?: GlueWorkerType;
  /**
   * The number of workers, 2-299.
   * @default 2
   */
  readonly workerCount?: number;
  /**
   * The longest a job run may take.
   * @default Duration.hours(1)
   */
  readonly timeout?: Duration;
  /**
   * How many runs of the job may run at once, 1-1000.
   * @default 3
   */
  readonly maxConcurrentRuns?: number;
  /**
   * The share of rows that goes to training.
   * @default 0.7
   */
  readonly trainFraction?: number;
  /**
   * The share of rows that goes to validation; the rest is the test split.
   * @default 0.15
   */
  readonly validationFraction?: number;
  /**
   * The seed of the split (the same seed puts a row in the same split on every run).
   * @default 42
   */
  readonly seed?: number;
}

/** Managed spot training: cheaper capacity that SageMaker may interrupt; jobs resume from checkpoints. */
export interface SpotTrainingOptions {
  /** The longest a job may wait for spot capacity and run, at least the training's `maxRuntime`. */
  readonly maxWait: Duration;
}

/** How the training DAG trains a model. */
export interface TrainingOptions {
  /**
   * The training instance type, an `ml.*` type.
   * @default 'ml.m5.large'
   */
  readonly instanceType?: string;
  /**
   * The number of training instances, 1-100.
   * @default 1
   */
  readonly instanceCount?: number;
  /**
   * The storage volume of each training instance, 1 GiB to 16 TiB.
   * @default Size.gibibytes(30)
   */
  readonly volumeSize?: Size;
  /**
   * The longest a training job may run, 1 minute to 28 days.
   * @default Duration.hours(1)
   */
  readonly maxRuntime?: Duration;
  /**
   * Hyperparameters passed to the training code (SageMaker passes them as strings).
   * @default - none
   */
  readonly hyperparameters?: { [name: string]: string };
  /**
   * Train on spot capacity with checkpoints under the data bucket's checkpoints prefix.
   * @default - on-demand capacity
   */
  readonly spot?: SpotTrainingOptions;
}

/** How a trained model is judged before it is registered. */
export interface EvaluationOptions {
  /**
   * The metric of the evaluation report the gate reads (the starter model reports auc, accuracy, precision, recall, f1).
   * @default 'auc'
   */
  readonly metric?: string;
  /**
   * The value the metric must reach (0-1 for the starter's metrics).
   * @default 0.9
   */
  readonly threshold?: number;
  /**
   * How the metric is compared with the threshold.
   * @default MetricComparison.GREATER_THAN_OR_EQUAL_TO
   */
  readonly comparison?: MetricComparison;
  /**
   * The instance type of the evaluation (processing) job, an `ml.*` type.
   * @default 'ml.m5.large'
   */
  readonly instanceType?: string;
}

/** The key prefixes of the data bucket (each ends in `/`, or is empty for the bucket's root). */
export interface DataPrefixes {
  /**
   * Where raw data lands; a new object here starts training (when the L3 wires the trigger).
   * @default 'raw/'
   */
  readonly raw?: string;
  /**
   * Where the Glue job writes the splits, per run.
   * @default 'processed/'
   */
  readonly processed?: string;
  /**
   * Where training and evaluation write model artifacts and reports, per run.
   * @default 'artifacts/'
   */
  readonly artifacts?: string;
  /**
   * Where spot training keeps checkpoints, per run.
   * @default 'checkpoints/'
   */
  readonly checkpoints?: string;
  /**
   * Where the endpoint's data capture writes (with drift detection), below `<capture><pipeline>/<endpoint>/<variant>/`.
   * @default 'capture/'
   */
  readonly capture?: string;
}
