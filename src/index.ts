export * from './airflow';
export * from './trigger';
export * from './delivery';
export * from './monitoring';
