export * from './airflow';
export * from './trigger';
