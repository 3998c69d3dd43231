import { buildApp } from 'fauxqs';
import { randomUUID } from 'node:crypto';
import { guardServer, notTheOwners, xmlText } from './guard.ts';
import type { Component } from './server.ts';

// SNS with SQS (fauxqs) on loopback. fauxqs keeps topics and queues in memory: they are created again at every
// start (notifications.ts), and the outbox file is what lasts.

/**
 * SNS and SQS (fauxqs) on 127.0.0.1 (its own start helper would listen on every interface), serving only the
 * owner's requests (loopback Host, no foreign Origin); refused ones get 403 in the protocol they came in:
 * SQS's JSON (`X-Amz-Target`), else SNS's query-protocol XML.
 */
export async function startSns(): Promise<Component> {
  const app = buildApp({ logger: false });
  guardServer(app.server, (req, res, pass) => {
    const foreign = notTheOwners(req);
    if (!foreign) return pass(req);
    const json = req.headers['x-amz-target'] !== undefined;
    const body = json
      ? JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', message: foreign })
      : '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>' +
        `<Code>AuthorizationError</Code><Message>${xmlText(foreign)}</Message></Error>` +
        `<RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
    res.writeHead(403, {
      'content-type': json ? 'application/x-amz-json-1.0' : 'text/xml',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return { name: 'sns', description: 'fauxqs', url: address, close: () => app.close() };
}
