import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig, toEnvironment } from '../../src/index.ts';

describe('loadConfig', () => {
  it('gives a laptop a working configuration with no variables set', () => {
    const config = loadConfig({});
    expect(config.MODE).toBe('local');
    expect(config.MAX_IMAGE_BYTES).toBe(4_000_000);
    expect(config.CORS_ORIGINS).toEqual(['http://127.0.0.1:3000', 'http://localhost:3000']);
  });

  it('coerces numbers and splits lists', () => {
    const config = loadConfig({ PORT: '8081', CORS_ORIGINS: 'https://a.example, https://b.example,' });
    expect(config.PORT).toBe(8081);
    expect(config.CORS_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
  });

  it('treats empty strings as unset', () => {
    const config = loadConfig({ PORT: '', S3_ENDPOINT: '' });
    expect(config.PORT).toBe(3000);
    expect(config.S3_ENDPOINT).toBeUndefined();
  });

  it('lists every invalid variable at once', () => {
    let caught: unknown;
    try {
      loadConfig({ MODE: 'cloud', PORT: 'eighty', S3_ENDPOINT: 'not a url', UPLOAD_URL_TTL_SECONDS: '3600' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(problems).toHaveLength(4);
    for (const name of ['MODE', 'PORT', 'S3_ENDPOINT', 'UPLOAD_URL_TTL_SECONDS']) {
      expect(problems.some((p) => p.startsWith(`${name}:`))).toBe(true);
      expect((caught as ConfigError).message).toContain(name);
    }
  });

  it('ignores variables it does not know', () => {
    expect(() => loadConfig({ HOME: '/root', PATH: '/bin' })).not.toThrow();
  });

  it('renders configuration back into environment variables that load to the same values', () => {
    const config = loadConfig({ MODE: 'aws', CORS_ORIGINS: 'https://a.example,https://b.example' });
    expect(loadConfig(toEnvironment(config))).toEqual(config);
  });
});
