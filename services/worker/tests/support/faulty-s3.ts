import { S3Client } from '@aws-sdk/client-s3';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

// A proxy in front of s3rver that answers chosen GETs the way S3 fails: an error response in S3's XML shape
// (`SlowDown`, `AccessDenied`, …) or a connection dropped mid-request. Everything else goes through unchanged.

export type S3Fault = { status: number; code: string; message: string } | 'drop-connection';

export interface FaultyS3 {
  /** A real S3 client on the proxy, with the SDK's own retries off so every fault reaches the caller. */
  s3: S3Client;
  /** Fails the next GETs of `key`, one fault per request, in order. */
  failReads(key: string, ...faults: S3Fault[]): void;
  /** GETs of `key` so far, failed or not. */
  reads(key: string): number;
  close(): Promise<void>;
}

export async function startFaultyS3(target: string, region: string): Promise<FaultyS3> {
  const faults = new Map<string, S3Fault[]>();
  const gets: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://proxy').pathname);
    if (req.method === 'GET') gets.push(path);
    const queued = req.method === 'GET' ? [...faults].find(([key]) => path.endsWith(`/${key}`)) : undefined;
    const fault = queued?.[1].shift();
    if (fault === 'drop-connection') {
      req.socket.destroy();
      return;
    }
    if (fault) {
      res.writeHead(fault.status, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${fault.code}</Code>` +
          `<Message>${fault.message}</Message><RequestId>FAULT1</RequestId></Error>`,
      );
      return;
    }
    const upstream = request(
      `${target}${req.url}`,
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const s3 = new S3Client({
    region,
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    s3,
    failReads(key, ...list) {
      faults.set(key, [...(faults.get(key) ?? []), ...list]);
    },
    reads: (key) => gets.filter((path) => path.endsWith(`/${key}`)).length,
    async close() {
      s3.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
