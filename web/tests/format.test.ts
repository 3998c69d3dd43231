import { describe, expect, it } from '@jest/globals';
import { ApiError } from '../src/api.ts';
import {
  describeError,
  formatBytes,
  formatLatency,
  formatScore,
  formatTokens,
  formatUsd,
} from '../src/format.ts';

describe('formatting', () => {
  it('shows sub-cent costs with two significant digits and larger ones in cents', () => {
    expect(formatUsd(0.000123)).toBe('$0.00012');
    expect(formatUsd(0.0042)).toBe('$0.0042');
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(1.5)).toBe('$1.50');
  });

  it('shows latency in ms below a second and seconds above', () => {
    expect(formatLatency(42.4)).toBe('42 ms');
    expect(formatLatency(1234)).toBe('1.23 s');
  });

  it('shows sizes in B, KB and MB', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(2048)).toBe('2.0 KB');
    expect(formatBytes(3_500_000)).toBe('3.3 MB');
  });

  it('shows scores as percentages, clamped to 0-100', () => {
    expect(formatScore(0.9134)).toBe('91.3%');
    expect(formatScore(1.2)).toBe('100.0%');
  });

  it('shows token usage with thousands separators', () => {
    expect(formatTokens({ inputTokens: 1234, outputTokens: 56 })).toBe('1,234 in / 56 out');
  });
});

describe('describeError', () => {
  it('keeps the code, status and request id of an API error', () => {
    expect(describeError(new ApiError(502, 'provider_failed', 'Bedrock failed', 'r-9'))).toEqual({
      message: 'Bedrock failed',
      code: 'provider_failed',
      status: 502,
      requestId: 'r-9',
    });
  });

  it('says only what happened for a network failure or a plain error', () => {
    expect(describeError(new ApiError(0, 'network', 'Could not reach the API (fetch failed).'))).toEqual({
      message: 'Could not reach the API (fetch failed).',
    });
    expect(describeError(new Error('boom'))).toEqual({ message: 'boom' });
    expect(describeError('odd')).toEqual({ message: 'odd' });
  });
});
