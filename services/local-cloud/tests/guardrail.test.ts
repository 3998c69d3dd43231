import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { guardrailPolicy } from '@mc-vision/core';
import type { ImageDescription } from '@mc-vision/emulators';
import { startTestCloud, uploadPelican, waitForPipeline, type TestCloud } from './support.ts';

// The emulated LLMs' description is made to carry personal data (the emulators' test hook); the guardrail
// emulator must then treat it exactly as core's policy says, for Bedrock (Converse with the guardrail) and for
// Azure (its answer checked with ApplyGuardrail), in a synchronous analysis and in the pipeline.

const email = 'pelican.fan@example.com';
const card = '4111 1111 1111 1111'; // a test Visa number: passes the Luhn check

const actionFor = (type: string) =>
  guardrailPolicy.piiEntities.find((entity) => entity.type === type)?.action;

describe('the guardrail on emulated descriptions', () => {
  let local: TestCloud;
  let key: string;
  let extra = '';
  const transformDescription = (description: ImageDescription): ImageDescription => ({
    ...description,
    caption: `${description.caption}${extra}`,
  });

  beforeAll(async () => {
    local = await startTestCloud({ transformDescription });
    key = await uploadPelican(local.api);
  }, 60_000);

  afterAll(async () => {
    await local?.close();
  });

  it('follows the policy: e-mail addresses are anonymized, card numbers blocked', () => {
    expect(actionFor('EMAIL')).toBe('ANONYMIZE');
    expect(actionFor('CREDIT_DEBIT_CARD_NUMBER')).toBe('BLOCK');
  });

  it('masks an e-mail address as {EMAIL} and keeps the rest of the description', async () => {
    extra = ` Prints of this photo: ${email}.`;
    const { status, body } = await local.api.post('/v1/analyses', { key });
    expect(status).toBe(200);
    expect(body.status).toBe('complete');
    for (const provider of ['bedrock', 'azure']) {
      const description = body.results[provider];
      expect(description.caption).toMatch(/pelican/i);
      expect(description.caption).toContain('Prints of this photo: {EMAIL}.');
      expect(JSON.stringify(description)).not.toContain(email);
      expect(description.guardrail).toEqual({
        action: 'ANONYMIZED',
        findings: [{ policy: 'pii', type: 'EMAIL', action: 'ANONYMIZED' }],
      });
    }
  }, 30_000);

  it("masks a person's name in the caption as {NAME}, as the policy says", async () => {
    expect(actionFor('NAME')).toBe('ANONYMIZE');
    extra = ' Photographed by Ana Lopez.';
    const { status, body } = await local.api.post('/v1/analyses', { key });
    expect(status).toBe(200);
    expect(body.status).toBe('complete');
    for (const provider of ['bedrock', 'azure']) {
      const description = body.results[provider];
      expect(description.caption).toMatch(/^A photo .*pelican.* Photographed by \{NAME\}\.$/);
      expect(JSON.stringify(description)).not.toContain('Ana Lopez');
      expect(description.guardrail).toEqual({
        action: 'ANONYMIZED',
        findings: [{ policy: 'pii', type: 'NAME', action: 'ANONYMIZED' }],
      });
    }
  }, 30_000);

  it('blocks a description carrying a card number, with GuardrailIntervened in the record', async () => {
    extra = ` Prints of this photo: ${email}, paid with card ${card}.`;
    const { status, body } = await local.api.post('/v1/analyses', { key });
    expect(status).toBe(200);
    expect(body.status).toBe('partial'); // the classifier's labels are kept
    expect(body.results.sagemaker.labels[0].label).toBe('pelican');
    expect(body.results.bedrock).toBeUndefined();
    expect(body.results.azure).toBeUndefined();
    for (const provider of ['bedrock', 'azure']) {
      expect(body.errors[provider].code).toBe('GuardrailIntervened');
      expect(body.errors[provider].message).toMatch(/CREDIT_DEBIT_CARD_NUMBER/);
    }
    expect(JSON.stringify(body)).not.toContain(card);
    expect(JSON.stringify(body)).not.toContain(email);
  }, 30_000);

  it("ends a description that trips the content policy as Azure's content filter in the pipeline's record", async () => {
    extra = ' A gory massacre.';
    const started = await local.api.post('/v1/pipelines', { key, requestId: 'content-filter-1' });
    expect(started.status).toBe(202);
    const finished = await waitForPipeline(local.api, 'content-filter-1');
    expect(finished.status).toBe('SUCCEEDED');
    const record = (await local.api.get('/v1/results/content-filter-1')).body;
    expect(record.status).toBe('partial');
    expect(record.errors.azure).toEqual({
      code: 'GuardrailIntervened',
      message: "azure: Azure OpenAI's content filter stopped the answer: violence high",
    });
    // Bedrock's guardrail blocks the same description under the same policy (VIOLENCE).
    expect(record.errors.bedrock.code).toBe('GuardrailIntervened');
    expect(record.errors.bedrock.message).toMatch(/content:VIOLENCE:BLOCKED/);
  }, 60_000);

  it('blocks it in the pipeline too: the Describe steps are caught, the record is saved and notified', async () => {
    extra = ` Card ${card}.`;
    const started = await local.api.post('/v1/pipelines', { key, requestId: 'guardrail-card' });
    expect(started.status).toBe(202);
    const finished = await waitForPipeline(local.api, 'guardrail-card');
    expect(finished.status).toBe('SUCCEEDED');
    const steps = Object.fromEntries(
      finished.steps.map((step: { name: string; status: string; attempts: number }) => [step.name, step]),
    );
    // GuardrailIntervened is not retried: one attempt, then the Catch.
    expect(steps.DescribeWithBedrock).toMatchObject({ status: 'caught', attempts: 1 });
    expect(steps.DescribeWithAzure).toMatchObject({ status: 'caught', attempts: 1 });
    expect(steps.SaveResult.status).toBe('succeeded');
    expect(steps.Notify.status).toBe('succeeded');
    const record = (await local.api.get('/v1/results/guardrail-card')).body;
    expect(record).toMatchObject({
      status: 'partial',
      errors: { bedrock: { code: 'GuardrailIntervened' }, azure: { code: 'GuardrailIntervened' } },
    });
    expect(JSON.stringify(record)).not.toContain(card);
  }, 60_000);
});
