/**
 * Forecast accuracy exactly as the M4 competition scored it (see the benchmark data's README):
 * sMAPE, MASE with seasonal-naive in-sample scaling, the Naive2 benchmark that OWA is relative to, and
 * MSIS for prediction intervals; and the calibration of quantile forecasts.
 */
import { classicalSeasonalIndices, isSeasonal, seasonalIndexAt } from './math';

/** sMAPE in percent; a 0/0 term counts as 0. */
export function smape(actual: readonly number[], forecast: readonly number[]): number {
  let total = 0;
  for (let t = 0; t < actual.length; t++) {
    const denominator = Math.abs(actual[t]) + Math.abs(forecast[t]);
    if (denominator > 0) total += (200 * Math.abs(actual[t] - forecast[t])) / denominator;
  }
  return total / actual.length;
}

/** The in-sample mean absolute error of the seasonal naive forecast (period m): the scale of MASE and MSIS. */
export function seasonalNaiveScale(train: readonly number[], m: number): number {
  let scale = 0;
  for (let t = m; t < train.length; t++) scale += Math.abs(train[t] - train[t - m]);
  return scale / (train.length - m);
}

/** MASE scaled by the in-sample mean absolute error of the seasonal naive forecast (period m). */
export function mase(
  train: readonly number[],
  actual: readonly number[],
  forecast: readonly number[],
  m: number,
): number {
  let total = 0;
  for (let t = 0; t < actual.length; t++) total += Math.abs(actual[t] - forecast[t]);
  return total / actual.length / seasonalNaiveScale(train, m);
}

/**
 * MSIS, the M4 competition's interval score: for the (1 − a) prediction interval [lower, upper],
 * (1/h) Σ_t [(U_t − L_t) + (2/a)(L_t − Y_t)·1{Y_t < L_t} + (2/a)(Y_t − U_t)·1{Y_t > U_t}], scaled like MASE.
 * M4 scored the 95 % interval: a = 0.05.
 */
export function msis(
  train: readonly number[],
  actual: readonly number[],
  lower: readonly number[],
  upper: readonly number[],
  m: number,
  a = 0.05,
): number {
  let total = 0;
  for (let t = 0; t < actual.length; t++) {
    const y = actual[t];
    total += upper[t] - lower[t];
    if (y < lower[t]) total += (2 / a) * (lower[t] - y);
    if (y > upper[t]) total += (2 / a) * (y - upper[t]);
  }
  return total / actual.length / seasonalNaiveScale(train, m);
}

/** The share of the actual values at or below a quantile forecast (ideally the quantile's level). */
export function belowShare(actual: readonly number[], quantile: readonly number[]): number {
  let below = 0;
  for (let t = 0; t < actual.length; t++) if (actual[t] <= quantile[t]) below++;
  return below / actual.length;
}

/** Naive2: naive forecast of the seasonally adjusted series, re-seasonalised (M4 procedure). */
export function naive2(train: readonly number[], horizon: number, m: number): number[] {
  const n = train.length;
  if (!isSeasonal(train, m)) return new Array<number>(horizon).fill(train[n - 1]);
  const indices = classicalSeasonalIndices(train, m, 'multiplicative');
  const lastAdjusted = train[n - 1] / indices[(n - 1) % m];
  return Array.from({ length: horizon }, (_, i) => lastAdjusted * seasonalIndexAt(indices, n, i + 1));
}
