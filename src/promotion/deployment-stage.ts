import { Duration } from 'aws-cdk-lib';
import { EndpointDeployment } from '../ml/endpoint-deployment';

/** What moves a model that passed a stage's checks on to the next stage. */
export enum PromotionGate {
  /** A person (or a CI job) sets the next stage `Approved` in the model registry; until then it is `PendingApproval`. */
  MANUAL = 'manual',
  /** The deployment run sets the next stage `Approved` itself once the stage's checks pass. */
  AUTOMATIC = 'automatic',
}

/** What a deployment run checks on a stage's endpoint after it deployed, before the model may move on. */
export interface StageChecks {
  /**
   * How many held-out rows of the model's test split are sent to the endpoint, 1-1000.
   * @default 20
   */
  readonly sampleRows?: number;
  /**
   * The largest share of those invocations that may fail, 0-1.
   * @default 0
   */
  readonly maxErrorRate?: number;
  /**
   * The longest average time an invocation may take, as the run measures it (round trip), 1 ms to 60 s.
   * @default Duration.seconds(1)
   */
  readonly maxAverageLatency?: Duration;
}

/** One deployment stage of a pipeline: an endpoint in an account and region, its checks, and the gate to the next stage. */
export interface DeploymentStage {
  /**
   * The stage's name: lowercase letters, digits and single hyphens, at most 12 characters. It is the model registry's
   * lifecycle stage (`ModelLifeCycle.Stage`) and names the stage's endpoint (`<pipeline>--<stage>`) and roles.
   */
  readonly name: string;
  /**
   * The account the stage's endpoint runs in. Another account needs a `PromotionTarget` in a stack of that account.
   * @default - the pipeline's account
   */
  readonly account?: string;
  /**
   * The region the stage's endpoint runs in.
   * @default - the pipeline's region
   */
  readonly region?: string;
  /**
   * The stage's endpoint (`EndpointDeployment.none()` is not allowed: a stage deploys).
   * @default EndpointDeployment.realTime()
   */
  readonly deployment?: EndpointDeployment;
  /**
   * What moves a model that passed this stage's checks on to the next stage (the last stage has none).
   * @default PromotionGate.MANUAL
   */
  readonly gate?: PromotionGate;
  /**
   * What a deployment run checks on the endpoint before the model may move on.
   * @default - 20 held-out rows, no failed invocation, average latency at most 1 s
   */
  readonly checks?: StageChecks;
}
