import {
  errorResponseSchema,
  healthResponseSchema,
  imageResponseSchema,
  monitoringAlarmHistoryResponseSchema,
  monitoringAlarmsResponseSchema,
  monitoringDashboardResponseSchema,
  pipelineStartResponseSchema,
  pipelineStatusResponseSchema,
  resultRecordSchema,
  resultsListResponseSchema,
  routeResponseSchema,
  signInResponseSchema,
  type HealthResponse,
  type ImageResponse,
  type MonitoringAlarmHistoryResponse,
  type MonitoringAlarmsResponse,
  type MonitoringDashboardResponse,
  type PipelineStartResponse,
  type PipelineStatusResponse,
  type ProviderName,
  type ResultRecord,
  type ResultsListResponse,
  type RouteResponse,
} from '@mc-vision/core/schemas';
import {
  batchItemsResponseSchema,
  batchListResponseSchema,
  batchRedriveResponseSchema,
  batchStartResponseSchema,
  batchStatusResponseSchema,
  type BatchItemsResponse,
  type BatchListResponse,
  type BatchStartResponse,
  type BatchStatusResponse,
} from '@mc-vision/core/batches';
import type { z } from 'zod';

/**
 * Every failure a call can end in: an error the API answered (`code` from its error body), a network failure
 * (`status` 0, code `network`) or an answer that does not match the contract (code `bad_response`).
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly code: string;
  readonly requestId: string | undefined;

  constructor(status: number, code: string, message: string, requestId?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

/** Turns one HTTP answer into the schema's value, or throws the ApiError that explains why it cannot. */
export async function parseResponse<S extends z.ZodType>(
  response: Response,
  schema: S,
): Promise<z.output<S>> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }

  if (!response.ok) {
    const parsed = errorResponseSchema.safeParse(body);
    if (parsed.success) {
      const { code, message, requestId } = parsed.data.error;
      throw new ApiError(response.status, code, message, requestId);
    }
    const statusText = response.statusText ? ` ${response.statusText}` : '';
    throw new ApiError(
      response.status,
      'http_error',
      `The API answered HTTP ${response.status}${statusText}.`,
    );
  }

  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join('.') || 'body';
    throw new ApiError(
      response.status,
      'bad_response',
      `The API answered something unexpected (${where}: ${parsed.error.issues[0]?.message ?? 'invalid'}).`,
    );
  }
  return parsed.data;
}

export interface ApiClientOptions {
  apiKey: string;
  /** '' in the browser: the API serves the UI, so calls are same-origin. */
  baseUrl?: string;
  fetch?: typeof fetch;
}

export type ApiClient = ReturnType<typeof createApiClient>;

export function createApiClient({
  apiKey,
  baseUrl = '',
  fetch: fetchImpl = globalThis.fetch,
}: ApiClientOptions) {
  async function call<S extends z.ZodType>(
    schema: S,
    path: string,
    init: RequestInit = {},
  ): Promise<z.output<S>> {
    const headers = new Headers(init.headers);
    headers.set('x-api-key', apiKey);
    headers.set('accept', 'application/json');
    let response: Response;
    try {
      response = await fetchImpl(`${baseUrl}${path}`, { ...init, headers });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      const detail = error instanceof Error ? error.message : String(error);
      throw new ApiError(0, 'network', `Could not reach the API (${detail}).`);
    }
    return parseResponse(response, schema);
  }

  /** A binary answer (a thumbnail) as a Blob; an error answer explained as for JSON routes. */
  async function blob(path: string): Promise<Blob> {
    let response: Response;
    try {
      response = await fetchImpl(`${baseUrl}${path}`, { headers: { 'x-api-key': apiKey } });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw new ApiError(0, 'network', `Could not reach the API (${detail}).`);
    }
    if (!response.ok) await parseResponse(response, errorResponseSchema);
    return response.blob();
  }

  const postJson = <S extends z.ZodType>(schema: S, path: string, body: unknown) =>
    call(schema, path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  return {
    /** The platform's components and their state (no key needed; the classifier's detail names its model). */
    getHealth: (): Promise<HealthResponse> => call(healthResponseSchema, '/health'),

    /** Sends the raw bytes; the API checks them, stores them under a content-hash key and reports the dimensions. */
    uploadImage: (file: Blob): Promise<ImageResponse> =>
      call(imageResponseSchema, '/v1/images', {
        method: 'POST',
        headers: { 'content-type': file.type },
        body: file,
      }),

    analyse: (key: string, providers: ProviderName[]): Promise<ResultRecord> =>
      postJson(resultRecordSchema, '/v1/analyses', { key, providers }),

    route: (key: string, policy: 'cost' | 'quality'): Promise<RouteResponse> =>
      postJson(routeResponseSchema, '/v1/route', { key, policy }),

    startPipeline: (key: string): Promise<PipelineStartResponse> =>
      postJson(pipelineStartResponseSchema, '/v1/pipelines', { key }),

    getPipeline: (executionId: string, signal?: AbortSignal): Promise<PipelineStatusResponse> =>
      call(
        pipelineStatusResponseSchema,
        `/v1/pipelines/${encodeURIComponent(executionId)}`,
        signal ? { signal } : {},
      ),

    /** The dashboard's widgets with their series over the last `minutes`. */
    getDashboard: (minutes: number): Promise<MonitoringDashboardResponse> =>
      call(monitoringDashboardResponseSchema, `/v1/monitoring/dashboard?minutes=${minutes}`),

    getAlarms: (): Promise<MonitoringAlarmsResponse> =>
      call(monitoringAlarmsResponseSchema, '/v1/monitoring/alarms'),

    getAlarmHistory: (name: string): Promise<MonitoringAlarmHistoryResponse> =>
      call(monitoringAlarmHistoryResponseSchema, `/v1/monitoring/alarms/${encodeURIComponent(name)}/history`),

    /** Exchanges the one-time code of `pnpm start`'s sign-in link for the API key (no key needed). */
    signIn: async (code: string): Promise<string> =>
      (await postJson(signInResponseSchema, '/local/sign-in', { code })).apiKey,

    /** A batch of every image under the prefix, or of the keys given. */
    startBatch: (source: { prefix: string } | { keys: string[] }): Promise<BatchStartResponse> =>
      postJson(batchStartResponseSchema, '/v1/batches', source),

    listBatches: (limit = 10): Promise<BatchListResponse> =>
      call(batchListResponseSchema, `/v1/batches?limit=${limit}`),

    getBatch: (batchId: string, signal?: AbortSignal): Promise<BatchStatusResponse> =>
      call(batchStatusResponseSchema, `/v1/batches/${encodeURIComponent(batchId)}`, signal ? { signal } : {}),

    listBatchItems: (
      batchId: string,
      options: { status?: 'failed'; nextToken?: string; limit?: number } = {},
    ): Promise<BatchItemsResponse> => {
      const query = new URLSearchParams({ limit: String(options.limit ?? 12) });
      if (options.status) query.set('status', options.status);
      if (options.nextToken) query.set('nextToken', options.nextToken);
      return call(batchItemsResponseSchema, `/v1/batches/${encodeURIComponent(batchId)}/items?${query}`);
    },

    redriveBatch: (batchId: string) =>
      postJson(batchRedriveResponseSchema, `/v1/batches/${encodeURIComponent(batchId)}/redrive`, {}),

    /** A stored image at most 160 px on its longest edge. */
    thumbnail: (key: string): Promise<Blob> => blob(`/v1/thumbnails?key=${encodeURIComponent(key)}`),

    listResults: (nextToken?: string, limit = 10): Promise<ResultsListResponse> => {
      const query = new URLSearchParams({ limit: String(limit) });
      if (nextToken) query.set('nextToken', nextToken);
      return call(resultsListResponseSchema, `/v1/results?${query}`);
    },
  };
}
