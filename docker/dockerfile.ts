import { readFileSync } from 'node:fs';

// Reads docker/*.Dockerfile for the image tests (services/*/tests/image.test.ts): nothing here builds an
// image (there may be no Docker daemon), the tests check what the instructions would package.

export interface Instruction {
  /** Upper-cased: `FROM`, `COPY`, `CMD`, … */
  keyword: string;
  /** The rest of the line, continuation lines joined. */
  args: string;
}

export interface Stage {
  /** `AS <name>`, if any. */
  name?: string;
  /** The image the stage starts from (without `--platform=…`). */
  base: string;
  platform?: string;
  instructions: Instruction[];
}

export interface CopyInstruction {
  /** `--from=<stage>`, if any. */
  from?: string;
  sources: string[];
  destination: string;
}

/** Every stage of a Dockerfile, in order; the last one is the image. */
export function readDockerfile(path: string): Stage[] {
  const lines = readFileSync(path, 'utf8')
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword = '', args = ''] = line.match(/^(\S+)\s*(.*)$/) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args: args.replace(/\s+/g, ' ').trim() };
    if (instruction.keyword === 'FROM') {
      const match = instruction.args.match(/^(?:--platform=(\S+)\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i);
      if (!match) throw new Error(`${path}: cannot read FROM ${instruction.args}`);
      const [, platform, base, name] = match;
      stages.push({
        base: base!,
        ...(platform ? { platform } : {}),
        ...(name ? { name } : {}),
        instructions: [],
      });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`${path}: ${instruction.keyword} before FROM`);
      stage.instructions.push(instruction);
    }
  }
  return stages;
}

/** The instructions of a keyword in a stage. */
export function instructionsOf(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword.toUpperCase());
}

/** An exec-form (JSON array) argument, as `CMD ["index.handler"]` and `ENTRYPOINT [...]` must be written. */
export function execForm(instruction: Instruction | undefined): string[] | undefined {
  if (!instruction) return undefined;
  const parsed: unknown = JSON.parse(instruction.args);
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) {
    throw new Error(`${instruction.keyword} ${instruction.args}: not an exec-form array`);
  }
  return parsed;
}

/** The stage's `COPY` instructions, options and paths apart. */
export function copiesOf(stage: Stage): CopyInstruction[] {
  return instructionsOf(stage, 'COPY').map(({ args }) => {
    const words = args.split(' ');
    const options = words.filter((word) => word.startsWith('--'));
    const paths = words.filter((word) => !word.startsWith('--'));
    const from = options.find((option) => option.startsWith('--from='))?.slice('--from='.length);
    return { ...(from ? { from } : {}), sources: paths.slice(0, -1), destination: paths.at(-1)! };
  });
}

/** `ENV` values of a stage (`KEY=value` pairs, several per line allowed). */
export function envOf(stage: Stage): Record<string, string> {
  return Object.fromEntries(
    instructionsOf(stage, 'ENV').flatMap(({ args }) =>
      [...args.matchAll(/(\w+)=("[^"]*"|\S+)/g)].map(([, key, value]) => [
        key!,
        value!.replace(/^"|"$/g, ''),
      ]),
    ),
  );
}

/** `${LAMBDA_TASK_ROOT}`-style references replaced by the values a base image is known to set. */
export function expand(path: string, variables: Record<string, string>): string {
  return path.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => variables[name] ?? whole);
}
