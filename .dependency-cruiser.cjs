/**
 * Module boundaries, checked by `npm run lint`:
 * - no cycles;
 * - a feature module is reached from outside only through its `*.module.ts`,
 *   `*.service.ts`, `*.guard.ts`, `*.health.ts` and `dto/` — never its entities,
 *   repositories, controllers or internals;
 * - `common/` and `config/` depend on no feature module.
 */
const FEATURES =
  'auth|health|metrics|quota|redis|database|lifecycle|logging|ledger|providers|routing|llm|forecasting|ml';

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'feature-internals-are-private',
      severity: 'error',
      comment: 'Reach another module only through its module, service, guard, health indicator or DTOs.',
      from: { path: `^src/(${FEATURES})/` },
      to: {
        path: `^src/(${FEATURES})/`,
        pathNot: [
          '^src/$1/',
          `^src/(${FEATURES})/[^/]+\\.(module|service|guard|health)\\.ts$`,
          `^src/(${FEATURES})/dto/`,
        ],
      },
    },
    {
      name: 'app-reaches-modules-through-their-front',
      severity: 'error',
      from: { path: '^src/[^/]+\\.ts$' },
      to: {
        path: `^src/(${FEATURES})/`,
        pathNot: [
          `^src/(${FEATURES})/[^/]+\\.(module|service|guard|health)\\.ts$`,
          '^src/database/embedded-postgres\\.ts$',
        ],
      },
    },
    {
      name: 'shared-code-stays-generic',
      severity: 'error',
      from: { path: '^src/(common|config)/' },
      to: { path: `^src/(${FEATURES})/` },
    },
    {
      name: 'not-to-test',
      severity: 'error',
      from: { path: '^(src|migrations)/' },
      to: { path: '^test/' },
    },
    {
      name: 'not-to-tools',
      severity: 'error',
      comment: 'Tools (e.g. model training) may use the server code; the server never needs a tool.',
      from: { path: '^(src|migrations)/' },
      to: { path: '^tools/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    exclude: { path: '(^dist/|\\.d\\.ts$)' },
  },
};
