/**
 * Module boundaries, checked by `npm run lint`:
 * - no cycles;
 * - a feature module is reached from outside only through its `*.module.ts`,
 *   `*.service.ts`, `*.guard.ts`, `*.health.ts`, `dto/` and its public `<module>.api.ts`
 *   (types and pure functions it shares) — never its entities, repositories,
 *   controllers or internals;
 * - `common/` and `config/` depend on no feature module.
 */
const FEATURES =
  'auth|health|metrics|quota|rate-limit|redis|database|lifecycle|logging|ledger|providers|routing|metering|llm|forecasting|ml|compat';
/** `<module>/<module>` for each feature: its public file is `<module>.api.ts`. */
const PUBLIC_API_FILES = FEATURES.split('|')
  .map((name) => `${name}/${name}`)
  .join('|');

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'feature-internals-are-private',
      severity: 'error',
      comment:
        'Reach another module only through its module, service, guard, health indicator, DTOs or <module>.api.ts.',
      from: { path: `^src/(${FEATURES})/` },
      to: {
        path: `^src/(${FEATURES})/`,
        pathNot: [
          '^src/$1/',
          `^src/(${FEATURES})/[^/]+\\.(module|service|guard|health)\\.ts$`,
          `^src/(${FEATURES})/dto/`,
          `^src/(${PUBLIC_API_FILES})\\.api\\.ts$`,
        ],
      },
    },
    {
      name: 'rate-limit-below-auth-below-quota',
      severity: 'error',
      comment: 'Layering: rate-limit < auth < quota. Rate limiting knows neither; auth does not know budgets.',
      from: { path: '^src/(rate-limit|auth)/' },
      to: { path: '^src/(auth|quota)/', pathNot: '^src/$1/' },
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
