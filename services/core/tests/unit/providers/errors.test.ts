import { describe, expect, it } from '@jest/globals';
import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import {
  GuardrailIntervenedError,
  InvalidImageError,
  retryAfterSeconds,
  retryAfterCappedFetch,
  toProviderError,
} from '../../../src/index.ts';

function awsError(name: string, status: number | undefined, headers: Record<string, string> = {}) {
  return Object.assign(new Error(`${name} happened`), {
    name,
    $metadata: { httpStatusCode: status },
    $response: { statusCode: status, headers },
  });
}

describe('retryAfterSeconds', () => {
  const now = Date.parse('2026-11-25T12:00:00Z');

  it('reads delta-seconds, HTTP dates and retry-after-ms', () => {
    expect(retryAfterSeconds({ 'retry-after': '30' }, now)).toBe(30);
    expect(retryAfterSeconds({ 'Retry-After': '1.5' }, now)).toBe(2);
    expect(retryAfterSeconds({ 'retry-after': 'Wed, 25 Nov 2026 12:01:00 GMT' }, now)).toBe(60);
    expect(retryAfterSeconds(new Headers({ 'retry-after-ms': '2500', 'retry-after': '9' }), now)).toBe(3);
  });

  it('ignores a missing or unreadable header', () => {
    expect(retryAfterSeconds({}, now)).toBeUndefined();
    expect(retryAfterSeconds(undefined, now)).toBeUndefined();
    expect(retryAfterSeconds({ 'retry-after': 'soon' }, now)).toBeUndefined();
  });
});

describe('toProviderError', () => {
  it.each([
    ['ThrottlingException', 400, 'ProviderThrottled'],
    ['TooManyRequestsException', 429, 'ProviderThrottled'],
    ['ServiceQuotaExceededException', 400, 'ProviderThrottled'],
    ['SomethingNew', 429, 'ProviderThrottled'],
    ['ServiceUnavailable', 503, 'ProviderUnavailable'],
    ['InternalServerException', 500, 'ProviderUnavailable'],
    ['ModelNotReadyException', 429, 'ProviderUnavailable'],
    ['TimeoutError', undefined, 'ProviderUnavailable'],
    ['SomethingNew', 502, 'ProviderUnavailable'],
    ['ModelError', 424, 'ProviderModelError'],
    ['ValidationException', 400, 'ProviderModelError'],
    ['SomethingNew', 404, 'ProviderModelError'],
  ])('maps AWS %s (%s) to %s', (name, status, expected) => {
    expect(toProviderError('bedrock', awsError(name, status)).name).toBe(expected);
  });

  it('maps connection failures to ProviderUnavailable', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(toProviderError('sagemaker', refused).name).toBe('ProviderUnavailable');
    expect(toProviderError('azure', new APIConnectionError({ message: 'fetch failed' })).name).toBe(
      'ProviderUnavailable',
    );
    expect(toProviderError('azure', new APIConnectionTimeoutError()).name).toBe('ProviderUnavailable');
  });

  it('maps openai API errors by status, keeping retry-after', () => {
    const throttled = toProviderError(
      'azure',
      APIError.generate(429, { message: 'slow down' }, undefined, new Headers({ 'retry-after': '4' })),
    );
    expect(throttled).toMatchObject({ name: 'ProviderThrottled', retryAfterSeconds: 4, statusCode: 429 });
    expect(toProviderError('azure', APIError.generate(500, undefined, 'boom', new Headers())).name).toBe(
      'ProviderUnavailable',
    );
    expect(toProviderError('azure', APIError.generate(422, undefined, 'bad', new Headers())).name).toBe(
      'ProviderModelError',
    );
  });

  it('passes named errors through and keeps the cause of mapped ones', () => {
    const blocked = new GuardrailIntervenedError('bedrock', 'blocked');
    expect(toProviderError('bedrock', blocked)).toBe(blocked);
    const invalid = new InvalidImageError('bad image');
    expect(toProviderError('bedrock', invalid)).toBe(invalid);
    const original = awsError('ThrottlingException', 400);
    expect(toProviderError('bedrock', original).cause).toBe(original);
  });

  it('treats an unknown failure as ProviderUnavailable', () => {
    expect(toProviderError('bedrock', new TypeError('x is undefined')).name).toBe('ProviderUnavailable');
    expect(toProviderError('bedrock', 'a string').name).toBe('ProviderUnavailable');
  });
});

describe('retryAfterCappedFetch', () => {
  const answering = (headers: Record<string, string>, status = 429) =>
    retryAfterCappedFetch(5_000, async () => new Response('{}', { status, headers }));

  it('tells openai not to retry when the service asks for a longer wait than the cap', async () => {
    const response = await answering({ 'retry-after': '3600' })('http://127.0.0.1/x');
    expect(response.headers.get('x-should-retry')).toBe('false');
    expect(response.headers.get('retry-after')).toBe('3600');
    expect(response.status).toBe(429);
  });

  it('leaves short waits and successes alone', async () => {
    expect(
      (await answering({ 'retry-after': '2' })('http://127.0.0.1/x')).headers.get('x-should-retry'),
    ).toBeNull();
    expect((await answering({})('http://127.0.0.1/x')).headers.get('x-should-retry')).toBeNull();
    expect(
      (await answering({ 'retry-after': '3600' }, 200)('http://127.0.0.1/x')).headers.get('x-should-retry'),
    ).toBeNull();
  });
});
