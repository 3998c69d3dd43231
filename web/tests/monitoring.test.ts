import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import axe from 'axe-core';
import { fixtureImagePath } from '@mc-vision/assets';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locator, Page } from 'playwright-core';
import { launchChromium, watchedPage, type Chromium, type WatchedPage } from './chromium.ts';
import { startPlatform, type Platform } from './platform.ts';

// The Monitoring view in Chromium against the local platform with Bedrock down: the alarm in ALARM with its
// history, the dashboard's charts with data, accessible (axe-core, WCAG 2 AA) at 1280 and 390 px without
// horizontal scrolling, under the API's Content-Security-Policy. Its screenshot is the README's.

// The README's picture is rewritten only when asked (UPDATE_SCREENSHOTS=1), so a test run leaves the tree clean.
const screenshot = process.env.UPDATE_SCREENSHOTS
  ? fileURLToPath(new URL('../../docs/images/monitoring.png', import.meta.url))
  : join(tmpdir(), 'mc-vision-monitoring.png');
const bedrockAlarm = 'mc-vision-dev-bedrock-unavailable';
const shown = (locator: Locator, timeout = 30_000) => locator.waitFor({ state: 'visible', timeout });

async function accessibilityViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern (no inline script is added).
  await page.evaluate(axe.source);
  const result = await page.evaluate(() =>
    (window as unknown as { axe: typeof axe }).axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    }),
  );
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

const horizontalOverflow = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

describe('the Monitoring view in Chromium', () => {
  let platform: Platform;
  let browser: Chromium;
  let page: Page;
  let watched: WatchedPage;

  beforeAll(async () => {
    // 30-second periods: the alarm stays in ALARM a minute or more after the failing pipelines end.
    platform = await startPlatform({ MONITORING_PERIOD_SECONDS: '30' });
    const headers = { 'x-api-key': platform.apiKey };
    const upload = await fetch(`${platform.url}/v1/images`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'image/jpeg' },
      body: await readFile(fixtureImagePath('pelican.jpeg')),
    });
    const { key } = (await upload.json()) as { key: string };
    await fetch(`${platform.components.bedrock}/_emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${platform.adminToken}` },
      body: JSON.stringify({ status: 503, times: 1000 }),
    });
    for (let i = 0; i < 4; i += 1) {
      await fetch(`${platform.url}/v1/pipelines`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ key, requestId: `monitoring-ui-${i}` }),
      });
    }
    // Until CloudWatch (the local one) has the Bedrock alarm in ALARM.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const alarms = (await (await fetch(`${platform.url}/v1/monitoring/alarms`, { headers })).json()) as {
        alarms: { name: string; state: string }[];
      };
      if (alarms.alarms.find((alarm) => alarm.name === bedrockAlarm)?.state === 'ALARM') break;
      if (Date.now() > deadline) throw new Error('the Bedrock alarm never went to ALARM');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    browser = await launchChromium();
    // The API's Content-Security-Policy must not block anything the UI does: every violation is collected.
    watched = await watchedPage(browser.context);
    page = watched.page;
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.close();
  });

  it('shows the alarm in ALARM with its history, and charts with data', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(platform.signInUrl);
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Monitoring' }).click();
    expect(new URL(page.url()).pathname).toBe('/monitoring');
    expect(await page.getByRole('link', { name: 'Monitoring' }).getAttribute('aria-current')).toBe('page');

    const alarm = page
      .getByRole('list', { name: 'Alarms' })
      .getByRole('listitem')
      .filter({ hasText: bedrockAlarm });
    await shown(alarm.getByText('In alarm', { exact: true }));
    await shown(
      alarm
        .getByRole('list', { name: `History of ${bedrockAlarm}` })
        .getByText(/Alarm updated from OK to ALARM/),
    );
    await shown(page.getByText(/^\d+ of 29 alarms in alarm\./));

    const executions = page.getByRole('figure', { name: 'Pipeline: executions' });
    await shown(executions.getByRole('img', { name: /ExecutionsStarted \d+/ }));
    // Drawn: an SVG chart with one line per series that has data.
    await shown(executions.locator('svg.recharts-surface').first());
    await executions.locator('.recharts-line').first().waitFor({ state: 'attached' });
    const providers = page.getByRole('figure', {
      name: 'Providers: share of records throttled or unavailable',
    });
    await shown(providers.getByRole('img', { name: /Bedrock unavailable 100%/ }));
    expect(await page.getByRole('figure').count()).toBe(19);

    expect(await accessibilityViolations(page)).toEqual([]);
    expect(await horizontalOverflow(page)).toBe(0);
    // The README's picture: the alarms and the first charts.
    await page.setViewportSize({ width: 1280, height: 1800 });
    await page.screenshot({ path: screenshot, fullPage: false });
  }, 120_000);

  it('stays usable at 390 px: no horizontal scrolling, no accessibility violations, on both pages', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await shown(page.getByText(/Refreshed every 10 s\./));
    await shown(
      page
        .getByRole('figure', { name: 'Pipeline: executions' })
        .getByRole('img', { name: /^Pipeline: executions\. Latest/ }),
      60_000,
    );
    expect(await horizontalOverflow(page)).toBe(0);
    expect(await accessibilityViolations(page)).toEqual([]);

    await page.getByRole('link', { name: 'Analyse' }).click();
    await shown(page.getByRole('heading', { name: '1. Image' }));
    expect(await horizontalOverflow(page)).toBe(0);
    expect(await accessibilityViolations(page)).toEqual([]);

    expect(watched.errors).toEqual([]);
    expect(await watched.cspViolations()).toEqual([]);
  }, 120_000);
});
