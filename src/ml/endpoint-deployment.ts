import { Duration } from 'aws-cdk-lib';
import { validateInstanceType } from './private/validate';
import { validateNumber } from '../private/validate-number';

/** The traffic-shifting kinds of a SageMaker blue/green endpoint update. */
export enum TrafficShiftingType {
  /** All traffic moves to the new fleet in one step. */
  ALL_AT_ONCE = 'ALL_AT_ONCE',
  /** A canary share first, then the rest. */
  CANARY = 'CANARY',
  /** Equal steps. */
  LINEAR = 'LINEAR',
}

/**
 * How a blue/green update of a real-time endpoint moves traffic to the new model (SageMaker deployment guardrails).
 * The limits are SageMaker's `TrafficRoutingConfig`: a canary is 1-50% of the fleet, a linear step 10-50%, and the
 * wait between steps at most an hour.
 */
export class TrafficShifting {
  /** Everything at once, then a bake period (`wait`) in which the rollback alarms may still roll back. */
  public static allAtOnce(wait: Duration = Duration.minutes(5)): TrafficShifting {
    return new TrafficShifting(TrafficShiftingType.ALL_AT_ONCE, 100, wait);
  }

  /**
   * `percent` of the fleet first, the rest after `wait`.
   * @param percent the canary's share of the fleet's capacity, 1-50
   * @param wait how long the canary serves alone, at most 1 hour
   */
  public static canary(percent: number, wait: Duration): TrafficShifting {
    validateNumber('trafficShifting percent (canary)', percent, { min: 1, max: 50, wholeNumber: true });
    return new TrafficShifting(TrafficShiftingType.CANARY, percent, wait);
  }

  /**
   * Steps of `percent` of the fleet, `wait` apart.
   * @param percent each step's share of the fleet's capacity, 10-50
   * @param wait the time between steps, at most 1 hour
   */
  public static linear(percent: number, wait: Duration): TrafficShifting {
    validateNumber('trafficShifting percent (linear)', percent, { min: 10, max: 50, wholeNumber: true });
    return new TrafficShifting(TrafficShiftingType.LINEAR, percent, wait);
  }

  private constructor(
    /** The kind of shifting. */
    public readonly type: TrafficShiftingType,
    /** The share of capacity per step (100 for all at once). */
    public readonly percent: number,
    /** The wait between steps (the bake time for all at once). */
    public readonly wait: Duration,
  ) {
    validateNumber('trafficShifting wait', wait.toSeconds(), { min: 0, max: 3600, unit: 'seconds' });
  }

  public toString(): string {
    return this.type === TrafficShiftingType.ALL_AT_ONCE ? `${this.type} (wait ${this.wait.toSeconds()} s)`
      : `${this.type} ${this.percent}% every ${this.wait.toSeconds()} s`;
  }
}

/** The CloudWatch alarms that roll a blue/green endpoint update back, on the endpoint's `AllTraffic` variant. */
export interface RollbackAlarmOptions {
  /**
   * Roll back when the variant returns at least this many 5XX errors in one period (`Invocation5XXErrors`, Sum).
   * @default 1
   */
  readonly maxInvocation5xxErrors?: number;
  /**
   * Roll back when the model's average latency in one period exceeds this (`ModelLatency`, Average).
   * @default Duration.seconds(1)
   */
  readonly maxModelLatency?: Duration;
  /**
   * The period of both alarms.
   * @default Duration.minutes(1)
   */
  readonly period?: Duration;
  /**
   * How many periods in a row must breach before an alarm fires.
   * @default 2
   */
  readonly evaluationPeriods?: number;
}

/** A real-time endpoint on instances, updated blue/green. */
export interface RealTimeDeploymentOptions {
  /**
   * The instance type, an `ml.*` type.
   * @default 'ml.m5.large'
   */
  readonly instanceType?: string;
  /**
   * The number of instances, 1-100.
   * @default 1
   */
  readonly initialInstanceCount?: number;
  /**
   * How an update moves traffic to the new model.
   * @default TrafficShifting.canary(10, Duration.minutes(5))
   */
  readonly trafficShifting?: TrafficShifting;
  /**
   * The alarms that roll an update back (the construct creates them).
   * @default - 5XX errors >= 1 or average model latency > 1 s for 2 periods of 1 minute
   */
  readonly rollbackAlarms?: RollbackAlarmOptions;
  /**
   * How long the old fleet is kept after the update (a rollback within it is instant), 0-1 hour.
   * @default Duration.minutes(5)
   */
  readonly terminationWait?: Duration;
}

/** A serverless endpoint: billed per request, no instances (no GPU, no VPC). */
export interface ServerlessDeploymentOptions {
  /**
   * Memory per concurrent invocation, 1024-6144 MB in 1 GB steps.
   * @default 2048
   */
  readonly memorySizeMb?: number;
  /**
   * The most concurrent invocations, 1-200.
   * @default 5
   */
  readonly maxConcurrency?: number;
}

/** The endpoint kinds a pipeline can deploy to. */
export enum EndpointKind {
  /** Instances, blue/green updates with rollback alarms. */
  REAL_TIME = 'real_time',
  /** Serverless inference. */
  SERVERLESS = 'serverless',
  /** No endpoint: approved packages stay in the registry. */
  NONE = 'none',
}

/** Where a pipeline deploys its approved models. */
export class EndpointDeployment {
  /** A real-time endpoint on instances, updated blue/green with traffic shifting and alarm-based rollback. */
  public static realTime(options: RealTimeDeploymentOptions = {}): EndpointDeployment {
    const instanceType = options.instanceType ?? 'ml.m5.large';
    validateInstanceType('deployment instanceType', instanceType);
    const count = options.initialInstanceCount ?? 1;
    validateNumber('deployment initialInstanceCount', count, { min: 1, max: 100, wholeNumber: true });
    const terminationWait = options.terminationWait ?? Duration.minutes(5);
    validateNumber('deployment terminationWait', terminationWait.toSeconds(), { min: 0, max: 3600, unit: 'seconds' });
    const alarms = options.rollbackAlarms ?? {};
    validateNumber('rollbackAlarms maxInvocation5xxErrors', alarms.maxInvocation5xxErrors ?? 1, { min: 1 });
    validateNumber('rollbackAlarms evaluationPeriods', alarms.evaluationPeriods ?? 2, { min: 1, max: 100 });
    return new EndpointDeployment(EndpointKind.REAL_TIME, {
      instanceType,
      initialInstanceCount: count,
      trafficShifting: options.trafficShifting ?? TrafficShifting.canary(10, Duration.minutes(5)),
      terminationWait,
      rollbackAlarms: alarms,
    });
  }

  /** A serverless endpoint (SageMaker updates it all at once: no traffic shifting, no rollback alarms). */
  public static serverless(options: ServerlessDeploymentOptions = {}): EndpointDeployment {
    const memory = options.memorySizeMb ?? 2048;
    if (![1024, 2048, 3072, 4096, 5120, 6144].includes(memory)) {
      throw new Error(`deployment memorySizeMb: ${memory} is not allowed; serverless endpoints take 1024, 2048, 3072, 4096, 5120 or 6144 MB`);
    }
    const concurrency = options.maxConcurrency ?? 5;
    validateNumber('deployment maxConcurrency', concurrency, { min: 1, max: 200, wholeNumber: true });
    return new EndpointDeployment(EndpointKind.SERVERLESS, { memorySizeMb: memory, maxConcurrency: concurrency });
  }

  /** No endpoint: the pipeline trains and registers models; deploy them yourself. */
  public static none(): EndpointDeployment {
    return new EndpointDeployment(EndpointKind.NONE, {});
  }

  private constructor(
    /** The endpoint kind. */
    public readonly kind: EndpointKind,
    private readonly options: RealTimeDeploymentOptions & ServerlessDeploymentOptions,
  ) {}

  /** The instance type of a real-time endpoint. */
  public get instanceType(): string | undefined {
    return this.options.instanceType;
  }

  /** The instance count of a real-time endpoint. */
  public get initialInstanceCount(): number | undefined {
    return this.options.initialInstanceCount;
  }

  /** The traffic shifting of a real-time endpoint. */
  public get trafficShifting(): TrafficShifting | undefined {
    return this.options.trafficShifting;
  }

  /** How long a real-time endpoint's old fleet is kept after an update. */
  public get terminationWait(): Duration | undefined {
    return this.options.terminationWait;
  }

  /** The rollback alarm settings of a real-time endpoint. */
  public get rollbackAlarms(): RollbackAlarmOptions | undefined {
    return this.options.rollbackAlarms;
  }

  /** The memory of a serverless endpoint, in MB. */
  public get memorySizeMb(): number | undefined {
    return this.options.memorySizeMb;
  }

  /** The concurrency of a serverless endpoint. */
  public get maxConcurrency(): number | undefined {
    return this.options.maxConcurrency;
  }

  public toString(): string {
    switch (this.kind) {
      case EndpointKind.REAL_TIME:
        return `real-time ${this.initialInstanceCount} x ${this.instanceType}, ${this.trafficShifting}`;
      case EndpointKind.SERVERLESS:
        return `serverless ${this.memorySizeMb} MB x ${this.maxConcurrency}`;
      default:
        return 'none';
    }
  }
}
