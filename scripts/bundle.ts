// Bundles a Lambda entry with esbuild for a container image: `node scripts/bundle.ts <entry> <outdir>`,
// run from the package folder. Writes <outdir>/index.mjs and a package.json naming the native packages left
// out of the bundle (with the exact versions the workspace uses), which the Dockerfile installs for Linux.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

/** Packages with native binaries: installed in the image for its platform, never bundled. */
const nativePackages = ['sharp', 'onnxruntime-node'];

const [entry, outdir] = process.argv.slice(2);
if (!entry || !outdir) {
  console.error('usage: node scripts/bundle.ts <entry> <outdir>');
  process.exit(2);
}

const packageDir = process.cwd();
const outfile = resolve(outdir, 'index.mjs');
const result = await build({
  entryPoints: [resolve(entry)],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  minify: true,
  sourcemap: 'linked',
  metafile: true,
  legalComments: 'none',
  external: nativePackages,
  // CommonJS dependencies inside an ES module bundle still call require().
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: 'warning',
});

const used = new Set(
  Object.values(result.metafile.outputs).flatMap((output) => output.imports.map((i) => i.path)),
);
const requireFromPackage = createRequire(join(packageDir, 'package.json'));
const dependencies: Record<string, string> = {};
for (const name of nativePackages.filter((n) => used.has(n))) {
  const manifest = findManifest(requireFromPackage.resolve(name), name);
  const version = (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
  dependencies[name] = version;
}
mkdirSync(dirname(outfile), { recursive: true });
writeFileSync(
  resolve(outdir, 'package.json'),
  `${JSON.stringify({ type: 'module', private: true, dependencies }, null, 2)}\n`,
);
// The bundle itself, not its source map.
const bytes = statSync(outfile).size;
console.log(
  `bundled ${entry} → ${outfile} (${(bytes / 1024).toFixed(0)} KiB), native: ${JSON.stringify(dependencies)}`,
);

/** Walks up from a file inside a package to the package's own package.json. */
function findManifest(start: string, name: string): string {
  let dir = dirname(start);
  for (;;) {
    try {
      const path = join(dir, 'package.json');
      const manifest = JSON.parse(readFileSync(path, 'utf8')) as { name?: string };
      if (manifest.name === name) return path;
    } catch {
      // not here; keep walking
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`package.json of ${name} not found`);
    dir = parent;
  }
}
