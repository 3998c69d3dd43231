export * from './batch-definition.ts';
export * from './definition.ts';
export * from './metrics.ts';
export * from './tasks.ts';
