import type { Server } from 'node:http';

/** A running component: where it answers and how to stop it. */
export interface LocalServer {
  url: string;
  close(): Promise<void>;
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
