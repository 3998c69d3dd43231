// infra stays CommonJS: cdktf's provider bindings are deep-imported directories that native ESM cannot load.
module.exports = {
  displayName: 'infra',
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { target: 'es2024', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } },
    ],
  },
  testMatch: ['<rootDir>/tests/**/*.test.ts'],
  // cdktf's matchers (toHaveResourceWithProperties, ...) on jest's expect.
  setupFilesAfterEnv: ['<rootDir>/tests/setup-cdktf.ts'],
};
