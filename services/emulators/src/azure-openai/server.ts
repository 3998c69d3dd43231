import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { FaultQueue, serveFaultAdmin, type Fault } from '../faults.ts';
import {
  decodePathSegment,
  HttpError,
  parseJson,
  readBody,
  requestUrl,
  sendJson,
  startHttpServer,
  stopHttpServer,
  type EmulatorServer,
  type ListenOptions,
} from '../http.ts';
import {
  describeFromLabels,
  inspectImage,
  textTokens,
  type ClassifyImage,
  type ImageFacts,
  type TransformDescription,
} from '../vision.ts';
import {
  injectedPromptFilter,
  isFiltered,
  promptFilteredError,
  rateCompletion,
  ratePrompt,
} from './content-filter.ts';
import { chatCompletionRequestSchema, type ChatCompletionRequest, type ImagePart } from './schemas.ts';

// Azure OpenAI emulator: `POST /openai/deployments/{deployment}/chat/completions?api-version=...`, keyed by the
// `api-key` header, answering as GPT-4o-mini would to a "describe this image as JSON {caption, tags}" prompt, from
// the injected classifier's view of the image itself. Errors use Azure's `{error: {code, message}}` shapes, so the
// `openai` package's AzureOpenAI client raises the same error classes (and retries 429s after `retry-after`).

export interface AzureOpenAiEmulatorOptions extends ListenOptions {
  /** The key requests must send in `api-key`. */
  apiKey: string;
  classify: ClassifyImage;
  /** Deployment name → the model version it reports (default `gpt-4o-mini` → `gpt-4o-mini-2024-07-18`). */
  deployments?: Record<string, string>;
  /** Test hook, see `TransformDescription`. */
  transformDescription?: TransformDescription;
}

/** Marks every answer as emulated; the provider client keys `emulated: true` on exactly this. */
export const azureEmulatorFingerprint = 'mc-vision-emulator';

const maxBodyBytes = 25 * 1024 * 1024;
const maxImageBytes = 20 * 1024 * 1024;
const defaultMaxTokens = 16_384;

function azureError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): HttpError {
  return new HttpError(status, { error: { code, message } }, headers);
}

/** OpenAI-style validation error, which Azure passes through for request-body problems. */
function invalidRequest(message: string, param: string | null = null, code: string | null = null): HttpError {
  return new HttpError(400, { error: { message, type: 'invalid_request_error', param, code } });
}

function faultError(fault: Fault, apiVersion: string): HttpError {
  const headers: Record<string, string> =
    fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) };
  const wait = fault.retryAfterSeconds ?? 1;
  if (fault.status === 400 && fault.type === 'content_filter') return injectedPromptFilter();
  switch (fault.status) {
    case 429:
      return azureError(
        429,
        '429',
        `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version ${apiVersion} have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after ${wait} second${wait === 1 ? '' : 's'}. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`,
        headers,
      );
    case 500:
      return azureError(
        500,
        'InternalServerError',
        'The server had an error while processing your request. Sorry about that!',
        headers,
      );
    case 503:
      return azureError(
        503,
        'ServiceUnavailable',
        'The service is temporarily unable to process your request. Please try again later.',
        headers,
      );
    case 408:
      return azureError(408, 'Timeout', 'The operation was timeout.', headers);
    default:
      return azureError(
        fault.status,
        fault.type ?? String(fault.status),
        `Injected fault (HTTP ${fault.status}).`,
        headers,
      );
  }
}

function keyMatches(sent: string | string[] | undefined, expected: string): boolean {
  if (typeof sent !== 'string') return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function parseDataUri(url: string): Buffer | undefined {
  const match = url.match(/^data:image\/[a-z+.-]+;base64,([A-Za-z0-9+/=\s]+)$/i);
  return match ? Buffer.from(match[1]!, 'base64') : undefined;
}

function messageText(message: ChatCompletionRequest['messages'][number]): string {
  const content = message.content;
  if (content === null) return '';
  if (typeof content === 'string') return content;
  return content.map((part) => ('text' in part ? part.text : '')).join('\n');
}

/** GPT-4o-mini's image cost: 2,833 tokens, plus 5,667 per 512-px tile at high detail (after OpenAI's scaling). */
export function gpt4oMiniImageTokens(
  image: { width: number; height: number },
  detail: 'auto' | 'low' | 'high',
): number {
  const base = 2833;
  if (detail === 'low') return base;
  let { width, height } = image;
  const fit = Math.min(1, 2048 / Math.max(width, height));
  width *= fit;
  height *= fit;
  const shortest = Math.min(1, 768 / Math.min(width, height));
  width *= shortest;
  height *= shortest;
  return base + 5667 * Math.ceil(width / 512) * Math.ceil(height / 512);
}

export async function startAzureOpenAiServer(options: AzureOpenAiEmulatorOptions): Promise<EmulatorServer> {
  const deployments = options.deployments ?? { 'gpt-4o-mini': 'gpt-4o-mini-2024-07-18' };
  const faults = new FaultQueue();

  async function chatCompletions(req: IncomingMessage, res: ServerResponse, model: string): Promise<void> {
    const body = parseJson(
      await readBody(req, maxBodyBytes, () =>
        azureError(413, 'RequestTooLarge', 'The request is larger than 25 MB.'),
      ),
    );
    if (body === undefined) throw invalidRequest('We could not parse the JSON body of your request.');
    const parsed = chatCompletionRequestSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw invalidRequest(z.prettifyError(parsed.error), issue?.path.join('.') || null);
    }
    const request = parsed.data;

    if (
      request.response_format?.type === 'json_object' &&
      !request.messages.some((m) => /json/i.test(messageText(m)))
    ) {
      throw invalidRequest(
        "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
        'messages',
      );
    }

    // Azure's content filter reads the prompt before the model sees it.
    const promptResults = ratePrompt(request.messages.map(messageText).join('\n'));
    if (isFiltered(promptResults)) throw promptFilteredError(promptResults);

    const imageParts = request.messages.flatMap((message) =>
      message.role === 'user' && Array.isArray(message.content)
        ? message.content.filter((part): part is ImagePart => part.type === 'image_url')
        : [],
    );
    const images = await Promise.all(imageParts.map(readImage));
    const lastUser = request.messages.findLast((message) => message.role === 'user');
    const described =
      lastUser && Array.isArray(lastUser.content)
        ? lastUser.content.find((part): part is ImagePart => part.type === 'image_url')
        : undefined;
    if (!described) {
      throw invalidRequest(
        'The emulator only answers image descriptions: the last user message has no image.',
        'messages',
      );
    }
    const target = images[imageParts.indexOf(described)]!;

    let classification;
    try {
      classification = await options.classify(target.bytes, target.facts.contentType);
    } catch (error) {
      throw azureError(
        500,
        'InternalServerError',
        `The model could not process the image: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    let description = describeFromLabels(classification.labels);
    if (options.transformDescription) description = options.transformDescription(description);

    let content = JSON.stringify(description);
    let finishReason = 'stop';
    const stops = request.stop === undefined || request.stop === null ? [] : [request.stop].flat();
    const stopAt = stops.map((stop) => content.indexOf(stop)).filter((at) => at >= 0);
    if (stopAt.length > 0) content = content.slice(0, Math.min(...stopAt));
    const maxTokens = request.max_completion_tokens ?? request.max_tokens ?? defaultMaxTokens;
    if (textTokens(content) > maxTokens) {
      content = content.slice(0, maxTokens * 4);
      finishReason = 'length';
    }

    // A completion the content filter stops ends there, without its text.
    const completionResults = rateCompletion(content);
    const filtered = isFiltered(completionResults);
    if (filtered) finishReason = 'content_filter';

    // Chat formatting costs about 3 tokens per message plus 3 to prime the reply.
    const promptTokens =
      3 +
      request.messages.reduce((sum, message) => sum + 3 + textTokens(messageText(message)), 0) +
      images.reduce((sum, image) => sum + gpt4oMiniImageTokens(image.facts, image.detail), 0);
    const completionTokens = textTokens(content);

    sendJson(
      res,
      200,
      {
        id: `chatcmpl-${randomBytes(22).toString('base64url').slice(0, 29)}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model,
        system_fingerprint: azureEmulatorFingerprint,
        prompt_filter_results: [{ prompt_index: 0, content_filter_results: promptResults }],
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: filtered ? null : content, refusal: null },
            finish_reason: finishReason,
            logprobs: null,
            content_filter_results: completionResults,
          },
        ],
        usage: {
          prompt_tokens: promptTokens,
          completion_tokens: completionTokens,
          total_tokens: promptTokens + completionTokens,
          prompt_tokens_details: { cached_tokens: 0 },
          completion_tokens_details: { reasoning_tokens: 0 },
        },
      },
      { 'apim-request-id': randomUUID(), 'x-request-id': randomUUID() },
    );
  }

  async function readImage(
    part: ImagePart,
  ): Promise<{ bytes: Buffer; facts: ImageFacts; detail: 'auto' | 'low' | 'high' }> {
    const bytes = parseDataUri(part.image_url.url);
    if (!bytes) {
      throw invalidRequest(
        'The emulator accepts images as base64 data URIs only (data:image/...;base64,...).',
        'messages',
      );
    }
    const facts = bytes.length <= maxImageBytes ? await inspectImage(bytes) : undefined;
    if (!facts) {
      throw invalidRequest(
        "You uploaded an unsupported image. Please make sure your image is below 20 MB in size and is of one the following formats: ['png', 'jpeg', 'gif', 'webp'].",
        null,
        'invalid_image_format',
      );
    }
    return { bytes, facts, detail: part.image_url.detail ?? 'auto' };
  }

  const { server, url } = await startHttpServer(
    options,
    async (req, res) => {
      const url = requestUrl(req);
      const { pathname } = url;
      if (await serveFaultAdmin(req, res, pathname, faults, () => undefined)) return;

      const route = pathname.match(/^\/openai\/deployments\/([^/]+)\/chat\/completions$/);
      const apiVersion = url.searchParams.get('api-version');
      if (!route || !apiVersion) throw azureError(404, '404', 'Resource not found');
      if (!/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(apiVersion)) {
        throw azureError(400, 'BadRequest', 'API version not supported');
      }
      if (!keyMatches(req.headers['api-key'], options.apiKey)) {
        throw azureError(
          401,
          '401',
          'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
        );
      }
      if (req.method !== 'POST') throw azureError(405, 'MethodNotAllowed', `Use POST for ${pathname}`);
      const fault = faults.take();
      if (fault) throw faultError(fault, apiVersion);

      const deployment = decodePathSegment(route[1]!) ?? '';
      const model = Object.hasOwn(deployments, deployment) ? deployments[deployment] : undefined;
      if (!model) {
        throw azureError(
          404,
          'DeploymentNotFound',
          'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
        );
      }
      await chatCompletions(req, res, model);
    },
    () =>
      azureError(
        500,
        'InternalServerError',
        'The server had an error while processing your request. Sorry about that!',
      ),
  );
  return { url, close: () => stopHttpServer(server) };
}
