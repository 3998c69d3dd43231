import { imageContentTypes, type ImageContentType } from '@mc-vision/core/schemas';

/** The API's default limit (MAX_IMAGE_BYTES); the server has the last word and answers 413 above its own. */
export const maxImageBytes = 4_000_000;

export const acceptedImageTypes = imageContentTypes.join(',');

function isImageContentType(type: string): type is ImageContentType {
  return (imageContentTypes as readonly string[]).includes(type);
}

/** A reason to refuse the file before uploading it, or null when it may go. */
export function checkImageFile(file: { name: string; type: string; size: number }, maxBytes = maxImageBytes) {
  if (!isImageContentType(file.type)) {
    return `${file.name} is ${file.type || 'of an unknown type'}; choose a JPEG, PNG or WebP image.`;
  }
  if (file.size === 0) return `${file.name} is empty.`;
  if (file.size > maxBytes) {
    return `${file.name} is ${(file.size / 1e6).toFixed(1)} MB; the limit is ${(maxBytes / 1e6).toFixed(1)} MB.`;
  }
  return null;
}
