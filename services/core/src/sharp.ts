import type Sharp from 'sharp';

let loading: Promise<typeof Sharp> | undefined;

/**
 * sharp, loaded on first use: its native library and version checks take tens of milliseconds to load, which a
 * Lambda's cold start, and every request that decodes no image, need not pay.
 */
export function loadSharp(): Promise<typeof Sharp> {
  return (loading ??= import('sharp').then((module) => module.default));
}
