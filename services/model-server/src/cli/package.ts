import { parseArgs } from 'node:util';
import { packageModel } from '../package-model.ts';
import { defaultArchivePath, fetchedModelDir, resolveUserPath } from '../paths.ts';

// `pnpm model:package [MODEL_DIR] [--out FILE]`: a model package folder → the model.tar.gz SageMaker takes.

const usage = `usage: pnpm model:package [MODEL_DIR] [--out FILE]
  MODEL_DIR  the model package folder (default $MODEL_DIR, else ${fetchedModelDir})
  --out      the archive to write (default ${defaultArchivePath})`;

let parsed: { values: { out?: string; help?: boolean }; positionals: string[] };
try {
  parsed = parseArgs({
    args: process.argv.slice(2).filter((arg) => arg !== '--'),
    options: { out: { type: 'string' }, help: { type: 'boolean' } },
    allowPositionals: true,
  });
} catch (error) {
  console.error(`${(error as Error).message}\n${usage}`);
  process.exit(2);
}
const { values, positionals } = parsed;
if (values.help || positionals.length > 1) {
  console.log(usage);
  process.exit(values.help ? 0 : 2);
}

const source = positionals[0] ?? process.env.MODEL_DIR;
const modelDir = source ? resolveUserPath(source) : fetchedModelDir;
const outFile = values.out ? resolveUserPath(values.out) : defaultArchivePath;
try {
  const archive = await packageModel(modelDir, outFile);
  console.log(
    `${archive.file}\n  ${archive.bytes} bytes, sha256 ${archive.sha256}\n  ${archive.entries.join(', ')}`,
  );
} catch (error) {
  console.error(`model:package failed: ${(error as Error).message}`);
  process.exit(1);
}
