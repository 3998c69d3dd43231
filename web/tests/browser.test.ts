import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axe from 'axe-core';
import type { Locator, Page } from 'playwright-core';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/** axe-core's WCAG 2 A and AA rules on the page as it is: each violation as `rule: target, …`. */
async function accessibilityViolations(page: Page): Promise<string[]> {
  // Evaluated, not added as a <script>: the API's Content-Security-Policy rightly refuses inline scripts.
  await page.evaluate(axe.source);
  return page.evaluate(async () => {
    const { violations } = await (window as unknown as { axe: typeof axe }).axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return violations.map(
      (violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`,
    );
  });
}

/** How far the page, and the pipeline's steps table, reach past the viewport's width (0: nothing to scroll). */
const overflow = (page: Page) =>
  page.evaluate(() => {
    const table = document.querySelector('table');
    return {
      page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      table: table
        ? Math.max(0, table.getBoundingClientRect().right - document.documentElement.clientWidth)
        : -1,
      tableScroll: table ? table.scrollWidth - table.clientWidth : -1,
    };
  });

const widths = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } };

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

  it('signs in with the one-time link, uploads, analyses, routes, runs the pipeline and lists the history', async () => {
    await page.goto(platform.signInUrl);
    await shown(page.getByRole('heading', { name: 'MC Vision' }));
    // The header names the classifier model /health reports.
    await shown(page.getByText('Local cloud · classifier darknet-tiny'));
    // The code leaves the address bar; the key it was exchanged for is kept for this tab only.
    await shown(page.getByText('Kept for this tab only: closing it forgets the key.'));
    expect(page.url()).toBe(`${platform.url}/`);
    expect(
      await page.evaluate(() => [
        sessionStorage.getItem('mc-vision.apiKey'),
        localStorage.getItem('mc-vision.apiKey'),
      ]),
    ).toEqual([platform.apiKey, null]);

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

  it('meets WCAG 2 AA at desktop and phone widths, with nothing to scroll sideways on a phone', async () => {
    // The page as the flow above left it: a record, the pipeline's steps, the history.
    for (const [name, size] of Object.entries(widths)) {
      await page.setViewportSize(size);
      const path = join(tmpdir(), `mc-vision-ui-${size.width}.png`);
      await page.screenshot({ path, fullPage: true });
      console.log(`${name} (${size.width} px): ${path}`);
      expect(await accessibilityViolations(page)).toEqual([]);
      expect(await overflow(page)).toEqual({ page: 0, table: 0, tableScroll: 0 });
    }
  }, 60_000);

  it('explains a sign-in link that was used already, and a rejected key', async () => {
    // A new page: on the open one, a new fragment alone would not reload the app.
    const other = await browser.context.newPage();
    await other.goto(platform.signInUrl);
    await shown(other.getByRole('alert').filter({ hasText: 'this sign-in link has been used already' }));
    expect(await other.evaluate(() => sessionStorage.getItem('mc-vision.apiKey'))).toBeNull();
    await other.getByLabel('API key').fill('not-the-key-0123456789');
    await other.getByRole('button', { name: 'Save key' }).click();
    await shown(other.getByRole('alert').filter({ hasText: 'The API rejected this key' }));
    await shown(other.getByRole('alert').filter({ hasText: 'unauthorized' }).first());
    await other.setViewportSize(widths.phone);
    expect(await accessibilityViolations(other)).toEqual([]);
    await other.close();
  }, 60_000);

  it('leaves no working key in the browser’s history', async () => {
    const visited = await browser.history();
    // Chromium keeps the address as it was opened, fragment and all: the link's code is there, spent.
    expect(visited).toContain(platform.signInUrl);
    expect(visited.filter((url) => url.includes(platform.apiKey))).toEqual([]);
    const code = new URL(platform.signInUrl).hash.slice('#code='.length);
    const again = await fetch(`${platform.url}/local/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code }),
    });
    expect(again.status).toBe(401);
  }, 60_000);
});
