import { z } from 'zod';

// Values as the AWS JSON services write them: timestamps in epoch seconds, opaque page tokens; and the region
// and account an emulator names its ARNs with.

/** Epoch milliseconds → the protocol's epoch seconds. */
export function toEpochSeconds(ms: number): number {
  return Math.round(ms) / 1000;
}

/** An opaque page token (base64url JSON); the service checks it against the request it was issued for. */
export function encodePageToken(value: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** The token's value, or `undefined` when it is not one of ours (the service answers its own error). */
export function decodePageToken(token: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // not a token of ours
  }
  return undefined;
}

/** An emulator's region (`us-east-1` unless given). */
export const regionSchema = z
  .string()
  .regex(/^[a-z]{2}(-[a-z]+)+-\d$/)
  .default('us-east-1');

/** An emulator's account (`000000000000` unless given). */
export const accountIdSchema = z
  .string()
  .regex(/^\d{12}$/)
  .default('000000000000');
