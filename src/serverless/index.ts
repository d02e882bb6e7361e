export * from './orchestration';
export * from './serverless-workflow';
export * from './serverless-workflow-ref';
export * from './workflow-source';
