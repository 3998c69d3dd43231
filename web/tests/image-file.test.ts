import { describe, expect, it } from '@jest/globals';
import { checkImageFile, maxImageBytes } from '../src/image-file.ts';

describe('checkImageFile', () => {
  it('accepts JPEG, PNG and WebP within the size limit', () => {
    for (const type of ['image/jpeg', 'image/png', 'image/webp']) {
      expect(checkImageFile({ name: 'a', type, size: 1000 })).toBeNull();
    }
    expect(checkImageFile({ name: 'a', type: 'image/png', size: maxImageBytes })).toBeNull();
  });

  it('refuses other types, naming the file', () => {
    expect(checkImageFile({ name: 'anim.gif', type: 'image/gif', size: 10 })).toBe(
      'anim.gif is image/gif; choose a JPEG, PNG or WebP image.',
    );
    expect(checkImageFile({ name: 'blob', type: '', size: 10 })).toContain('unknown type');
  });

  it('refuses empty and oversized files', () => {
    expect(checkImageFile({ name: 'e.png', type: 'image/png', size: 0 })).toBe('e.png is empty.');
    expect(checkImageFile({ name: 'big.jpg', type: 'image/jpeg', size: 5_200_000 })).toBe(
      'big.jpg is 5.2 MB; the limit is 4.0 MB.',
    );
  });
});
