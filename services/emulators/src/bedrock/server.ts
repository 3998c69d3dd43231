import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { guardrailPolicy as defaultGuardrailPolicy, loadConfig, type GuardrailPolicy } from '@mc-vision/core';
import { FaultQueue, serveFaultAdmin } from '../faults.ts';
import { applyGuardrailPolicy } from '../guardrail/engine.ts';
import {
  decodePathSegment,
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
  type ImageDescription,
  type ImageFacts,
  type TransformDescription,
} from '../vision.ts';
import { bedrockError, bedrockErrorTypeFor } from './errors.ts';
import { checkConversation, checkModelAccess, signingRegion } from './requests.ts';
import { applyGuardrailRequestSchema, converseRequestSchema } from './schemas.ts';

// Bedrock runtime emulator: Converse (`POST /model/{modelId}/converse`) answering as a Claude vision model would
// to a "describe this image as JSON {caption, tags}" prompt, and ApplyGuardrail
// (`POST /guardrail/{id}/version/{version}/apply`), both enforcing the guardrail policy with the local engine.
// The answer is built from the injected classifier's view of the image itself, never from the prompt's text.

export interface BedrockRuntimeEmulatorOptions extends ListenOptions {
  classify: ClassifyImage;
  /** The guardrail identifier requests must name (default: the policy's name, as core's config defaults to). */
  guardrailId?: string;
  /** Its published version (default core's `BEDROCK_GUARDRAIL_VERSION` default); `DRAFT` is always there. */
  guardrailVersion?: string;
  guardrailPolicy?: GuardrailPolicy;
  /** Test hook, see `TransformDescription`. */
  transformDescription?: TransformDescription;
  /** Milliseconds, for `metrics.latencyMs` (default `performance.now`; a test hook). */
  clock?: () => number;
}

/** Marks every Converse answer as emulated; the provider client keys `emulated: true` on exactly this. */
export const bedrockEmulatorMarker = { emulator: 'mc-vision' } as const;

const maxBodyBytes = 25 * 1024 * 1024;
const maxImageBytes = 3.75 * 1024 * 1024;
const maxImageEdge = 8000;
const defaultMaxTokens = 4096;

export async function startBedrockRuntimeServer(
  options: BedrockRuntimeEmulatorOptions,
): Promise<EmulatorServer> {
  const policy = options.guardrailPolicy ?? defaultGuardrailPolicy;
  const guardrailId = options.guardrailId ?? policy.name;
  const guardrailVersions = new Set([
    'DRAFT',
    options.guardrailVersion ?? loadConfig({}).BEDROCK_GUARDRAIL_VERSION,
  ]);
  const faults = new FaultQueue();
  const clock = options.clock ?? (() => performance.now());

  /** Bedrock answers an unknown guardrail and an unknown version of a known one alike. */
  function checkGuardrail(identifier: string, version: string): void {
    const id = identifier.match(/^arn:aws[\w-]*:bedrock:[\w-]+:\d{12}:guardrail\/(.+)$/)?.[1] ?? identifier;
    if (id !== guardrailId || !guardrailVersions.has(version)) {
      throw bedrockError(
        'ValidationException',
        'The guardrail identifier or version provided in the request does not exist.',
      );
    }
  }

  async function readRequest<T>(req: IncomingMessage, schema: z.ZodType<T>): Promise<T> {
    const body = parseJson(
      await readBody(req, maxBodyBytes, () =>
        bedrockError('ValidationException', 'Input is too long for requested model.'),
      ),
    );
    if (body === undefined) throw bedrockError('ValidationException');
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw bedrockError('ValidationException', z.prettifyError(parsed.error));
    return parsed.data;
  }

  async function converse(req: IncomingMessage, res: ServerResponse, modelId: string): Promise<void> {
    const started = clock();
    checkModelAccess(modelId, signingRegion(req));
    const request = await readRequest(req, converseRequestSchema);
    checkConversation(request.messages);
    const { messages } = request;
    if (messages.at(-1)?.role !== 'user') {
      throw bedrockError(
        'ValidationException',
        'The emulator only answers image descriptions: the conversation must end with a user message.',
      );
    }
    if (request.guardrailConfig) {
      checkGuardrail(request.guardrailConfig.guardrailIdentifier, request.guardrailConfig.guardrailVersion);
    }

    const imageBlocks = messages.flatMap((message) =>
      message.content.flatMap((block) => ('image' in block ? [block.image] : [])),
    );
    const images = await Promise.all(imageBlocks.map(checkImage));
    // The image described is the first one of the last user message (core's prompt sends exactly one).
    const described = messages.at(-1)!.content.flatMap((block) => ('image' in block ? [block.image] : []))[0];
    if (!described) {
      throw bedrockError(
        'ValidationException',
        'The emulator only answers image descriptions: the last user message has no image.',
      );
    }
    const promptText = [
      ...(request.system ?? []).map((block) => block.text),
      ...messages
        .flatMap((message) => message.content)
        .flatMap((block) => ('text' in block ? [block.text] : [])),
    ].join('\n');
    const userText = messages
      .filter((message) => message.role === 'user')
      .flatMap((message) => message.content)
      .flatMap((block) => ('text' in block ? [block.text] : []))
      .join('\n');
    const trace = request.guardrailConfig?.trace ?? 'disabled';
    const traceOn = trace !== 'disabled';

    // The guardrail sees the input first; a blocked input never reaches the model.
    const inputVerdict = request.guardrailConfig
      ? applyGuardrailPolicy(userText, policy, { source: 'INPUT' })
      : undefined;
    if (inputVerdict?.blocked) {
      sendConverse(res, {
        text: policy.blockedInputMessaging,
        stopReason: 'guardrail_intervened',
        usage: { inputTokens: 0, outputTokens: 0 },
        latencyMs: clock() - started,
        trace: traceOn
          ? { guardrail: { inputAssessment: { [guardrailId]: inputVerdict.assessments[0] } } }
          : undefined,
      });
      return;
    }

    const description = await describeImage(images[imageBlocks.indexOf(described)]!);
    let text = JSON.stringify(description);
    let stopReason = 'end_turn';
    const stop = request.inferenceConfig?.stopSequences
      ?.map((s) => ({ s, at: text.indexOf(s) }))
      .filter((m) => m.at >= 0);
    if (stop && stop.length > 0) {
      text = text.slice(0, Math.min(...stop.map((m) => m.at)));
      stopReason = 'stop_sequence';
    }
    const maxTokens = request.inferenceConfig?.maxTokens ?? defaultMaxTokens;
    if (textTokens(text) > maxTokens) {
      text = text.slice(0, maxTokens * 4);
      stopReason = 'max_tokens';
    }
    const usage = {
      inputTokens:
        images.reduce((sum, image) => sum + claudeImageTokens(image.facts), 0) + textTokens(promptText),
      outputTokens: textTokens(text),
    };

    let guardrailTrace: Record<string, unknown> | undefined;
    if (request.guardrailConfig) {
      const outputVerdict = applyGuardrailPolicy(text, policy, { source: 'OUTPUT' });
      if (outputVerdict.action === 'GUARDRAIL_INTERVENED') stopReason = 'guardrail_intervened';
      if (traceOn) {
        guardrailTrace = {
          ...(trace === 'enabled_full' ? { modelOutput: [text] } : {}),
          inputAssessment: { [guardrailId]: inputVerdict!.assessments[0] },
          outputAssessments: { [guardrailId]: outputVerdict.assessments },
        };
      }
      text = outputVerdict.outputText;
    }
    sendConverse(res, {
      text,
      stopReason,
      usage,
      latencyMs: clock() - started,
      trace: guardrailTrace ? { guardrail: guardrailTrace } : undefined,
    });
  }

  async function checkImage(image: { format: string; source: { bytes: string } }): Promise<CheckedImage> {
    const bytes = Buffer.from(image.source.bytes, 'base64');
    if (bytes.length > maxImageBytes) {
      throw bedrockError('ValidationException', 'Image exceeds the 3.75 MB maximum image size.');
    }
    const facts = await inspectImage(bytes);
    if (!facts) {
      throw bedrockError(
        'ValidationException',
        'Could not process image: the bytes are not a supported image.',
      );
    }
    if (facts.format !== image.format) {
      throw bedrockError(
        'ValidationException',
        `The image format ${image.format} does not match the image data, which is ${facts.format}.`,
      );
    }
    if (facts.width > maxImageEdge || facts.height > maxImageEdge) {
      throw bedrockError(
        'ValidationException',
        `Image dimensions exceed the maximum of ${maxImageEdge} pixels.`,
      );
    }
    return { bytes, facts };
  }

  async function describeImage({ bytes, facts }: CheckedImage): Promise<ImageDescription> {
    let classification;
    try {
      classification = await options.classify(bytes, facts.contentType);
    } catch (error) {
      throw bedrockError(
        'ModelErrorException',
        `The model could not process the image: ${error instanceof Error ? error.message : String(error)}`,
        { fields: { originalStatusCode: 500, resourceName: 'mc-vision-classifier' } },
      );
    }
    const description = describeFromLabels(classification.labels);
    return options.transformDescription ? options.transformDescription(description) : description;
  }

  async function applyGuardrail(
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
    version: string,
  ): Promise<void> {
    checkGuardrail(id, version);
    const request = await readRequest(req, applyGuardrailRequestSchema);
    const text = request.content.flatMap((block) => ('text' in block ? [block.text.text] : [])).join('\n');
    const verdict = applyGuardrailPolicy(text, policy, { source: request.source });
    sendJson(
      res,
      200,
      {
        usage: verdict.usage,
        action: verdict.action,
        outputs: verdict.action === 'GUARDRAIL_INTERVENED' ? [{ text: verdict.outputText }] : [],
        assessments: verdict.assessments,
        guardrailCoverage: verdict.coverage,
      },
      { 'x-amzn-requestid': randomUUID() },
    );
  }

  const { server, url } = await startHttpServer(
    options,
    async (req, res) => {
      const { pathname } = requestUrl(req);
      const accepts = (fault: { status: number; type?: string }) =>
        bedrockErrorTypeFor(fault.status, fault.type)
          ? undefined
          : `Bedrock has no error type for status ${fault.status}${fault.type ? ` and type ${fault.type}` : ''}`;
      if (await serveFaultAdmin(req, res, pathname, faults, accepts)) return;

      const converseRoute = pathname.match(/^\/model\/([^/]+)\/converse$/);
      const guardrailRoute = pathname.match(/^\/guardrail\/([^/]+)\/version\/([^/]+)\/apply$/);
      if (!converseRoute && !guardrailRoute) {
        throw bedrockError('ResourceNotFoundException', `No such operation: ${req.method} ${pathname}`);
      }
      if (req.method !== 'POST') throw bedrockError('ValidationException', `Use POST for ${pathname}`);

      const fault = faults.take();
      if (fault) {
        const type = bedrockErrorTypeFor(fault.status, fault.type)!;
        throw bedrockError(type, undefined, {
          headers:
            fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) },
        });
      }
      const [first, second] = (converseRoute ?? guardrailRoute!)
        .slice(1)
        .map((part) => decodePathSegment(part));
      if (first === undefined || (guardrailRoute && second === undefined)) {
        throw bedrockError('ValidationException', 'The request path is not correctly URL-encoded.');
      }
      if (converseRoute) await converse(req, res, first);
      else await applyGuardrail(req, res, first, second!);
    },
    () => bedrockError('InternalServerException'),
  );
  return { url, close: () => stopHttpServer(server) };
}

interface CheckedImage {
  bytes: Buffer;
  facts: ImageFacts;
}

interface ConverseAnswer {
  text: string;
  stopReason: string;
  usage: { inputTokens: number; outputTokens: number };
  /** Time taken, ms (Bedrock reports at least 1). */
  latencyMs: number;
  trace: Record<string, unknown> | undefined;
}

function sendConverse(res: ServerResponse, answer: ConverseAnswer): void {
  sendJson(
    res,
    200,
    {
      output: { message: { role: 'assistant', content: [{ text: answer.text }] } },
      stopReason: answer.stopReason,
      usage: { ...answer.usage, totalTokens: answer.usage.inputTokens + answer.usage.outputTokens },
      metrics: { latencyMs: Math.max(1, Math.round(answer.latencyMs)) },
      additionalModelResponseFields: bedrockEmulatorMarker,
      ...(answer.trace ? { trace: answer.trace } : {}),
    },
    { 'x-amzn-requestid': randomUUID() },
  );
}

/** Claude's image cost: scaled to at most 1568 px on the long edge, then width*height/750 tokens (max ~1600). */
export function claudeImageTokens(image: { width: number; height: number }): number {
  const scale = Math.min(1, 1568 / Math.max(image.width, image.height));
  const tokens = Math.ceil((image.width * scale * (image.height * scale)) / 750);
  return Math.min(tokens, 1600);
}
