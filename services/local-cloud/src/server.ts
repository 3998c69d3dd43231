import type { Server } from 'node:http';
import type { Log } from './log.ts';

/** One running part of the local cloud: its name, where it answers if it listens, how to stop it. */
export interface Part {
  name: string;
  /** Absent for the parts that only run in-process (the outbox reader, the SDK clients, the data lock). */
  url?: string;
  /** What it is, as the start banner shows it. */
  description?: string;
  close(): Promise<void> | void;
}

/** A part that listens on loopback: what `pnpm start` lists and `LocalCloud.components` holds. */
export interface Component extends Part {
  url: string;
  description: string;
}

export const isComponent = (part: Part): part is Component =>
  part.url !== undefined && part.description !== undefined;

/** Stops the parts last started first, each even when one before it fails to stop. */
export async function closeParts(parts: readonly Part[], log: Log): Promise<void> {
  for (const part of [...parts].reverse()) {
    try {
      await part.close();
    } catch (error) {
      log({ component: part.name, level: 'error', message: 'did not stop cleanly', error: String(error) });
    }
  }
}

/** `server.listen` as a promise that rejects on EADDRINUSE and the like. */
export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stops accepting connections and cuts the open ones (keep-alive sockets of SDK clients included). */
export function stopServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
