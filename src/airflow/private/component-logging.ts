import { AirflowLogLevel, AirflowLoggingOptions } from '../logging';

/** One Airflow component's logging: its key in the L1 logging configuration, the suffix of its log group name, and its level. */
export interface ComponentLogging {
  readonly configKey: 'dagProcessingLogs' | 'schedulerLogs' | 'taskLogs' | 'webserverLogs' | 'workerLogs';
  readonly logGroupSuffix: string;
  readonly level: AirflowLogLevel;
}

/** Resolves the options into one entry per component, INFO where unset. */
export function componentLogging(options: AirflowLoggingOptions = {}): ComponentLogging[] {
  const level = (l?: AirflowLogLevel) => l ?? AirflowLogLevel.INFO;
  return [
    { configKey: 'dagProcessingLogs', logGroupSuffix: 'DAGProcessing', level: level(options.dagProcessing) },
    { configKey: 'schedulerLogs', logGroupSuffix: 'Scheduler', level: level(options.scheduler) },
    { configKey: 'taskLogs', logGroupSuffix: 'Task', level: level(options.task) },
    { configKey: 'webserverLogs', logGroupSuffix: 'WebServer', level: level(options.webserver) },
    { configKey: 'workerLogs', logGroupSuffix: 'Worker', level: level(options.worker) },
  ];
}
