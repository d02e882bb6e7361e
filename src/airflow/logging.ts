/**
 * The log level of one Airflow component in CloudWatch Logs, or `DISABLED` to send none.
 */
export enum AirflowLogLevel {
  /** Only critical messages. */
  CRITICAL = 'CRITICAL',
  /** Errors and above. */
  ERROR = 'ERROR',
  /** Warnings and above. */
  WARNING = 'WARNING',
  /** Informational messages and above: the level security reviews expect (user and privilege changes are logged at INFO). */
  INFO = 'INFO',
  /** Everything, for troubleshooting. */
  DEBUG = 'DEBUG',
  /** Send no logs for this component. */
  DISABLED = 'DISABLED',
}

/**
 * Per-component CloudWatch logging of an MWAA environment.
 */
export interface AirflowLoggingOptions {
  /**
   * DAG processing (parsing) logs.
   * @default AirflowLogLevel.INFO
   */
  readonly dagProcessing?: AirflowLogLevel;
  /**
   * Scheduler logs.
   * @default AirflowLogLevel.INFO
   */
  readonly scheduler?: AirflowLogLevel;
  /**
   * Task logs (what the Airflow UI shows for a task try).
   * @default AirflowLogLevel.INFO
   */
  readonly task?: AirflowLogLevel;
  /**
   * Webserver (Airflow 3: API server) logs.
   * @default AirflowLogLevel.INFO
   */
  readonly webserver?: AirflowLogLevel;
  /**
   * Worker logs.
   * @default AirflowLogLevel.INFO
   */
  readonly worker?: AirflowLogLevel;
}
