export * from './dag-trigger';
export * from './trigger-options';
