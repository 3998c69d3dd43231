import type { RequestHandler } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { ApiError } from './errors.ts';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * True when `offered` equals one of `keys`. Compares fixed-length SHA-256 digests with `timingSafeEqual` and
 * always checks every key, so neither the key's length nor which key matched shows in the timing.
 */
export function matchesApiKey(offered: string, keys: readonly string[]): boolean {
  const offeredDigest = digest(offered);
  let matched = false;
  for (const key of keys) {
    if (timingSafeEqual(offeredDigest, digest(key))) matched = true;
  }
  return matched;
}

/** `x-api-key` on every route it guards; keys come from `apiKeys()` (cached by its provider). */
export function requireApiKey(apiKeys: () => Promise<readonly string[]>): RequestHandler {
  return async (req, _res, next) => {
    const offered = req.get('x-api-key');
    if (!offered) throw new ApiError(401, 'unauthorized', 'missing x-api-key header');
    if (!matchesApiKey(offered, await apiKeys())) {
      throw new ApiError(401, 'unauthorized', 'invalid API key');
    }
    next();
  };
}
