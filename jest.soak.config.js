/**
 * `npm run soak`: the long mixed-load run under scheduled faults (test/soak/). Not part of `npm test`
 * or CI: it owns its Postgres and Redis (no global setup) and runs for SOAK_SECONDS (default 600).
 */
const base = require('./jest.config.js');

/** @type {import('jest').Config} */
module.exports = {
  rootDir: base.rootDir,
  testEnvironment: base.testEnvironment,
  transform: base.transform,
  moduleFileExtensions: base.moduleFileExtensions,
  testPathIgnorePatterns: base.testPathIgnorePatterns,
  modulePathIgnorePatterns: base.modulePathIgnorePatterns,
  testMatch: ['<rootDir>/test/soak/**/*.e2e-soak.ts'],
  testTimeout: 3_600_000,
  maxWorkers: 1,
};
