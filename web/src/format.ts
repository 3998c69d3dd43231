import type { ProviderName, TokenUsage } from '@mc-vision/core/schemas';
import { ApiError } from './api.ts';

export const providerLabels: Record<ProviderName, string> = {
  sagemaker: 'SageMaker',
  bedrock: 'Bedrock',
  azure: 'Azure',
};

const dollars = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const fractionOfCent = new Intl.NumberFormat('en-US', {
  style: 'currency',
  currency: 'USD',
  maximumSignificantDigits: 2,
});

/** Per-image LLM costs are fractions of a cent: show two significant digits instead of rounding them to $0.00. */
export function formatUsd(amount: number): string {
  return amount > 0 && amount < 0.01 ? fractionOfCent.format(amount) : dollars.format(amount);
}

export function formatLatency(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** A score in [0, 1] as a percentage with one decimal. */
export function formatScore(score: number): string {
  return `${(Math.min(1, Math.max(0, score)) * 100).toFixed(1)}%`;
}

export function formatTokens({ inputTokens, outputTokens }: TokenUsage): string {
  return `${inputTokens.toLocaleString('en-US')} in / ${outputTokens.toLocaleString('en-US')} out`;
}

export function formatTimestamp(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

export interface ErrorDescription {
  message: string;
  /** `unauthorized`, `provider_failed`, ...; absent for network failures. */
  code?: string;
  status?: number;
  requestId?: string;
}

/** What the UI says about a failure: the API's own message, its code and status, and the request id to quote. */
export function describeError(error: unknown): ErrorDescription {
  if (error instanceof ApiError) {
    if (error.code === 'network') return { message: error.message };
    return {
      message: error.message,
      code: error.code,
      status: error.status,
      ...(error.requestId ? { requestId: error.requestId } : {}),
    };
  }
  return { message: error instanceof Error ? error.message : String(error) };
}
