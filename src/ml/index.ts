export * from './endpoint-deployment';
export * from './workflow-options';
export * from './model-workflow';
export * from './drift-options';
