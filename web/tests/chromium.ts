// A Chromium or Chrome already on this machine, driven by playwright-core (never a browser downloaded by a test
// tool): a fresh profile per run.
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const namesOnPath = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

const macApplications = [
  'Chromium.app/Contents/MacOS/Chromium',
  'Google Chrome.app/Contents/MacOS/Google Chrome',
];

export const noChromium =
  'No Chromium or Chrome found for the browser tests: install one (Debian/Ubuntu `apt-get install chromium`, ' +
  'macOS `brew install --cask chromium`) or set CHROMIUM_PATH to its executable';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `CHROMIUM_PATH`, else the first Chromium or Chrome on PATH, else in the macOS application folders. */
export function findChromium(
  env: NodeJS.ProcessEnv = process.env,
  applicationDirs = ['/Applications', join(homedir(), 'Applications')],
): string {
  if (env.CHROMIUM_PATH) return env.CHROMIUM_PATH;
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  const candidates = [
    ...namesOnPath.flatMap((name) => dirs.map((dir) => join(dir, name))),
    ...macApplications.flatMap((app) => applicationDirs.map((dir) => join(dir, app))),
  ];
  const found = candidates.find(isExecutable);
  if (!found) throw new Error(noChromium);
  return found;
}

export interface Chromium {
  context: BrowserContext;
  /** Every address in the profile's history (closes the browser first: Chromium writes its history then). */
  history(): Promise<string[]>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Chromium> {
  const executablePath = findChromium();
  const userDataDir = await mkdtemp(join(tmpdir(), 'mc-vision-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async history() {
      await context.close();
      // node:sqlite through getBuiltinModule: a scheme-only built-in, which jest's module registry does not know.
      const { DatabaseSync } = process.getBuiltinModule('node:sqlite');
      const db = new DatabaseSync(join(userDataDir, 'Default', 'History'), { readOnly: true });
      try {
        return db
          .prepare('SELECT url FROM urls')
          .all()
          .map((row) => String(row.url));
      } finally {
        db.close();
      }
    },
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

export interface WatchedPage {
  page: Page;
  /** Uncaught errors in the page. */
  errors: string[];
  /** What the API's Content-Security-Policy blocked (`directive blockedURI`). */
  cspViolations(): Promise<string[]>;
}

/** A new page that collects its uncaught errors and every CSP violation: the UI must cause none. */
export async function watchedPage(context: BrowserContext): Promise<WatchedPage> {
  await context.addInitScript(() => {
    const seen: string[] = [];
    Object.assign(window, { cspViolations: seen });
    document.addEventListener('securitypolicyviolation', (event) =>
      seen.push(`${event.effectiveDirective} ${event.blockedURI}`),
    );
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return {
    page,
    errors,
    cspViolations: () =>
      page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations),
  };
}
