export * from './definition.ts';
export * from './metrics.ts';
