export * from './model-build-pipeline';
export * from './pipeline-source';
