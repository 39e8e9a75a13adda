/**
 * ts-jest transpiles each file on its own (fast; tsconfig's `isolatedModules`), with the decorator
 * metadata NestJS relies on. Type checking is `npm run build`'s job.
 */
const tsJestOptions = { tsconfig: '<rootDir>/tsconfig.json', diagnostics: false };

/** @type {import('jest').Config} */
module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', tsJestOptions] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/test/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/dist/'],
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  watchPathIgnorePatterns: ['<rootDir>/dist/'],
  testTimeout: 60_000,
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFilesAfterEnv: ['<rootDir>/test/support/release-observers.ts'],
  maxWorkers: 2,
  // A worker whose heap has grown past this after a test file is replaced by a fresh one, so what a file
  // leaves behind (closed applications still referenced, caches) never adds up across the suite.
  workerIdleMemoryLimit: '1536MB',
};
