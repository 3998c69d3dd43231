import { describe, expect, it } from '@jest/globals';
import { loadApiKey, saveApiKey, takeCodeFromHash } from '../src/api-key.ts';

describe('takeCodeFromHash', () => {
  it('takes the code and leaves an empty fragment', () => {
    expect(takeCodeFromHash('#code=abc123')).toEqual({ code: 'abc123', hash: '' });
  });

  it('keeps the other fragment parameters', () => {
    expect(takeCodeFromHash('#view=history&code=abc&x=1')).toEqual({
      code: 'abc',
      hash: '#view=history&x=1',
    });
  });

  it('decodes a percent-encoded code', () => {
    expect(takeCodeFromHash('#code=a%2Bb%2Fc%3D')).toEqual({ code: 'a+b/c=', hash: '' });
  });

  it('leaves a fragment without a code untouched', () => {
    expect(takeCodeFromHash('#section-2')).toEqual({ code: null, hash: '#section-2' });
    expect(takeCodeFromHash('')).toEqual({ code: null, hash: '' });
  });

  it('removes an empty code parameter without taking it', () => {
    expect(takeCodeFromHash('#code=')).toEqual({ code: null, hash: '' });
  });
});

describe('stored key', () => {
  function memoryStorage() {
    const values = new Map<string, string>();
    return {
      values,
      getItem: (name: string) => values.get(name) ?? null,
      setItem: (name: string, value: string) => void values.set(name, value),
      removeItem: (name: string) => void values.delete(name),
    };
  }

  it('round-trips a trimmed key and forgets an empty one', () => {
    const storage = memoryStorage();
    expect(loadApiKey(storage)).toBe('');
    saveApiKey(storage, '  k-1  ');
    expect(loadApiKey(storage)).toBe('k-1');
    saveApiKey(storage, '');
    expect(loadApiKey(storage)).toBe('');
    expect(storage.values.size).toBe(0);
  });
});
