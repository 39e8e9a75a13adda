import { performance } from 'node:perf_hooks';

// The rule `auto` followed before the current one, for comparisons in bench:forecast: the same rolling-origin
// cross-validation (2 origins, weights ∝ 1/MSE) of ETS, ARIMA, Theta, optimised Theta and MSTL, without the
// long-cycle candidates of hourly and weekly data and without interval calibration. Also a worker-thread
// entry (like the API's forecast worker) that serves it next to the API's engines, so both are timed alike.
const { runForecast, quantileKey } = await import('../dist/src/forecasting/engines/run.js');
const { crossValidationPool } = await import('../dist/src/forecasting/engines/registry.js');
const { crossValidated } = await import('../dist/src/forecasting/engines/cross-validation.js');
const { InsufficientDataError } = await import('../dist/src/forecasting/engines/types.js');
const { qnorm } = await import('../dist/src/forecasting/engines/math.js');

const previousRule = { origins: 2, rule: 'inverse' };
const seasonal = crossValidated(crossValidationPool(2, 'none'), previousRule);
const nonSeasonal = crossValidated(crossValidationPool(1, 'none'), previousRule);

/** The previous rule's outcome for a forecast task (falling back to Theta and simpler engines, as `auto`). */
export function previousAuto(task) {
  const { values, horizon, seasonLength } = task;
  try {
    const f = (seasonLength >= 2 ? seasonal : nonSeasonal)(values, horizon, { seasonLength });
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
