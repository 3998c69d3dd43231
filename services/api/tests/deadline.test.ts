import { describe, expect, it } from '@jest/globals';
import { loadConfig, ProviderUnavailableError } from '@mc-vision/core';
import { readdirSync, readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { answerMarginMs, providerDeadlineMs, startDeadline, withinDeadline } from '../src/routes/deadline.ts';

// The request deadline's arithmetic, and that the deployed environments fit in it. The routes' behaviour
// under a silent provider is in routes.test.ts.

/** API Gateway's HTTP API gives up on an integration after 30 s and answers with its own body. */
const httpApiIntegrationTimeoutMs = 30_000;

const envDir = new URL('../../../infra/env/', import.meta.url);
const environments = readdirSync(envDir)
  .filter((name) => name.endsWith('.env'))
  .map((name) => [name, loadConfig(parseEnv(readFileSync(new URL(name, envDir), 'utf8')))] as const);

describe('the API deadline', () => {
  it("is the function's timeout less the margin, and at least half of it", () => {
    expect(providerDeadlineMs({ API_TIMEOUT_SECONDS: 29 })).toBe(29_000 - answerMarginMs);
    expect(providerDeadlineMs({ API_TIMEOUT_SECONDS: 4 })).toBe(2_000);
    expect(providerDeadlineMs({ API_TIMEOUT_SECONDS: 1 })).toBe(500);
  });

  it('cuts off a call that ignores the abort, with a named, retryable error', async () => {
    const deadline = startDeadline(50);
    const ignoresAbort = new Promise<string>(() => {});
    const outcome = withinDeadline('bedrock', deadline, ignoresAbort).catch((error: unknown) => error);
    const error = await outcome;
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(error).toMatchObject({
      name: 'ProviderUnavailable',
      provider: 'bedrock',
      message: "bedrock: no answer within 0.1 s (the API's deadline)",
    });
    expect(deadline.signal.aborted).toBe(true);
  });

  it('lets a call that settles in time settle as it did', async () => {
    const deadline = startDeadline(10_000);
    await expect(withinDeadline('azure', deadline, Promise.resolve('answer'))).resolves.toBe('answer');
    const failure = new Error('refused');
    await expect(withinDeadline('azure', deadline, Promise.reject(failure))).rejects.toBe(failure);
  });

  it.each(environments)(
    '%s: every attempt the API may make fits in its deadline, which ends before the function and API Gateway give up',
    (_name, config) => {
      const deadline = providerDeadlineMs(config);
      // The API function is rendered PROVIDER_TIMEOUT_MS and PROVIDER_MAX_ATTEMPTS as they are (infra's lambda-environment.ts).
      expect(config.PROVIDER_TIMEOUT_MS * config.PROVIDER_MAX_ATTEMPTS).toBeLessThanOrEqual(deadline);
      expect(deadline).toBeLessThan(config.API_TIMEOUT_SECONDS * 1000);
      expect(config.API_TIMEOUT_SECONDS * 1000).toBeLessThan(httpApiIntegrationTimeoutMs);
    },
  );
});
