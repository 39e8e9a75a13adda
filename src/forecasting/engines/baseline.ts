/**
 * Benchmark engines: naive, seasonal naive, Naive2 (the M4 benchmark) and random walk with drift.
 *
 * They are the last-resort fallbacks of the forecasting module, so they accept any series of length ≥ 1 and
 * never throw. With no residual to estimate a spread from (length 1, or too short for the chosen model), the
 * standard deviation is 0. Computations run on the series divided by a power of two (an exact operation in
 * floating point), so squares of huge values cannot overflow; results beyond the float range are clamped to
 * ±Number.MAX_VALUE instead of becoming infinite.
 */
import { naive2 as naive2Mean } from './accuracy';
import { classicalSeasonalIndices, isSeasonal } from './math';
import type { Engine, EngineForecast } from './types';

/** A power of two close to max |y| (1 for an all-zero series); dividing by it is exact. */
export function powerOfTwoScale(y: ArrayLike<number>): number {
  let largest = 0;
  for (let i = 0; i < y.length; i++) largest = Math.max(largest, Math.abs(y[i]));
  if (!(largest > 0) || !Number.isFinite(largest)) return 1;
  const exponent = Math.min(1023, Math.max(-1022, Math.floor(Math.log2(largest))));
  return Math.pow(2, exponent);
}

/** Clamps to the finite float range (NaN becomes 0). */
function finite(value: number): number {
  if (Number.isNaN(value)) return 0;
  return Math.min(Number.MAX_VALUE, Math.max(-Number.MAX_VALUE, value));
}

/** Whole forecast steps of a horizon (anything invalid is 0). */
export function steps(horizon: number): number {
  return Number.isFinite(horizon) && horizon > 0 ? Math.floor(horizon) : 0;
}

/** Integer season length ≥ 1 (anything invalid counts as non-seasonal). */
export function seasonPeriod(seasonLength: number): number {
  return Number.isFinite(seasonLength) && seasonLength >= 2 ? Math.floor(seasonLength) : 1;
}

/** The series divided by `scale`. */
export function scaled(y: readonly number[], scale: number): Float64Array {
  const out = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) out[i] = y[i] / scale;
  return out;
}

/** Root mean square of x[t] − x[t − lag] over t = lag..n−1 (0 when there is no such pair). */
function lagRms(x: ArrayLike<number>, lag: number): number {
  const n = x.length;
  if (n <= lag) return 0;
  let total = 0;
  for (let t = lag; t < n; t++) {
    const d = x[t] - x[t - lag];
    total += d * d;
  }
  return Math.sqrt(total / (n - lag));
}

function output(mean: number[], sd: number[], scale: number, model: string): EngineForecast {
  return { mean: mean.map((v) => finite(v * scale)), sd: sd.map((v) => finite(Math.abs(v) * scale)), model };
}

/**
 * Naive (random walk): every step repeats the last observation. sd_h = σ·√h with σ² the mean squared
 * one-step difference (R `forecast::naive`).
 */
export const naive: Engine = (y, horizon) => {
  const h = steps(horizon);
  const scale = powerOfTwoScale(y);
  const x = scaled(y, scale);
  const last = x[x.length - 1];
  const sigma = lagRms(x, 1);
  const mean = new Array<number>(h).fill(last);
  const sd = Array.from({ length: h }, (_, i) => sigma * Math.sqrt(i + 1));
  return output(mean, sd, scale, 'Naive');
};

/**
 * Seasonal naive: repeats the last m observations. sd_h = σ·√(⌊(h−1)/m⌋ + 1) with σ² the mean squared
 * seasonal difference (R `forecast::snaive`). Falls back to {@link naive} when m = 1 or the series does not
 * cover more than one season (no seasonal difference exists).
 */
export const seasonalNaive: Engine = (y, horizon, options) => {
  const m = seasonPeriod(options.seasonLength);
  const n = y.length;
  if (m === 1 || n <= m) return naive(y, horizon, options);
  const h = steps(horizon);
  const scale = powerOfTwoScale(y);
  const x = scaled(y, scale);
  const sigma = lagRms(x, m);
  const mean = Array.from({ length: h }, (_, i) => x[n - m + (i % m)]);
  const sd = Array.from({ length: h }, (_, i) => sigma * Math.sqrt(Math.floor(i / m) + 1));
  return output(mean, sd, scale, `SeasonalNaive[${m}]`);
};

/**
 * Naive2, the M4 benchmark: when the M4 90 % seasonality test passes (and the data are positive, which a
 * multiplicative decomposition needs), the naive forecast of the seasonally adjusted series is re-seasonalised;
 * otherwise it is the naive forecast. The mean is exactly `naive2` of the accuracy module. sd_h = σ·√h·s_h,
 * where σ² is the mean squared one-step difference of the adjusted series and s_h the seasonal index of step h.
 */
export const naive2: Engine = (y, horizon, options) => {
  const m = seasonPeriod(options.seasonLength);
  const n = y.length;
  const h = steps(horizon);
  const scale = powerOfTwoScale(y);
  const x = scaled(y, scale);
  let positive = true;
  for (let i = 0; i < n; i++) if (!(x[i] > 0)) positive = false;
  if (m > 1 && positive && isSeasonal(x, m)) {
    const indices = classicalSeasonalIndices(x, m, 'multiplicative');
    if (indices.every((v) => Number.isFinite(v) && v > 1e-10)) {
      const adjusted = new Float64Array(n);
      for (let t = 0; t < n; t++) adjusted[t] = x[t] / indices[t % m];
      const sigma = lagRms(adjusted, 1);
      const mean = naive2Mean(Array.from(x), h, m);
      const sd = Array.from({ length: h }, (_, i) => sigma * Math.sqrt(i + 1) * indices[(n + i) % m]);
      if (mean.every(Number.isFinite)) return output(mean, sd, scale, `Naive2[${m}]`);
    }
  }
  const sigma = lagRms(x, 1);
  const mean = new Array<number>(h).fill(x[n - 1]);
  const sd = Array.from({ length: h }, (_, i) => sigma * Math.sqrt(i + 1));
  return output(mean, sd, scale, 'Naive2');
};

/**
 * Random walk with drift: y_n + h·b with b = (y_n − y_1)/(n − 1), the mean one-step difference.
 * sd_h = σ·√(h·(1 + h/(n − 1))) (R `forecast::rwf(drift = TRUE)`; the second term is the drift's estimation
 * error), σ² = Σ(Δy_t − b)²/(n − 2). With n = 2 the residual has no degree of freedom and σ is |y_2 − y_1|,
 * the naive scale; with n = 1 the forecast is the observation with sd 0.
 */
export const drift: Engine = (y, horizon) => {
  const h = steps(horizon);
  const n = y.length;
  const scale = powerOfTwoScale(y);
  const x = scaled(y, scale);
  if (n === 1) return output(new Array<number>(h).fill(x[0]), new Array<number>(h).fill(0), scale, 'Drift');
  const t = n - 1;
  const slope = (x[n - 1] - x[0]) / t;
  let sigma: number;
  if (n === 2) {
    sigma = Math.abs(x[1] - x[0]);
  } else {
    let total = 0;
    for (let i = 1; i < n; i++) {
      const r = x[i] - x[i - 1] - slope;
      total += r * r;
    }
    sigma = Math.sqrt(total / (t - 1));
  }
  const mean = Array.from({ length: h }, (_, i) => x[n - 1] + (i + 1) * slope);
  const sd = Array.from({ length: h }, (_, i) => sigma * Math.sqrt((i + 1) * (1 + (i + 1) / t)));
  return output(mean, sd, scale, 'Drift');
};
