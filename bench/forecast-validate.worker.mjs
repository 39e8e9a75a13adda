// Worker of bench/forecast-validate.mjs: for one series (already shortened by its horizon), every candidate
// of the largest pool fitted and cross-validated at the most origins, with the time each one took, so
// that the main thread can derive every variant (candidates, origins, weights, calibration) from it.
import { performance } from 'node:perf_hooks';

const { crossValidationPool, ADJUSTED_CANDIDATES } = await import('../dist/src/forecasting/engines/registry.js');
const { validate } = await import('../dist/src/forecasting/engines/cross-validation.js');
const { runForecast } = await import('../dist/src/forecasting/engines/run.js');

/** The candidate, timing its fit (`times.fit`) and each of its refits (`times.refits`, by origin). */
function timed(candidate, times) {
  return {
    name: candidate.name,
    fit: (y, horizon, options) => {
      const started = performance.now();
      try {
        const fitted = candidate.fit(y, horizon, options);
        return {
          forecast: fitted.forecast,
          refit: (prefix, steps) => {
            const t = performance.now();
            try {
              return fitted.refit(prefix, steps);
            } finally {
              times.refits.push(performance.now() - t);
            }
          },
        };
      } finally {
        times.fit += performance.now() - started;
      }
    },
  };
}

/**
 * { values, horizon, seasonLength, origins, long, levels } → the validation, the candidates' times, and Theta's
 * forecast with its quantiles at `levels`.
 */
export default function validateSeries({ values, horizon, seasonLength, origins, long, levels }) {
  const base = crossValidationPool(seasonLength, long);
  const names = new Set(base.map((c) => c.name));
  // The M4 benchmarks (on the seasonally adjusted series) too, whether or not the pool has them.
  const pool = [...base, ...ADJUSTED_CANDIDATES.filter((c) => !names.has(c.name))];
  const times = pool.map(() => ({ fit: 0, refits: [] }));
  const validation = validate(
    pool.map((candidate, k) => timed(candidate, times[k])),
    values,
    horizon,
    { seasonLength },
    origins,
  );
  // Where no candidate fits, auto falls back as the API does (Theta, then simpler engines).
  const fallback =
    validation.forecasts.length === 0
      ? runForecast({ values, horizon, engine: 'auto', seasonLength, quantiles: levels })
      : undefined;
  const theta = runForecast({ values, horizon, engine: 'theta', seasonLength, quantiles: levels });
  const pick = (outcome) => outcome && { predictions: outcome.predictions, quantiles: outcome.quantiles };
  return {
    validation,
    times: Object.fromEntries(pool.map((c, k) => [c.name, times[k]])),
    fallback: pick(fallback),
    theta: pick(theta),
  };
}
