import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findChromium, noChromium } from './chromium.ts';

// The browser tests find whatever Chromium or Chrome the machine has, or say in one line how to get one.

describe('findChromium', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'mc-vision-find-chromium-'));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function executable(path: string): Promise<string> {
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, '#!/bin/sh\n');
    await chmod(path, 0o755);
    return path;
  }

  it('takes CHROMIUM_PATH first', () => {
    expect(findChromium({ CHROMIUM_PATH: '/opt/my/chrome', PATH: '/usr/bin' }, [])).toBe('/opt/my/chrome');
  });

  it('takes the first Chromium or Chrome on PATH, Chromium before Chrome', async () => {
    const first = join(root, 'first');
    const second = join(root, 'second');
    await executable(join(second, 'chromium-browser'));
    const chrome = await executable(join(first, 'google-chrome'));
    expect(findChromium({ PATH: `${first}:${second}` }, [])).toBe(join(second, 'chromium-browser'));
    expect(findChromium({ PATH: first }, [])).toBe(chrome);
  });

  it('skips a file that is not executable', async () => {
    const dir = join(root, 'not-executable');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'chromium'), '');
    expect(() => findChromium({ PATH: dir }, [])).toThrow(noChromium);
  });

  it("finds Chrome among the user's macOS applications", async () => {
    const apps = join(root, 'home', 'Applications');
    const app = await executable(join(apps, 'Google Chrome.app/Contents/MacOS/Google Chrome'));
    expect(findChromium({ PATH: join(root, 'empty') }, [join(root, 'Applications'), apps])).toBe(app);
  });

  it('says in one line how to get one when there is none', () => {
    expect(() => findChromium({ PATH: join(root, 'empty') }, [join(root, 'nowhere')])).toThrow(
      new Error(
        'No Chromium or Chrome found for the browser tests: install one (Debian/Ubuntu `apt-get install chromium`, ' +
          'macOS `brew install --cask chromium`) or set CHROMIUM_PATH to its executable',
      ),
    );
  });
});
