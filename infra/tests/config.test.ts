import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '@mc-vision/core/config/index';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envDir, loadDeployConfig } from '../src/config';

function envFileWith(name: 'dev' | 'prod', extra: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mcv-env-'));
  writeFileSync(join(dir, `${name}.env`), `${readFileSync(join(envDir, `${name}.env`), 'utf8')}\n${extra}\n`);
  return dir;
}

const keysOf = (name: string) =>
  readFileSync(join(envDir, `${name}.env`), 'utf8')
    .split('\n')
    .filter((line) => /^[A-Z]/.test(line))
    .map((line) => line.slice(0, line.indexOf('=')))
    .sort();

describe('environment configuration', () => {
  it('loads dev and prod through the core schema; they set the same variables to other values', () => {
    const dev = loadDeployConfig('dev', { overrides: {} });
    const prod = loadDeployConfig('prod', { overrides: {} });
    expect(dev.DEPLOY_ENV).toBe('dev');
    expect(prod.DEPLOY_ENV).toBe('prod');
    expect(keysOf('dev')).toEqual(keysOf('prod'));
    expect(prod.LOG_RETENTION_DAYS).toBeGreaterThan(dev.LOG_RETENTION_DAYS);
  });

  it('asks no quota a new account does not have (docs/deployment.md, "Quotas")', () => {
    // Reserved or provisioned Lambda concurrency needs a concurrency quota above 100, which new accounts
    // often lack (10); SageMaker Serverless concurrency counts against 10 in some accounts, dev's and prod's
    // endpoints together when they share one. An empty value means unset (the account's unreserved pool).
    for (const env of ['dev', 'prod'] as const) {
      const config = loadDeployConfig(env, { overrides: {} });
      expect(config.API_RESERVED_CONCURRENCY).toBeUndefined();
      expect(config.WORKER_RESERVED_CONCURRENCY).toBeUndefined();
      expect(config.API_PROVISIONED_CONCURRENCY).toBe(0);
    }
    const dev = loadDeployConfig('dev', { overrides: {} });
    const prod = loadDeployConfig('prod', { overrides: {} });
    expect(dev.SAGEMAKER_MAX_CONCURRENCY + prod.SAGEMAKER_MAX_CONCURRENCY).toBeLessThanOrEqual(10);
  });

  it('refuses a key the schema does not know (a typo would silently keep the default)', () => {
    const dir = envFileWith('dev', 'ALARM_API_ERORRS=3');
    expect(() => loadDeployConfig('dev', { dir, overrides: {} })).toThrow(ConfigError);
    expect(() => loadDeployConfig('dev', { dir, overrides: {} })).toThrow(
      /ALARM_API_ERORRS: not a configuration variable/,
    );
  });

  it('refuses a file that names another environment', () => {
    const dir = envFileWith('dev', 'DEPLOY_ENV=prod');
    expect(() => loadDeployConfig('dev', { dir, overrides: {} })).toThrow(/DEPLOY_ENV: must be "dev"/);
  });

  it('lists every invalid value at once', () => {
    const dir = envFileWith('prod', 'LOG_RETENTION_DAYS=31\nSAGEMAKER_MEMORY_MB=1000\nAWS_ACCOUNT_ID=12');
    try {
      loadDeployConfig('prod', { dir, overrides: {} });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect((error as ConfigError).problems.map((p) => p.split(':')[0]).sort()).toEqual([
        'AWS_ACCOUNT_ID',
        'LOG_RETENTION_DAYS',
        'SAGEMAKER_MEMORY_MB',
      ]);
    }
  });

  it('refuses an alarm period standard-resolution metrics cannot fill (10 s, 30 s, 90 s)', () => {
    for (const period of ['10', '30', '90']) {
      const dir = envFileWith('dev', `ALARM_PERIOD_SECONDS=${period}`);
      expect(() => loadDeployConfig('dev', { dir, overrides: {} })).toThrow(
        /ALARM_PERIOD_SECONDS: must be a multiple of 60/,
      );
    }
    const dir = envFileWith('dev', 'ALARM_PERIOD_SECONDS=120');
    expect(loadDeployConfig('dev', { dir, overrides: {} }).ALARM_PERIOD_SECONDS).toBe(120);
  });

  it('takes only IMAGE_TAG from the environment, so a shell cannot redirect a deployment', () => {
    const config = loadDeployConfig('dev', {
      overrides: {
        IMAGE_TAG: 'sha-4f2a9c1',
        AWS_ACCOUNT_ID: '999999999999',
        S3_ENDPOINT: 'http://127.0.0.1:4569',
      },
    });
    expect(config.IMAGE_TAG).toBe('sha-4f2a9c1');
    expect(config.AWS_ACCOUNT_ID).not.toBe('999999999999');
    expect(config.S3_ENDPOINT).toBeUndefined();
  });
});
