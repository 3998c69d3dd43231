// One jest run over every package that has a jest.config.js of its own.
import { globSync } from 'node:fs';

export default {
  projects: globSync(['services/*/jest.config.js', 'infra/jest.config.js', 'web/jest.config.js']).map(
    (file) => `<rootDir>/${file.slice(0, -'/jest.config.js'.length)}`,
  ),
};
