import { performance } from 'node:perf_hooks';

// The rule `auto` followed before the current one, for comparisons in bench:forecast: the same rolling-origin
// cross-validation of ETS, ARIMA, Theta, optimised Theta, MSTL and, for hourly and weekly data, the long-cycle
// candidates, for every season length with 2 origins and weights ∝ 1/MSE (the current rule differs by season
// length), the intervals calibrated alike. Also a worker-thread
// entry (like the API's forecast worker) that serves it next to the API's engines, so both are timed alike.
const { runForecast, quantileKey } = await import('../dist/src/forecasting/engines/run.js');
const { crossValidationPool, CROSS_VALIDATION } = await import('../dist/src/forecasting/engines/registry.js');
const { crossValidated } = await import('../dist/src/forecasting/engines/cross-validation.js');
const { InsufficientDataError } = await import('../dist/src/forecasting/engines/types.js');
const { qnorm } = await import('../dist/src/forecasting/engines/math.js');

/** The previous rule's engine per season length (the pool depends on it). */
const engines = new Map();
const engineFor = (m) => {
  if (!engines.has(m)) engines.set(m, crossValidated(crossValidationPool(m), CROSS_VALIDATION));
  return engines.get(m);
};

/** The previous rule's outcome for a forecast task (falling back to Theta and simpler engines, as `auto`). */
export function previousAuto(task) {
  const { values, horizon, seasonLength } = task;
  try {
    const f = engineFor(seasonLength)(values, horizon, { seasonLength });
    if (f.mean.every(Number.isFinite) && f.sd.every(Number.isFinite)) {
      const quantiles = Object.fromEntries(
        task.quantiles.map((q) => [quantileKey(q), f.mean.map((v, i) => v + qnorm(q) * Math.max(0, f.sd[i]))]),
      );
      return { engine: 'previous_auto', model: f.model, predictions: f.mean, quantiles, seasonLength };
    }
  } catch (error) {
    if (!(error instanceof InsufficientDataError)) throw error;
  }
  return runForecast({ ...task, engine: 'theta' });
}

/**
 * Worker entry: a chunk of tasks, `engine: 'previous_auto'` by the previous rule, others as the API runs
 * them; each outcome with the milliseconds it took (`ms`).
 */
export default function runChunk(tasks) {
  return tasks.map((task) => {
    const started = performance.now();
    const outcome = task.engine === 'previous_auto' ? previousAuto(task) : runForecast(task);
    return { ...outcome, ms: performance.now() - started };
  });
}
