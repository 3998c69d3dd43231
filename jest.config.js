// One jest run over every package that has a jest.config.js of its own.
import { globSync } from 'node:fs';

export default {
  // A deadline for a test that hangs, not a speed check: on a loaded 2-core machine, starting an emulator or
  // loading a model can take longer than jest's default 5 s. Set here, not per project: jest ignores a
  // project's testTimeout.
  testTimeout: 30_000,
  projects: globSync(['services/*/jest.config.js', 'infra/jest.config.js', 'web/jest.config.js']).map(
    (file) => `<rootDir>/${file.slice(0, -'/jest.config.js'.length)}`,
  ),
};
