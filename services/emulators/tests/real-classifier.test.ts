import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import { AzureOpenAI } from 'openai';
import { classifierResponseSchema, guardrailPolicy, loadConfig } from '@mc-vision/core';
import { createBedrockRuntimeClient } from '@mc-vision/core/providers/clients';
import { startModelServer, type RunningModelServer } from '@mc-vision/model-server';
import {
  startAzureOpenAiServer,
  startBedrockRuntimeServer,
  type ClassifyImage,
  type EmulatorServer,
  type ImageDescription,
} from '../src/index.ts';
import { pelicanJpeg } from './support.ts';
import { testModelDir } from '@mc-vision/assets';

// The LLM emulators with the real classifier behind them, as the local cloud runs them: the model server
// (darknet-tiny via onnxruntime-node, or MODEL_DIR) answering SageMaker's POST /invocations.

const modelDir = testModelDir;
const prompt = 'Describe this image. Answer with JSON only: {"caption": string, "tags": string[]}.';

describe('LLM emulators with the real classifier', () => {
  let modelServer: RunningModelServer;
  let bedrock: EmulatorServer;
  let azure: EmulatorServer;

  beforeAll(async () => {
    modelServer = await startModelServer({ modelDir, port: 0 });
    const classify: ClassifyImage = async (bytes, contentType) => {
      const response = await fetch(`${modelServer.url}/invocations`, {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: bytes,
      });
      if (!response.ok) throw new Error(`model server answered ${response.status}`);
      return classifierResponseSchema.parse(await response.json());
    };
    [bedrock, azure] = await Promise.all([
      startBedrockRuntimeServer({ classify }),
      startAzureOpenAiServer({ apiKey: 'local-test-key-0123456789', classify }),
    ]);
  });
  afterAll(() => Promise.all([bedrock?.close(), azure?.close(), modelServer?.close()]));

  it('Bedrock Converse describes the pelican photo as a pelican, through the guardrail', async () => {
    const client = createBedrockRuntimeClient(loadConfig({ BEDROCK_RUNTIME_ENDPOINT: bedrock.url }));
    const response = await client.send(
      new ConverseCommand({
        modelId: 'anthropic.claude-3-haiku-20240307-v1:0',
        messages: [
          {
            role: 'user',
            content: [{ image: { format: 'jpeg', source: { bytes: pelicanJpeg } } }, { text: prompt }],
          },
        ],
        guardrailConfig: {
          guardrailIdentifier: guardrailPolicy.name,
          guardrailVersion: '1',
          trace: 'enabled',
        },
      }),
    );
    expect(response.stopReason).toBe('end_turn');
    const answer = JSON.parse(response.output?.message?.content?.[0]?.text ?? '') as ImageDescription;
    expect(answer.caption).toMatch(/^A photo of a pelican\b/);
    expect(answer.tags[0]).toBe('pelican');
  });

  it('Azure chat completions describe the pelican photo as a pelican', async () => {
    const client = new AzureOpenAI({
      endpoint: azure.url,
      apiKey: 'local-test-key-0123456789',
      apiVersion: '2024-10-21',
      deployment: 'gpt-4o-mini',
      maxRetries: 0,
    });
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      response_format: { type: 'json_object' },
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: prompt },
            {
              type: 'image_url',
              image_url: { url: `data:image/jpeg;base64,${pelicanJpeg.toString('base64')}` },
            },
          ],
        },
      ],
    });
    const answer = JSON.parse(completion.choices[0]?.message.content ?? '') as ImageDescription;
    expect(answer.caption).toMatch(/pelican/);
    expect(answer.tags).toContain('pelican');
  });
});
