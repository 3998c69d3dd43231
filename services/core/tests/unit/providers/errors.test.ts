import { describe, expect, it } from '@jest/globals';
import { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { GuardrailIntervenedError, InvalidImageError } from '../../../src/index.ts';
import { retryAfterCappedFetch } from '../../../src/providers/azure.ts';
import { retryAfterSeconds, toProviderError } from '../../../src/providers/errors.ts';

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

describe('toProviderError messages', () => {
  const leak = 'User: arn:aws:sts::123456789012:assumed-role/mc-vision-worker/fn is not authorized';

  it('keep one clean message per category, and the upstream text only in the cause', () => {
    const denied = Object.assign(awsError('AccessDeniedException', 403), { message: leak });
    const mapped = toProviderError('bedrock', denied);
    expect(mapped).toMatchObject({
      name: 'ProviderModelError',
      message: 'bedrock: access denied (AccessDeniedException)',
    });
    expect(mapped.message).not.toContain('123456789012');
    expect(mapped.cause).toBe(denied);
    expect((mapped.cause as Error).message).toBe(leak);
  });

  it.each([
    ['ThrottlingException', 400, 'bedrock: throttled (ThrottlingException)'],
    ['InternalServerException', 500, 'bedrock: unavailable (InternalServerException)'],
    ['ResourceNotFoundException', 404, 'bedrock: not found (ResourceNotFoundException)'],
    ['UnrecognizedClientException', 400, 'bedrock: access denied (UnrecognizedClientException)'],
    ['ModelError', 424, 'bedrock: model error (ModelError)'],
    ['ValidationException', 400, 'bedrock: request rejected (ValidationException)'],
    ['SomethingNew', 403, 'bedrock: access denied (SomethingNew)'],
    ['not an identifier: 123456789012', 400, 'bedrock: request rejected (Error)'],
  ])('names AWS %s (%s) as %j', (name, status, message) => {
    const error = Object.assign(awsError(name, status), { message: `${leak} (${name})` });
    expect(toProviderError('bedrock', error).message).toBe(message);
  });

  it('names a connection failure by its code', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:443'), { code: 'ECONNREFUSED' });
    expect(toProviderError('sagemaker', refused).message).toBe('sagemaker: unavailable (ECONNREFUSED)');
    expect(toProviderError('sagemaker', new TypeError('secret is undefined')).message).toBe(
      'sagemaker: call failed (TypeError)',
    );
  });

  it('names openai failures by status and error code, never by the service text', () => {
    const openAi = (status: number, code: string | undefined) =>
      toProviderError(
        'azure',
        APIError.generate(
          status,
          { error: { code, message: `${leak} (${status})` } },
          undefined,
          new Headers(),
        ),
      ).message;
    expect(openAi(429, undefined)).toBe('azure: throttled (429)');
    expect(openAi(401, undefined)).toBe('azure: access denied (401)');
    expect(openAi(404, 'DeploymentNotFound')).toBe('azure: not found (404 DeploymentNotFound)');
    expect(openAi(400, 'content_filter')).toBe(
      'azure: the content filter blocked the request (400 content_filter)',
    );
    expect(openAi(400, 'invalid value with spaces')).toBe('azure: request rejected (400)');
    expect(openAi(503, undefined)).toBe('azure: unavailable (503)');
    expect(toProviderError('azure', new APIConnectionTimeoutError()).message).toBe(
      'azure: unavailable (timed out)',
    );
    expect(toProviderError('azure', new APIConnectionError({ message: leak })).message).toBe(
      'azure: unavailable (no response)',
    );
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
