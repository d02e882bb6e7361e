export * from './airflow-version';
export * from './environment-class';
export * from './logging';
export * from './airflow-environment-base';
export * from './airflow-environment';
