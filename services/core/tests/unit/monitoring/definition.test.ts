import { describe, expect, it } from '@jest/globals';
import {
  buildMonitoringDefinition,
  customMetrics,
  loadConfig,
  monitoredResources,
  recordMetrics,
  withLocalPeriod,
  type ResultRecord,
} from '../../../src/index.ts';

const config = loadConfig({});
const definition = buildMonitoringDefinition(monitoredResources(config), config);
const alarm = (id: string) => definition.alarms.find((each) => each.id === id)!;

describe('the monitoring definition', () => {
  it('names every alarm once, under the environment prefix, and lists each on the dashboard', () => {
    const names = definition.alarms.map((each) => each.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name.startsWith('mc-vision-dev-')).toBe(true);
    expect(definition.dashboard.alarms).toEqual(names);
    expect(definition.dashboard.name).toBe('mc-vision-dev-overview');
  });

  it("gives each provider a throttled and an unavailable alarm over the share of records, from the config's percent", () => {
    const other = loadConfig({ ALARM_PROVIDER_UNAVAILABLE_PERCENT: '35' });
    const stricter = buildMonitoringDefinition(monitoredResources(other), other);
    for (const provider of ['sagemaker', 'bedrock', 'azure']) {
      expect(alarm(`${provider}-throttled`)).toMatchObject({
        metric: {
          namespace: 'MCVision',
          name: 'ProviderThrottled',
          dimensions: { service: 'mc-vision', provider },
        },
        statistic: 'Average',
        threshold: 0.2,
      });
      expect(stricter.alarms.find((each) => each.id === `${provider}-unavailable`)?.threshold).toBe(0.35);
    }
  });

  it('watches the local names: the functions, the state machine, the endpoint and the HTTP API', () => {
    expect(alarm('worker-errors').metric.dimensions).toEqual({ FunctionName: 'mc-vision-dev-worker' });
    expect(alarm('pipeline-failed').metric.dimensions).toEqual({ StateMachineArn: config.STATE_MACHINE_ARN });
    expect(alarm('classifier-5xx').metric.dimensions).toEqual({
      EndpointName: 'mc-vision-classifier',
      VariantName: 'AllTraffic',
    });
    expect(alarm('api-5xx').metric.dimensions).toEqual({ ApiId: 'local', Stage: '$default' });
  });

  it('takes the local period in place of each alarm’s own, and nothing else', () => {
    const local = withLocalPeriod(alarm('bedrock-unavailable'), 5);
    expect(local).toEqual({ ...alarm('bedrock-unavailable'), period: 5 });
    expect(withLocalPeriod(alarm('bedrock-unavailable'), undefined)).toBe(alarm('bedrock-unavailable'));
  });
});

describe('recordMetrics', () => {
  const record: ResultRecord = {
    requestId: 'r-1',
    imageKey: 'images/a.jpg',
    source: 'pipeline',
    status: 'partial',
    createdAt: '2025-01-01T00:00:00.000Z',
    expiresAt: 1,
    results: {
      sagemaker: { model: 'm', labels: [], latencyMs: 1 },
      azure: {
        model: 'gpt',
        caption: 'c',
        tags: [],
        guardrail: { action: 'ANONYMIZED', findings: [] },
        usage: { inputTokens: 1, outputTokens: 1 },
        costUsd: 0,
        latencyMs: 1,
        emulated: true,
      },
    },
    errors: { bedrock: { code: 'ProviderUnavailable', message: 'bedrock: unavailable (503)' } },
  };

  it('says per provider whether it ended throttled or unavailable, per describer whether its guardrail intervened', () => {
    const values = Object.fromEntries(
      recordMetrics(record).map((each) => [
        [each.name, ...Object.values(each.dimensions)].join(' '),
        each.value,
      ]),
    );
    expect(values).toEqual({
      'ProviderThrottled sagemaker': 0,
      'ProviderUnavailable sagemaker': 0,
      'ProviderThrottled bedrock': 0,
      'ProviderUnavailable bedrock': 1,
      'ProviderThrottled azure': 0,
      'ProviderUnavailable azure': 0,
      'GuardrailInterventions bedrock': 0,
      'GuardrailInterventions azure': 1,
      [customMetrics.partialRecords]: 1,
      [customMetrics.failedRecords]: 0,
    });
  });

  it('leaves out the providers the record did not ask', () => {
    const { errors: _errors, ...complete } = record;
    const only = {
      ...complete,
      status: 'complete' as const,
      results: { sagemaker: record.results.sagemaker },
    };
    expect(recordMetrics(only).map((each) => each.dimensions.provider ?? '-')).toEqual([
      'sagemaker',
      'sagemaker',
      '-',
      '-',
    ]);
  });
});
