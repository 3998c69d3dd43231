// s3rver and dynalite ship no types. Ours are referenced here, not only listed in tsconfig, so that packages
// that type-check this one (web's tests) see them too.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="../../../types/emulators.d.ts" />
import dynalite from 'dynalite';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { guardServer, notTheOwners, readBody, replay, signatureProblem } from './guard.ts';
import { listen, stopServer, type Component } from './server.ts';
import type { Credentials, SignatureProblem } from './sigv4.ts';

/** dynalite's own request limit. */
const maxRequestBytes = 16 * 1024 * 1024;

/** DynamoDB's answers to a request it refuses (AWS JSON 1.0). */
const refusals: Record<SignatureProblem, [number, string, string]> = {
  missing: [400, 'MissingAuthenticationTokenException', 'Request is missing Authentication Token'],
  malformed: [
    400,
    'IncompleteSignatureException',
    'The request signature does not conform to AWS standards.',
  ],
  unknownKey: [400, 'UnrecognizedClientException', 'The security token included in the request is invalid.'],
  mismatch: [
    400,
    'InvalidSignatureException',
    'The request signature we calculated does not match the signature you provided.',
  ],
  expired: [400, 'InvalidSignatureException', 'Signature expired or not yet current.'],
};

function refuse(res: ServerResponse, status: number, type: string, message: string): void {
  const body = JSON.stringify({ __type: `com.amazon.coral.service#${type}`, message });
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

export interface LocalDynamoDbOptions {
  /** The tables live here, in LevelDB. */
  dir: string;
  /** Only requests signed with these are served. */
  credentials: Credentials;
}

/**
 * DynamoDB (dynalite) on loopback, its tables kept in LevelDB under `dir`, serving only the owner's requests
 * (loopback Host, no foreign Origin) signed with `credentials`.
 */
export async function startDynamoDb(options: LocalDynamoDbOptions): Promise<Component> {
  const server = dynalite({ path: options.dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  guardServer(server, async (req, res, pass) => {
    const foreign = notTheOwners(req);
    if (foreign) return refuse(res, 403, 'AccessDeniedException', foreign);
    // The signature covers the body: read it first, then hand dynalite the request with it.
    const body = await readBody(req, maxRequestBytes);
    if (!body) return refuse(res, 413, 'ValidationException', 'Request is too large');
    const problem = await signatureProblem(req, 'dynamodb', options.credentials, body);
    if (problem) return refuse(res, ...refusals[problem]);
    pass(replay(req, body));
  });
  await listen(server, 0, '127.0.0.1');
  return {
    name: 'dynamodb',
    description: 'dynalite',
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    // dynalite closes its database once the HTTP server has closed.
    close: () => stopServer(server),
  };
}
