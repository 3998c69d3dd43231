import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// What every server of the laptop platform checks before it answers: it listens on loopback only, but a web
// page in the owner's browser can still reach it — by a name of its own that resolves to 127.0.0.1 (DNS
// rebinding: the request carries that name in `Host`) or straight from its own origin (the request carries
// `Origin`). A request is the owner's when it names this machine's loopback address with the listener's
// port, and comes from no web page but the listener's own (or one it was told to trust). The API, the
// emulators, the model server, DynamoDB, S3 and SNS all apply this, each answering in its own error shape.
// The emulators' fault and admin routes need the per-run token on top (`Authorization: Bearer <token>`).

const loopbackNames = ['127.0.0.1', 'localhost', '[::1]'] as const;

/** `http://127.0.0.1:<port>`, `http://localhost:<port>`, `http://[::1]:<port>`: the listener's own origins. */
export function loopbackOrigins(port: number): string[] {
  return loopbackNames.map((name) => `http://${name}${port === 80 ? '' : `:${port}`}`);
}

export interface RequestHeaders {
  host?: string | undefined;
  origin?: string | undefined;
}

/**
 * Why a request to a loopback listener on `port` is not the owner's, or `undefined` when it may pass:
 * `Host` must be 127.0.0.1, localhost or [::1] with that port; `Origin`, when sent, one of the listener's own
 * origins or of `trustedOrigins`.
 */
export function foreignRequest(
  headers: RequestHeaders,
  port: number,
  trustedOrigins: readonly string[] = [],
): string | undefined {
  const host = headers.host?.toLowerCase();
  const hosts = loopbackOrigins(port).map((origin) => origin.slice('http://'.length));
  if (host === undefined || !hosts.includes(host)) {
    return `Host ${host ?? '(none)'} is not this machine: use ${hosts.join(', ')}`;
  }
  const origin = headers.origin;
  if (origin !== undefined && ![...loopbackOrigins(port), ...trustedOrigins].includes(origin)) {
    return `requests from the web page at ${origin} are not accepted here`;
  }
  return undefined;
}

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** True when `offered` is `secret`: fixed-length digests compared in constant time. */
export function matchesSecret(offered: string | undefined, secret: string): boolean {
  return offered !== undefined && timingSafeEqual(digest(offered), digest(secret));
}

/** True when an `Authorization` header is `Bearer <token>`. */
export function hasBearerToken(authorization: string | undefined, token: string): boolean {
  const offered = /^Bearer (\S+)$/i.exec(authorization ?? '')?.[1];
  return matchesSecret(offered, token);
}

/** A fresh random secret (a per-run token, a local credential). */
export const newSecret = (bytes = 24): string => randomBytes(bytes).toString('base64url');
