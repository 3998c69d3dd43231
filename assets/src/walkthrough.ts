import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assetsDir } from './index.ts';

// The README's curl walkthrough as a script: the tests run it as written (only the URL and the key swapped in).

const repoRoot = join(assetsDir, '..');

/** The bash blocks of the "curl walkthrough" section: the root README's once it holds it, else the API's. */
export function walkthroughScript(): string {
  const readme = [join(repoRoot, 'README.md'), join(repoRoot, 'services/api/README.md')]
    .filter((path) => existsSync(path))
    .map((path) => readFileSync(path, 'utf8'))
    .find((text) => /^##+ curl walkthrough/im.test(text));
  if (!readme) throw new Error('no README has a "curl walkthrough" section');
  const section = readme.split(/^##+ curl walkthrough.*$/im)[1]!.split(/^## /m)[0]!;
  return [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map((block) => block[1]).join('\n');
}
