import { describe, expect, it } from '@jest/globals';
import { loadApiKey, saveApiKey, takeKeyFromHash } from '../src/api-key.ts';

describe('takeKeyFromHash', () => {
  it('takes the key and leaves an empty fragment', () => {
    expect(takeKeyFromHash('#key=abc123')).toEqual({ key: 'abc123', hash: '' });
  });

  it('keeps the other fragment parameters', () => {
    expect(takeKeyFromHash('#view=history&key=abc&x=1')).toEqual({ key: 'abc', hash: '#view=history&x=1' });
  });

  it('decodes a percent-encoded key', () => {
    expect(takeKeyFromHash('#key=a%2Bb%2Fc%3D')).toEqual({ key: 'a+b/c=', hash: '' });
  });

  it('leaves a fragment without a key untouched', () => {
    expect(takeKeyFromHash('#section-2')).toEqual({ key: null, hash: '#section-2' });
    expect(takeKeyFromHash('')).toEqual({ key: null, hash: '' });
  });

  it('removes an empty key parameter without taking it', () => {
    expect(takeKeyFromHash('#key=')).toEqual({ key: null, hash: '' });
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
