import {
  batchIdSchema,
  batchItemsQuerySchema,
  batchItemsResponseSchema,
  batchListQuerySchema,
  batchListResponseSchema,
  batchRedriveResponseSchema,
  batchRequestSchema,
  batchStartResponseSchema,
  batchStatusResponseSchema,
} from '@mc-vision/core/batches';
import {
  alarmNameSchema,
  analysisRequestSchema,
  errorResponseSchema,
  healthResponseSchema,
  imageContentTypes,
  imageResponseSchema,
  monitoringAlarmHistoryResponseSchema,
  monitoringAlarmsResponseSchema,
  monitoringDashboardQuerySchema,
  monitoringDashboardResponseSchema,
  pipelineRequestSchema,
  pipelineStartResponseSchema,
  pipelineStatusResponseSchema,
  requestIdSchema,
  resultRecordSchema,
  resultsListResponseSchema,
  resultsQuerySchema,
  routeRequestSchema,
  routeResponseSchema,
  thumbnailQuerySchema,
  uploadRequestSchema,
  uploadResponseSchema,
} from '@mc-vision/core/schemas';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import * as z from 'zod';

// The OpenAPI 3.1 document, generated from the same core schemas the routes validate with.

const ErrorBody = errorResponseSchema.meta({ id: 'Error' });
const ResultRecord = resultRecordSchema.meta({ id: 'ResultRecord' });

const batchPath = z.object({ batchId: batchIdSchema.meta({ description: 'The batch id (its requestId)' }) });

const errorDescriptions = {
  400: 'Invalid request: the message names the field',
  401: 'Missing or invalid x-api-key',
  404: 'Not found',
  409: 'Conflict: the requestId already names something else, or the batch cannot be redriven now',
  413: 'Too large (bytes or pixels)',
  415: 'Unsupported media type',
  422: 'The image cannot be decoded',
  429: 'Throttled: retry after the Retry-After header',
  502: 'A provider failed',
  503: 'A backing service is not reachable',
} as const;
type ErrorStatus = keyof typeof errorDescriptions;

function errors(...statuses: ErrorStatus[]): ZodOpenApiResponsesObject {
  return Object.fromEntries(
    [401 as const, 503 as const, ...statuses].map((status) => [
      String(status),
      { description: errorDescriptions[status], content: { 'application/json': { schema: ErrorBody } } },
    ]),
  );
}

const json = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { 'application/json': { schema } },
});

const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

/** Every `/v1` operation needs the key. */
function secured(operation: ZodOpenApiOperationObject): ZodOpenApiOperationObject {
  return { ...operation, security: [{ apiKey: [] }] };
}

export function createOpenApiDocument(version: string) {
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'MC Vision API',
      version,
      description:
        'Multi-cloud image inference: a SageMaker classifier and two vision LLMs (Bedrock, Azure OpenAI), ' +
        'called synchronously or through a Step Functions pipeline. Send `x-api-key` on every `/v1` route.',
    },
    components: {
      securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } },
    },
    paths: {
      '/health': {
        get: {
          operationId: 'getHealth',
          summary: 'Liveness, mode and the status of each dependency',
          responses: {
            '200': json('Ready', healthResponseSchema),
            '503': json('A required dependency is down', healthResponseSchema),
          },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'getOpenApiDocument',
          summary: 'This document',
          responses: { '200': json('OpenAPI 3.1 document', z.record(z.string(), z.unknown())) },
        },
      },
      '/v1/uploads': {
        post: secured({
          operationId: 'createUpload',
          summary: 'A presigned S3 PUT for one image (content type and length are signed)',
          requestBody: jsonBody(uploadRequestSchema),
          responses: {
            '200': json(
              'PUT the image to `url` with exactly `headers` before `expiresAt`',
              uploadResponseSchema,
            ),
            ...errors(400, 413, 415),
          },
        }),
      },
      '/v1/images': {
        post: secured({
          operationId: 'uploadImage',
          summary: 'Store an image sent as the raw body; the key is its SHA-256',
          requestBody: {
            required: true,
            content: Object.fromEntries(
              imageContentTypes.map((type) => [type, { schema: { type: 'string', format: 'binary' } }]),
            ),
          },
          responses: { '201': json('Stored', imageResponseSchema), ...errors(400, 413, 415, 422) },
        }),
      },
      '/v1/thumbnails': {
        get: secured({
          operationId: 'getThumbnail',
          summary: "A stored image at most 160 px on its longest edge, in the image's own format",
          requestParams: { query: thumbnailQuerySchema },
          responses: {
            '200': {
              description: 'The thumbnail',
              content: Object.fromEntries(
                imageContentTypes.map((type) => [type, { schema: { type: 'string', format: 'binary' } }]),
              ),
            },
            ...errors(400, 404, 413, 422),
          },
        }),
      },
      '/v1/analyses': {
        post: secured({
          operationId: 'analyseImage',
          summary: 'Run providers (default all three) concurrently on a stored image and store the record',
          requestBody: jsonBody(analysisRequestSchema),
          responses: {
            '200': json(
              'The record (status `partial` with `errors` when some providers failed)',
              ResultRecord,
            ),
            ...errors(400, 404, 409, 413, 415, 422, 429, 502),
          },
        }),
      },
      '/v1/route': {
        post: secured({
          operationId: 'routeImage',
          summary: 'Pick one provider by policy (`cost` or `quality`) and run it',
          requestBody: jsonBody(routeRequestSchema),
          responses: {
            '200': json('The provider chosen, why, and the record', routeResponseSchema),
            ...errors(400, 404, 409, 413, 415, 422, 429, 502),
          },
        }),
      },
      '/v1/pipelines': {
        post: secured({
          operationId: 'startPipeline',
          summary:
            'Start the pipeline for a stored image; the same requestId and key return the same execution',
          requestBody: jsonBody(pipelineRequestSchema),
          responses: {
            '202': json('Started (or already running)', pipelineStartResponseSchema),
            '200': json('This requestId already ran for this image', pipelineStartResponseSchema),
            ...errors(400, 404, 409, 415),
          },
        }),
      },
      '/v1/pipelines/{executionId}': {
        get: secured({
          operationId: 'getPipeline',
          summary: 'Execution status, progress per step, and the stored record once there is one',
          requestParams: {
            path: z.object({
              executionId: z.string().meta({ description: 'The execution ARN or its name (the requestId)' }),
            }),
          },
          responses: { '200': json('Status', pipelineStatusResponseSchema), ...errors(400, 404) },
        }),
      },
      '/v1/batches': {
        post: secured({
          operationId: 'startBatch',
          summary:
            'Run the pipeline for many stored images as one batch: a list of keys or every image under a prefix; ' +
            'the same requestId and request return the same batch',
          requestBody: jsonBody(batchRequestSchema),
          responses: {
            '202': json('Started (or already running)', batchStartResponseSchema),
            '200': json('This requestId already ran as this batch', batchStartResponseSchema),
            ...errors(400, 409, 415),
          },
        }),
        get: secured({
          operationId: 'listBatches',
          summary: 'Recent batches, newest first',
          requestParams: { query: batchListQuerySchema },
          responses: { '200': json('Batches', batchListResponseSchema), ...errors(400) },
        }),
      },
      '/v1/batches/{batchId}': {
        get: secured({
          operationId: 'getBatch',
          summary: 'Status and item counts (they move while it runs), and where the results are once it ends',
          requestParams: { path: batchPath },
          responses: { '200': json('Status', batchStatusResponseSchema), ...errors(400, 404) },
        }),
      },
      '/v1/batches/{batchId}/items': {
        get: secured({
          operationId: 'listBatchItems',
          summary: "The batch's items by image key: requestId, status, top labels, providers' error codes",
          requestParams: { path: batchPath, query: batchItemsQuerySchema },
          responses: { '200': json('A page of items', batchItemsResponseSchema), ...errors(400, 404) },
        }),
      },
      '/v1/batches/{batchId}/redrive': {
        post: secured({
          operationId: 'redriveBatch',
          summary:
            'Run a stopped or timed-out batch on from where each item stopped (Step Functions redrive); a failed ' +
            'batch is a 409: run its failed images again as a new batch',
          requestParams: { path: batchPath },
          responses: {
            '202': json('Running again', batchRedriveResponseSchema),
            ...errors(400, 404, 409),
          },
        }),
      },
      '/v1/results': {
        get: secured({
          operationId: 'listResults',
          summary: 'Stored records, newest first',
          requestParams: { query: resultsQuerySchema },
          responses: { '200': json('A page of records', resultsListResponseSchema), ...errors(400) },
        }),
      },
      '/v1/monitoring/dashboard': {
        get: secured({
          operationId: 'getMonitoringDashboard',
          summary: "The dashboard's widgets with their time series, read from CloudWatch",
          requestParams: { query: monitoringDashboardQuerySchema },
          responses: {
            '200': json('Each widget and its series, oldest point first', monitoringDashboardResponseSchema),
            ...errors(400),
          },
        }),
      },
      '/v1/monitoring/alarms': {
        get: secured({
          operationId: 'listAlarms',
          summary: "Every alarm of the monitoring definition, with CloudWatch's state and configuration",
          responses: { '200': json('The alarms', monitoringAlarmsResponseSchema), ...errors() },
        }),
      },
      '/v1/monitoring/alarms/{name}/history': {
        get: secured({
          operationId: 'getAlarmHistory',
          summary: "One alarm's history: configuration updates, state changes and actions, newest first",
          requestParams: { path: z.object({ name: alarmNameSchema }) },
          responses: {
            '200': json('The history', monitoringAlarmHistoryResponseSchema),
            ...errors(400, 404),
          },
        }),
      },
      '/v1/results/{requestId}': {
        get: secured({
          operationId: 'getResult',
          summary: 'One stored record',
          requestParams: { path: z.object({ requestId: requestIdSchema }) },
          responses: { '200': json('The record', ResultRecord), ...errors(400, 404) },
        }),
      },
    },
  });
}
