import {
  requestIdSchema,
  resultRecordSchema,
  resultsListResponseSchema,
  resultsQuerySchema,
} from '@mc-vision/core';
import { Router } from 'express';
import * as z from 'zod';
import type { RouteDependencies } from '../deps.ts';
import { notFound } from '../errors.ts';
import { parseInput, sendValidated } from '../validation.ts';

const resultParamsSchema = z.object({ requestId: requestIdSchema });

export function resultRoutes({ results }: RouteDependencies): Router {
  const router = Router();

  router.get('/v1/results', async (req, res) => {
    const { limit, nextToken } = parseInput(resultsQuerySchema, req.query, 'query');
    sendValidated(res, 200, resultsListResponseSchema, await results.list(limit, nextToken));
  });

  router.get('/v1/results/:requestId', async (req, res) => {
    const { requestId } = parseInput(resultParamsSchema, req.params, 'path');
    const record = await results.get(requestId);
    if (!record) throw notFound(`result ${requestId}`);
    sendValidated(res, 200, resultRecordSchema, record);
  });

  return router;
}
