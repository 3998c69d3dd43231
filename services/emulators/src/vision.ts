import sharp from 'sharp';
import type { ClassifierResponse, LabelScore } from '@mc-vision/core';

// What the LLM emulators share: the injected classifier, the image facts token estimates need, and the
// description a vision model would give, built from the classifier's labels (so a person can check it against
// the photo). The emulators never read hints from the prompt: they classify the image they were sent.

/** Classifies raw image bytes; the local cloud passes the model server's client. */
export type ClassifyImage = (bytes: Uint8Array, contentType: string) => Promise<ClassifierResponse>;

/** The JSON object the emulated model answers with. */
export interface ImageDescription {
  caption: string;
  tags: string[];
}

/** Test hook: rewrites the description before it leaves the emulated model (e.g. to carry PII). */
export type TransformDescription = (description: ImageDescription) => ImageDescription;

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif';

export interface ImageFacts {
  format: ImageFormat;
  contentType: `image/${ImageFormat}`;
  width: number;
  height: number;
}

const formats: readonly string[] = ['jpeg', 'png', 'webp', 'gif'];

/** Decodes the header; `undefined` when the bytes are not a JPEG, PNG, WebP or GIF image. */
export async function inspectImage(bytes: Uint8Array): Promise<ImageFacts | undefined> {
  try {
    const metadata = await sharp(bytes).metadata();
    const format = metadata.format;
    if (!format || !formats.includes(format)) return undefined;
    const { width, height } = metadata.autoOrient;
    if (!width || !height) return undefined;
    return { format: format as ImageFormat, contentType: `image/${format as ImageFormat}`, width, height };
  } catch {
    return undefined;
  }
}

/** `tabby_cat` → `tabby cat`; the first of comma-separated synonyms. */
export function cleanLabel(label: string): string {
  return (label.split(',')[0] ?? label).replace(/_/g, ' ').replace(/\s+/g, ' ').trim();
}

function withArticle(noun: string): string {
  const lower = noun.toLowerCase();
  const vowelSound = /^[aeiou]/.test(lower)
    ? !/^(uni|use|usu|eu|one)/.test(lower)
    : /^(hour|honest|honou?r)/.test(lower);
  return `${vowelSound ? 'an' : 'a'} ${noun}`;
}

function orList(nouns: string[]): string {
  const items = nouns.map(withArticle);
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`;
}

/**
 * The description a vision model would give from the classifier's view: a caption naming the most likely
 * subject (hedged when the classifier is unsure) and up to five tags, most likely first.
 */
export function describeFromLabels(labels: readonly LabelScore[]): ImageDescription {
  const ranked = [...labels]
    .sort((a, b) => b.score - a.score)
    .map((label) => ({ name: cleanLabel(label.label), score: label.score }))
    .filter(
      (label, index, all) => label.name && all.findIndex((other) => other.name === label.name) === index,
    );
  const [top, ...rest] = ranked;
  if (!top) return { caption: 'A photo whose subject could not be identified.', tags: [] };

  const alternatives = rest.filter((label) => label.score >= 0.1).map((label) => label.name);
  let caption: string;
  if (top.score >= 0.5) {
    caption = `A photo of ${withArticle(top.name)}.`;
    if (alternatives.length > 0) caption += ` It may also show ${orList(alternatives.slice(0, 2))}.`;
  } else {
    caption = `A photo that appears to show ${withArticle(top.name)}`;
    caption += alternatives.length > 0 ? `, though it could be ${orList(alternatives.slice(0, 2))}.` : '.';
  }
  const tags = [top, ...rest.filter((label) => label.score >= 0.02)]
    .slice(0, 5)
    .map((label) => label.name.toLowerCase());
  return { caption, tags };
}

/** Rough token count of text (about four characters per token for English). */
export function textTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
