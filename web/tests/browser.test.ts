import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Locator, Page } from 'playwright-core';
import { fixtureImagePath } from '@mc-vision/assets';
import { launchChromium, watchedPage, type Chromium, type WatchedPage } from './chromium.ts';
import { startPlatform, type Platform } from './platform.ts';

const pelican = fixtureImagePath('pelican.jpeg');
const pipelineSteps = [
  'Classify',
  'DescribeWithBedrock',
  'DescribeWithAzure',
  'BuildRecord',
  'SaveResult',
  'Notify',
];

/** Waits until the locator shows (playwright-core has no expect of its own). */
const shown = (locator: Locator, timeout = 10_000) => locator.waitFor({ state: 'visible', timeout });

describe('the UI in Chromium against the local platform', () => {
  let platform: Platform;
  let browser: Chromium;
  let page: Page;
  let watched: WatchedPage;

  beforeAll(async () => {
    platform = await startPlatform();
    browser = await launchChromium();
    // The API's Content-Security-Policy must not block anything the UI does: every violation is collected.
    // The API's Content-Security-Policy must not block anything the UI does: every violation is collected.
    watched = await watchedPage(browser.context);
    page = watched.page;
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.close();
  });

  it('takes the key from the fragment, uploads, analyses, routes, runs the pipeline and lists the history', async () => {
    await page.goto(`${platform.url}/#key=${encodeURIComponent(platform.apiKey)}`);
    await shown(page.getByRole('heading', { name: 'MC Vision' }));
    // The header names the classifier model /health reports.
    await shown(page.getByText('Local cloud · classifier darknet-tiny'));
    // The key leaves the address bar and stays in localStorage.
    expect(page.url()).toBe(`${platform.url}/`);
    expect(await page.evaluate(() => localStorage.getItem('mc-vision.apiKey'))).toBe(platform.apiKey);

    // Upload: the API's key and the image's real dimensions come back.
    await page.getByLabel(/choose or drop/i).setInputFiles(pelican);
    const uploaded = page.getByRole('definition').filter({ hasText: /^images\// });
    await shown(uploaded, 30_000);
    await shown(page.getByRole('img', { name: 'Preview of pelican.jpeg' }));
    expect(
      await page
        .getByRole('definition')
        .filter({ hasText: /^\d+ × \d+$/ })
        .count(),
    ).toBe(1);

    // Analysis with all three providers (the default).
    for (const provider of ['SageMaker', 'Bedrock', 'Azure']) {
      expect(await page.getByRole('checkbox', { name: provider }).isChecked()).toBe(true);
    }
    await page.getByRole('button', { name: 'Analyse' }).click();
    const record = page.getByRole('region', { name: /^Result/ });
    await shown(
      record.getByRole('list', { name: 'Classifier labels' }).getByText('pelican', { exact: true }),
      60_000,
    );
    expect(await record.getByRole('heading', { name: /^Result/ }).textContent()).toContain('complete');
    for (const provider of ['Bedrock', 'Azure']) {
      const card = record.getByRole('article', { name: `${provider} description` });
      expect((await card.locator('blockquote').textContent())?.trim()).not.toBe('');
      await shown(card.getByText('emulated', { exact: true }));
    }
    const requestIdOf = async () => (await record.locator('.meta code').first().textContent()) ?? '';
    const analysisId = await requestIdOf();

    // Route by cost: Azure is the cheap one.
    await page.getByRole('radio', { name: 'Cost' }).check();
    await page.getByRole('button', { name: 'Route' }).click();
    await shown(page.getByText(/^Routed to Azure/), 60_000);

    // Pipeline: every step succeeds, then the stored record is shown.
    await page.getByRole('button', { name: 'Start pipeline' }).click();
    await shown(page.getByText('SUCCEEDED', { exact: true }), 90_000);
    const steps = page.getByRole('table', { name: 'Pipeline steps' });
    for (const step of pipelineSteps) {
      expect(await steps.getByRole('row', { name: new RegExp(`^${step}\\b`) }).textContent()).toContain(
        'succeeded',
      );
    }
    expect(await steps.getByText(/^(failed|caught)$/).count()).toBe(0);
    await shown(record.locator('.meta', { hasText: 'pipeline' }));
    const pipelineId = await requestIdOf();
    expect(pipelineId).not.toBe(analysisId);

    // History, newest first; clicking an entry shows its record.
    const history = page.getByRole('list', { name: 'Recent results' });
    await shown(history.getByRole('button', { name: new RegExp(analysisId) }));
    expect(await history.getByRole('button').first().textContent()).toContain(pipelineId);
    await history.getByRole('button', { name: new RegExp(analysisId) }).click();
    await shown(record.locator('.meta code', { hasText: analysisId }));

    expect(watched.errors).toEqual([]);
    expect(await watched.cspViolations()).toEqual([]);
  }, 240_000);

  it('explains a rejected key', async () => {
    // A new page: on the open one, a new fragment alone would not reload the app.
    const other = await browser.context.newPage();
    await other.goto(`${platform.url}/#key=not-the-key`);
    await shown(other.getByRole('alert').filter({ hasText: 'The API rejected this key' }));
    await shown(other.getByRole('alert').filter({ hasText: 'unauthorized' }).first());
    await other.close();
  }, 60_000);
});
