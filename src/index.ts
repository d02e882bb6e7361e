export * from './airflow';
export * from './trigger';
export * from './delivery';
export * from './serverless/serverless-workflow-ref';
export * from './ml';
export * from './monitoring';
export * from './mwaa-mlops-pipeline';
export * from './serverless';
