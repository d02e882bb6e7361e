export * from './pipeline-monitoring';
export * from './workflow-monitoring-options';
