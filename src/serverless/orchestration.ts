import { WorkflowTriggerMode } from './serverless-workflow';

/** Options of the serverless orchestration (`Orchestration.serverless`). */
export interface ServerlessOrchestrationOptions {
  /**
   * When the pipeline's workflows run: the trigger starts them, so they need no schedule.
   * @default WorkflowTriggerMode.MANUAL_ONLY
   */
  readonly triggerMode?: WorkflowTriggerMode;
}

/** What runs the pipeline's training and deployment. */
export enum OrchestrationKind {
  /** An Amazon MWAA environment running the Python DAGs. */
  PROVISIONED = 'provisioned',
  /** Amazon MWAA Serverless workflows (dag-factory YAML), one per DAG. */
  SERVERLESS = 'serverless',
}

/**
 * What runs the pipeline: a provisioned Amazon MWAA environment (the default: Python DAGs, the Airflow UI, deferrable
 * operators, long tasks) or Amazon MWAA Serverless workflows (no environment, no VPC, billed per task-second and
 * nothing while idle; tasks of at most an hour, YAML definitions).
 */
export class Orchestration {
  /** A provisioned MWAA environment: the pipeline's `environment`, or a new one made with `environmentProps`. */
  public static provisioned(): Orchestration {
    return new Orchestration(OrchestrationKind.PROVISIONED);
  }

  /** Amazon MWAA Serverless: one workflow for training and one for deployment, per pipeline. */
  public static serverless(options: ServerlessOrchestrationOptions = {}): Orchestration {
    return new Orchestration(OrchestrationKind.SERVERLESS, options);
  }

  private constructor(
    /** Which orchestration this is. */
    public readonly kind: OrchestrationKind,
    /** The serverless options (serverless only). */
    public readonly serverlessOptions?: ServerlessOrchestrationOptions,
  ) {}
}
