import { Logger } from '@aws-lambda-powertools/logger';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startLocalCloud,
  type LocalCloud,
  type LocalCloudOptions,
  type LogEntry,
  type OutboxEntry,
} from '../src/index.ts';
import { fixtureImagePath, testModelDir } from '@mc-vision/assets';
import { faultRoute, type FaultInput } from '@mc-vision/emulators';

/** The real classifier the tests use (MODEL_DIR, default darknet-tiny from the shared material). */
export const modelDir = testModelDir;

/** Real photos, next to the repository. */
export const fixturePath = fixtureImagePath;
export const pelican = readFileSync(fixturePath('pelican.jpeg'));

export const tempDir = (prefix: string) => mkdtemp(join(tmpdir(), `mcv-local-${prefix}-`));

export interface TestCloud {
  cloud: LocalCloud;
  /** POSTs a fault to an emulator's fault route (with this run's admin token). */
  fault(component: string, fault: FaultInput): Promise<void>;
  dataDir: string;
  /** Everything the local cloud reported. */
  logs: LogEntry[];
  api: ApiClient;
  /** Stops the cloud (not the data). */
  stop(): Promise<void>;
  /** Stops the cloud and removes its data. */
  close(): Promise<void>;
}

/** A local cloud on a free port with its own data folder (or `dataDir`), its logs collected, the API quiet. */
export async function startTestCloud(
  options: Partial<LocalCloudOptions> & { dataDir?: string } = {},
): Promise<TestCloud> {
  const dataDir = options.dataDir ?? (await tempDir('cloud'));
  const logs: LogEntry[] = [];
  const cloud = await startLocalCloud({
    port: 0,
    modelDir,
    env: {},
    log: (entry) => logs.push(entry),
    apiLogger: new Logger({ logLevel: 'SILENT' }),
    ...options,
    dataDir,
  });
  return {
    cloud,
    dataDir,
    logs,
    api: apiClient(cloud.url, cloud.apiKey),
    fault: (component, fault) => postFault(componentUrl(cloud, component), cloud.adminToken, fault),
    stop: () => cloud.close(),
    async close() {
      await cloud.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A component's URL by name (`bedrock`, `dynamodb`, …). */
export function componentUrl(cloud: Pick<LocalCloud, 'components'>, name: string): string {
  const found = cloud.components.find((component) => component.name === name);
  if (!found) throw new Error(`no component ${name}`);
  return found.url;
}

/** Queues a fault on an emulator, as a test does: with the run's admin token. */
export async function postFault(emulatorUrl: string, adminToken: string, fault: FaultInput): Promise<void> {
  const response = await fetch(`${emulatorUrl}${faultRoute}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify(fault),
  });
  if (response.status !== 201)
    throw new Error(`fault route answered ${response.status}: ${await response.text()}`);
}

export interface ApiResponse {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface ApiClient {
  get(path: string): Promise<ApiResponse>;
  post(path: string, body: unknown, contentType?: string): Promise<ApiResponse>;
}

export function apiClient(url: string, apiKey: string): ApiClient {
  async function send(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<ApiResponse> {
    const isBytes = body instanceof Uint8Array;
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        'x-api-key': apiKey,
        ...(body === undefined ? {} : { 'content-type': contentType ?? 'application/json' }),
      },
      ...(body === undefined ? {} : { body: isBytes ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }
  return {
    get: (path) => send('GET', path),
    post: (path, body, contentType) => send('POST', path, body, contentType),
  };
}

/** Uploads the pelican photo; resolves with its key. */
export async function uploadPelican(api: ApiClient): Promise<string> {
  const { status, body } = await api.post('/v1/images', pelican, 'image/jpeg');
  if (status !== 201) throw new Error(`upload answered ${status}: ${JSON.stringify(body)}`);
  return body.key;
}

/** Polls `GET /v1/pipelines/{id}` until the execution has ended. */
export async function waitForPipeline(
  api: ApiClient,
  executionId: string,
  timeoutMs = 60_000,
): Promise<ApiResponse['body']> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await api.get(`/v1/pipelines/${encodeURIComponent(executionId)}`);
    if (status !== 200) throw new Error(`pipeline status answered ${status}: ${JSON.stringify(body)}`);
    if (body.status !== 'RUNNING') return body;
    if (Date.now() > deadline) throw new Error(`pipeline ${executionId} still RUNNING after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export { photoVariants } from '@mc-vision/assets/photo-variants';

/**
 * Polls `GET /v1/batches/{id}` until the batch has ended (or `until` says so); every answer is handed to `seen`.
 */
export async function waitForBatch(
  api: ApiClient,
  batchId: string,
  seen: (body: ApiResponse['body']) => void = () => {},
  timeoutMs = 600_000,
  until: (body: ApiResponse['body']) => boolean = (body) => body.status !== 'RUNNING',
): Promise<ApiResponse['body']> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await api.get(`/v1/batches/${encodeURIComponent(batchId)}`);
    if (status !== 200) throw new Error(`batch status answered ${status}: ${JSON.stringify(body)}`);
    seen(body);
    if (until(body)) return body;
    if (Date.now() > deadline) throw new Error(`batch ${batchId} still RUNNING after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Every item of a batch, page by page. */
export async function allBatchItems(
  api: ApiClient,
  batchId: string,
  query = '',
): Promise<ApiResponse['body'][]> {
  const items: ApiResponse['body'][] = [];
  let token: string | undefined;
  do {
    const next = token ? `&nextToken=${encodeURIComponent(token)}` : '';
    const { status, body } = await api.get(`/v1/batches/${batchId}/items?limit=100${query}${next}`);
    if (status !== 200) throw new Error(`items answered ${status}: ${JSON.stringify(body)}`);
    items.push(...body.items);
    token = body.nextToken;
  } while (token);
  return items;
}

/** The results topic's notifications the outbox has received so far (the alarms' have a topic of their own). */
export function outbox(cloud: LocalCloud): OutboxEntry[] {
  const text = existsSync(cloud.outboxFile) ? readFileSync(cloud.outboxFile, 'utf8') : '';
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as OutboxEntry)
    .filter((entry) => entry.topicArn === cloud.config.NOTIFY_TOPIC_ARN);
}

/** Waits until the outbox holds the notification whose subject names `requestId`. */
export async function waitForNotification(
  cloud: LocalCloud,
  requestId: string,
  timeoutMs = 30_000,
): Promise<OutboxEntry> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = outbox(cloud).find((entry) => entry.subject?.endsWith(` ${requestId}`));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no notification for ${requestId} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export { walkthroughScript } from '@mc-vision/assets/walkthrough';
