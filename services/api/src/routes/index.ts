import { Router } from 'express';
import type { RouteDependencies } from '../deps.ts';
import { analysisRoutes } from './analyses.ts';
import { batchRoutes } from './batches.ts';
import { imageRoutes } from './images.ts';
import { monitoringRoutes } from './monitoring.ts';
import { pipelineRoutes } from './pipelines.ts';
import { resultRoutes } from './results.ts';

/** Every `/v1` route. app.ts loads this module (and, through it, the SDK commands) on the first `/v1` request. */
export function v1Routes(deps: RouteDependencies): Router {
  return Router().use(
    imageRoutes(deps),
    analysisRoutes(deps),
    pipelineRoutes(deps),
    batchRoutes(deps),
    resultRoutes(deps),
    monitoringRoutes(deps),
  );
}
