import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import { z } from 'zod';
import { awsJsonActionFor, awsJsonProtocol, validationMessage } from '../src/aws-json/index.ts';
import { stopHttpServer } from '../src/http.ts';

// The AWS JSON protocol module on its own, with a toy service: what every emulator built on it answers.

const protocol = awsJsonProtocol({ targetPrefix: 'ToyService_20240101', version: '1.1', maxBodyBytes: 1024 });
const action = awsJsonActionFor<{ greeted: string[] }>();
const actions = {
  Greet: action(z.strictObject({ name: z.string().min(1).max(5) }), async (context, { name }) => {
    if (name === 'error') throw protocol.error('NotFoundException', 'no such name');
    context.greeted.push(name);
    return { greeting: `hello ${name}` };
  }),
};

describe('the AWS JSON protocol module', () => {
  const context = { greeted: [] as string[] };
  let server: Server;
  let url: string;
  beforeAll(async () => ({ server, url } = await protocol.listen({}, actions, context)));
  afterAll(() => stopHttpServer(server));

  const call = (target: string, body: string) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': protocol.contentType, 'x-amz-target': target },
      body,
    });

  it('dispatches on X-Amz-Target and answers JSON in the version’s content type, with a request id', async () => {
    const response = await call('ToyService_20240101.Greet', '{"name":"Ada"}');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/x-amz-json-1.1');
    expect(response.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await response.json()).toEqual({ greeting: 'hello Ada' });
    expect(context.greeted).toEqual(['Ada']);
  });

  it('answers the errors the SDKs map by __type, each with a request id', async () => {
    const cases: [string, string, number, string][] = [
      ['ToyService_20240101.Delete', '{}', 400, 'UnknownOperationException'],
      ['OtherService.Greet', '{}', 400, 'UnknownOperationException'],
      ['ToyService_20240101.Greet', 'not json', 400, 'SerializationException'],
      ['ToyService_20240101.Greet', '[1]', 400, 'SerializationException'],
      ['ToyService_20240101.Greet', '{"name":"too long"}', 400, 'ValidationException'],
      ['ToyService_20240101.Greet', JSON.stringify({ name: 'x'.repeat(2000) }), 413, 'ValidationException'],
      ['ToyService_20240101.Greet', '{"name":"error"}', 400, 'NotFoundException'],
    ];
    for (const [target, body, status, type] of cases) {
      const response = await call(target, body);
      const answer = (await response.json()) as { __type: string };
      expect({ target, status: response.status, type: answer.__type }).toEqual({ target, status, type });
      expect(response.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(context.greeted).toEqual(['Ada']);
  });

  it('words validation errors as AWS does', () => {
    const parsed = z.object({ name: z.string().max(2), size: z.number() }).safeParse({ name: 'abc' });
    expect(validationMessage(parsed.error!.issues)).toBe(
      "2 validation errors detected: Value at 'name' failed to satisfy constraint: Too big: expected string to have <=2 characters; Value at 'size' failed to satisfy constraint: Invalid input: expected number, received undefined",
    );
  });
});
