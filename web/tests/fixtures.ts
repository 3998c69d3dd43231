import type { PipelineStatusResponse, ResultRecord } from '@mc-vision/core/schemas';

export const imageKey = 'images/3f0c0ffee.jpeg';

export const record: ResultRecord = {
  requestId: 'req-1',
  imageKey,
  source: 'analysis',
  status: 'partial',
  createdAt: '2025-01-02T03:04:05.000Z',
  expiresAt: 1_767_000_000,
  results: {
    sagemaker: { model: 'darknet-tiny', labels: [{ label: 'pelican', score: 0.91 }], latencyMs: 42 },
    bedrock: {
      model: 'anthropic.claude-3-haiku-20240307-v1:0',
      caption: 'A pelican standing on a rock.',
      tags: ['pelican', 'bird'],
      guardrail: { action: 'NONE', findings: [] },
      usage: { inputTokens: 1200, outputTokens: 40 },
      costUsd: 0.00035,
      latencyMs: 900,
      emulated: true,
    },
  },
  errors: { azure: { code: 'ProviderThrottled', message: 'Azure OpenAI answered 429' } },
};

export function pipelineStatus(status: PipelineStatusResponse['status']): PipelineStatusResponse {
  return {
    executionId: 'arn:aws:states:us-east-1:000000000000:execution:mc-vision:req-1',
    requestId: 'req-1',
    status,
    startedAt: '2025-01-02T03:04:05.000Z',
    steps: [{ name: 'Classify', status: status === 'RUNNING' ? 'running' : 'succeeded', attempts: 1 }],
    ...(status === 'SUCCEEDED' ? { output: record } : {}),
  };
}
