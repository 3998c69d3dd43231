// Bundles a Lambda entry with esbuild for a container image: `node scripts/bundle.ts <entry> <outdir>`,
// run from the package folder. Writes <outdir>/index.mjs, the chunks it imports on first use (code split at
// each dynamic `import()`), the data files dependencies read on demand, and a package.json naming the native
// packages left out of the bundle (with the exact versions the workspace uses), which the Dockerfile installs
// for Linux. The Dockerfiles copy <outdir> whole. `pnpm bench` reads the sizes from `bundle()`'s answer.
import { build, type Metafile, type Plugin } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Packages with native binaries: installed in the image for its platform, never bundled. */
const nativePackages = ['sharp', 'onnxruntime-node'];

/**
 * Data a dependency `require()`s only when it needs it, kept as files beside the bundle instead of inside it:
 * iconv-lite's CJK code tables (400 KB of the bundle otherwise) are read only for such a charset, never for
 * the UTF-8 every route speaks.
 */
const dataOnDemand = [{ from: /[\\/]iconv-lite[\\/]encodings[\\/]/, path: /^\.\/tables\/.+\.json$/ }];

export interface BundleSizes {
  /** Bytes the entry loads before the first request: index.mjs and the chunks it imports statically. */
  initialBytes: number;
  /** Every file of the bundle, source maps and package.json apart (chunks and data files loaded later too). */
  totalBytes: number;
  files: number;
}

export interface BundleResult extends BundleSizes {
  outfile: string;
  /** Bytes per package (or workspace folder) in what loads at start, largest first. */
  initialByPackage: [string, number][];
  /** The native packages the bundle leaves out, with the versions the image installs. */
  dependencies: Record<string, string>;
}

/** Bundles `entry` (relative to `packageDir`) into `outdir`, replacing what was there. */
export async function bundle(packageDir: string, entry: string, outdir: string): Promise<BundleResult> {
  const out = resolve(packageDir, outdir);
  rmSync(out, { recursive: true, force: true });
  const dataFiles = new Map<string, string>();
  const result = await build({
    absWorkingDir: packageDir,
    entryPoints: { index: resolve(packageDir, entry) },
    outdir: out,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunk-[hash]',
    bundle: true,
    splitting: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    // ES module builds first: esbuild drops the parts of a package nothing imports (an AWS SDK client's
    // operations this code never sends), which it cannot do in their CommonJS builds.
    mainFields: ['module', 'main'],
    minify: true,
    charset: 'utf8',
    sourcemap: 'linked',
    metafile: true,
    legalComments: 'none',
    external: nativePackages,
    plugins: [keepDataFiles(dataFiles), httpThroughRequire()],
    // CommonJS dependencies inside an ES module bundle still call require().
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'warning',
  });
  for (const [source, target] of dataFiles) {
    mkdirSync(dirname(join(out, target)), { recursive: true });
    copyFileSync(source, join(out, target));
  }

  const used = new Set(
    Object.values(result.metafile.outputs).flatMap((output) => output.imports.map((i) => i.path)),
  );
  const requireFromPackage = createRequire(join(packageDir, 'package.json'));
  const dependencies: Record<string, string> = {};
  for (const name of nativePackages.filter((n) => used.has(n))) {
    const manifest = findManifest(requireFromPackage.resolve(name), name);
    dependencies[name] = (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
  }
  writeFileSync(
    join(out, 'package.json'),
    `${JSON.stringify({ type: 'module', private: true, dependencies }, null, 2)}\n`,
  );
  const outfile = join(out, 'index.mjs');
  return {
    outfile,
    dependencies,
    ...bundleSizes(
      result.metafile,
      packageDir,
      outfile,
      [...dataFiles.values()].map((f) => join(out, f)),
    ),
  };
}

/** Sizes from esbuild's metafile: what the entry imports statically, and everything written. */
function bundleSizes(
  metafile: Metafile,
  packageDir: string,
  outfile: string,
  data: string[],
): BundleSizes & Pick<BundleResult, 'initialByPackage'> {
  const outputs = metafile.outputs;
  const key = (file: string) => relative(packageDir, file).split('\\').join('/');
  const initial = new Set<string>();
  const visit = (path: string) => {
    if (initial.has(path) || !outputs[path]) return;
    initial.add(path);
    for (const imported of outputs[path].imports)
      if (imported.kind === 'import-statement') visit(imported.path);
  };
  visit(key(outfile));
  const code = Object.keys(outputs).filter((path) => !path.endsWith('.map'));
  const sum = (paths: string[]) => paths.reduce((bytes, path) => bytes + outputs[path]!.bytes, 0);
  const dataBytes = data.reduce((bytes, file) => bytes + statSync(file).size, 0);
  const byPackage = new Map<string, number>();
  for (const path of initial) {
    for (const [input, { bytesInOutput }] of Object.entries(outputs[path]!.inputs)) {
      const name =
        /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules\/)/.exec(input)?.[1] ?? dirname(input);
      byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
    }
  }
  return {
    initialByPackage: [...byPackage].sort((a, b) => b[1] - a[1]),
    initialBytes: sum([...initial]),
    totalBytes: sum(code) + dataBytes,
    files: code.length + data.length,
  };
}

/** Marks the `dataOnDemand` requires external, to be copied beside the bundle under the same relative path. */
function keepDataFiles(files: Map<string, string>): Plugin {
  return {
    name: 'data-on-demand',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /\.json$/ }, (args) => {
        const rule = dataOnDemand.find((r) => r.from.test(args.importer) && r.path.test(args.path));
        if (!rule || args.kind !== 'require-call') return undefined;
        const source = resolve(args.resolveDir, args.path);
        // Chunks sit side by side in outdir, so one path beside them works from whichever chunk requires it.
        const target = `./data/${basename(dirname(source))}/${basename(source)}`;
        files.set(source, target);
        return { path: target, external: true };
      });
    },
  };
}

/**
 * `import http from 'node:http'` in an ES module dependency (Powertools Tracer's) makes Node build the
 * module's ES facade, which reads every export, `WebSocket` too: that loads undici, 20 ms and more of a cold
 * start, for nothing. Taken through `require()`, as CommonJS dependencies take it, `http` loads alone.
 */
function httpThroughRequire(): Plugin {
  return {
    name: 'http-through-require',
    setup(pluginBuild) {
      pluginBuild.onResolve({ filter: /^(node:)?https?$/ }, (args) =>
        args.kind === 'import-statement' ? { path: args.path, namespace: 'builtin-require' } : undefined,
      );
      pluginBuild.onLoad({ filter: /.*/, namespace: 'builtin-require' }, (args) => ({
        contents: `module.exports = require(${JSON.stringify(args.path)});`,
        loader: 'js',
      }));
    },
  };
}

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

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [entry, outdir] = process.argv.slice(2);
  if (!entry || !outdir) {
    console.error('usage: node scripts/bundle.ts <entry> <outdir>');
    process.exit(2);
  }
  const built = await bundle(process.cwd(), entry, outdir);
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
  console.log(
    `bundled ${entry} → ${built.outfile} (${kib(built.initialBytes)} loaded at start, ` +
      `${kib(built.totalBytes)} in ${built.files} files), native: ${JSON.stringify(built.dependencies)}`,
  );
}
