export * from './deployment-stage';
export * from './promotion-target';
