#!/usr/bin/env node
import { runCli } from '../src/index.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  err: process.stderr,
});
