/**
 * Forecast accuracy exactly as the M4 competition scored it (see the benchmark data's README):
 * sMAPE, MASE with seasonal-naive in-sample scaling, and the Naive2 benchmark that OWA is relative to.
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

/** MASE scaled by the in-sample mean absolute error of the seasonal naive forecast (period m). */
export function mase(
  train: readonly number[],
  actual: readonly number[],
  forecast: readonly number[],
  m: number,
): number {
  let scale = 0;
  for (let t = m; t < train.length; t++) scale += Math.abs(train[t] - train[t - m]);
  scale /= train.length - m;
  let total = 0;
  for (let t = 0; t < actual.length; t++) total += Math.abs(actual[t] - forecast[t]);
  return total / actual.length / scale;
}

/** Naive2: naive forecast of the seasonally adjusted series, re-seasonalised (M4 procedure). */
export function naive2(train: readonly number[], horizon: number, m: number): number[] {
  const n = train.length;
  if (!isSeasonal(train, m)) return new Array<number>(horizon).fill(train[n - 1]);
  const indices = classicalSeasonalIndices(train, m, 'multiplicative');
  const lastAdjusted = train[n - 1] / indices[(n - 1) % m];
  return Array.from({ length: horizon }, (_, i) => lastAdjusted * seasonalIndexAt(indices, n, i + 1));
}
