import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axe from 'axe-core';
import type { Locator, Page } from 'playwright-core';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtureImagePath } from '@mc-vision/assets';
import { SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { photoVariants } from '@mc-vision/assets/photo-variants';
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
    // One failed item of eight (12.5%) still lets a batch succeed, so which items ran is known.
    platform = await startPlatform({ BATCH_TOLERATED_FAILURE_PERCENT: '20' });
    browser = await launchChromium();
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
    await shown(record.locator('.meta code').first().filter({ hasNotText: analysisId }));
    const routedId = await requestIdOf();
    const routedCaption = (await record.locator('.caption').first().textContent()) ?? '';

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
    // A record with no labels (routed to Azure alone) is summed up by its caption.
    expect(routedCaption).not.toBe('');
    expect(await history.getByRole('button', { name: new RegExp(routedId) }).textContent()).toContain(
      routedCaption,
    );
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

  /** POST with the key, as a script would. */
  const post = async (path: string, body: BodyInit, contentType: string) => {
    const response = await fetch(`${platform.url}${path}`, {
      method: 'POST',
      headers: { 'x-api-key': platform.apiKey, 'content-type': contentType },
      body,
    });
    return { status: response.status, body: await response.json() };
  };

  it('starts a batch over a folder, shows it move to its end, pages through its items and filters the failed', async () => {
    // Six photos and one file that is no image (stored through a presigned upload, which does not decode it),
    // beside the pelican the first test uploaded: eight objects under images/.
    for (const photo of await photoVariants(6, 120))
      expect((await post('/v1/images', new Uint8Array(photo), 'image/jpeg')).status).toBe(201);
    const broken = new TextEncoder().encode('not a JPEG at all, though its name says so');
    const upload = await post(
      '/v1/uploads',
      JSON.stringify({ contentType: 'image/jpeg', contentLength: broken.length }),
      'application/json',
    );
    const put = await fetch(upload.body.url, { method: 'PUT', headers: upload.body.headers, body: broken });
    expect(put.status).toBe(200);

    await page.setViewportSize(widths.desktop);
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Batches' }).click();
    expect(page.url()).toBe(`${platform.url}/batches`);
    expect(await page.getByRole('link', { name: 'Batches' }).getAttribute('aria-current')).toBe('page');
    await page.getByLabel('Folder').fill('images/');
    await page.getByRole('button', { name: 'Start batch' }).click();

    // The progress bar moves to the end: one image of eight fails (12.5%, within the 20% tolerated here).
    const panel = page.getByRole('region', { name: /^Batch / });
    await shown(panel);
    const progress = panel.getByRole('progressbar');
    const seen: number[] = [];
    const deadline = Date.now() + 120_000;
    while (!(await panel.getByText('SUCCEEDED', { exact: true }).isVisible())) {
      seen.push(Number(await progress.getAttribute('value')));
      if (Date.now() > deadline) throw new Error(`the batch did not end: ${seen.join(', ')}`);
      await page.waitForTimeout(200);
    }
    expect(await progress.getAttribute('max')).toBe('8');
    expect(await progress.getAttribute('value')).toBe('8');
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen[0]).toBeLessThan(8);
    await shown(panel.getByText('8 of 8 done'));
    const counts = panel.locator('.batch-counts');
    expect(await counts.textContent()).toBe('Complete7Partial0Failed1Not finished0');
    await shown(
      panel.getByText(/^Results: s3:\/\/mc-vision-images\/batches\/results\/[0-9a-f-]{36}\/manifest\.json$/),
    );

    // Its items, twelve a page: all eight on one, each with its thumbnail and top labels.
    const items = panel.getByRole('list', { name: 'Items' });
    await shown(items.locator(':scope > li').nth(7));
    expect(await items.locator(':scope > li').count()).toBe(8);
    await shown(items.getByRole('img').nth(6));
    expect(await items.getByRole('img').count()).toBe(7);
    await shown(items.getByText('no preview'));
    expect(await items.getByRole('list', { name: /^Top labels of images\// }).count()).toBe(7);
    expect(await panel.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);

    for (const [name, size] of Object.entries(widths)) {
      await page.setViewportSize(size);
      // The README's picture (desktop) is rewritten only when asked, so a test run leaves the tree clean.
      const path =
        process.env.UPDATE_SCREENSHOTS && name === 'desktop'
          ? fileURLToPath(new URL('../../docs/images/batches.png', import.meta.url))
          : join(tmpdir(), `mc-vision-batches-${size.width}.png`);
      await page.screenshot({ path, fullPage: true });
      console.log(`batches, ${name} (${size.width} px): ${path}`);
      expect(await accessibilityViolations(page)).toEqual([]);
      expect((await overflow(page)).page).toBe(0);
    }
    await page.setViewportSize(widths.desktop);

    // The failed one alone, with its providers' errors.
    await panel.getByRole('radio', { name: 'Failed' }).check();
    const failed = panel.getByRole('list', { name: 'Failed items' });
    await shown(failed.getByText('failed', { exact: true }));
    expect(await failed.locator(':scope > li').count()).toBe(1);
    const errors = failed.getByRole('list', { name: /^Errors of images\// });
    expect(await errors.getByRole('listitem').allTextContents()).toEqual([
      'SageMaker: InvalidImage',
      'Bedrock: InvalidImage',
      'Azure: InvalidImage',
    ]);

    await page.setViewportSize(widths.phone);
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.setViewportSize(widths.desktop);

    // Its failed image runs again as a batch of its own (and fails again: it is no image).
    expect(await panel.getByRole('button', { name: 'Redrive the batch' }).count()).toBe(0);
    await panel.getByRole('button', { name: 'Run the 1 failed image again' }).click();
    await shown(panel.getByText('1 images by key'));
    await shown(panel.getByText('FAILED', { exact: true }), 60_000);
    await shown(
      panel
        .getByRole('alert')
        .filter({ hasText: '1 of 1 items failed, more than the 20% the batch tolerates.' }),
    );
    expect(await panel.getByRole('button', { name: 'Redrive the batch' }).count()).toBe(0);
    expect(watched.errors).toEqual([]);
    expect(await watched.cspViolations()).toEqual([]);
  }, 240_000);

  it('offers a redrive for a stopped batch, and follows it to its end', async () => {
    const keys: string[] = [];
    for (const photo of await photoVariants(5, 100)) {
      keys.push((await post('/v1/images', new Uint8Array(photo), 'image/jpeg')).body.key);
    }
    const started = await post(
      '/v1/batches',
      JSON.stringify({ keys, requestId: 'stopped-in-the-ui' }),
      'application/json',
    );
    expect(started.status).toBe(202);
    const sfn = new SFNClient({
      endpoint: platform.config.SFN_ENDPOINT,
      region: platform.config.AWS_REGION,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const executionArn = `${platform.config.BATCH_KEYS_STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:stopped-in-the-ui`;
    await sfn.send(
      new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'stopped from the test' }),
    );
    sfn.destroy();

    await page.getByRole('button', { name: 'Refresh' }).click();
    await page
      .getByRole('list', { name: 'Recent batches' })
      .getByRole('button', { name: /stopped-in-the-ui/ })
      .click();
    const panel = page.getByRole('region', { name: /^Batch stopped-in-the-ui/ });
    await shown(panel.getByText('ABORTED', { exact: true }));
    await panel.getByRole('button', { name: 'Redrive the batch' }).click();
    await shown(panel.getByText('SUCCEEDED', { exact: true }), 120_000);
    await shown(panel.getByText('5 of 5 done'));
    await shown(panel.getByText('redriven 1×', { exact: false }));
    expect(watched.errors).toEqual([]);
    expect(await watched.cspViolations()).toEqual([]);
  }, 180_000);

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
