/**
 * Turning a request's raw series into what the engines expect: missing values imputed, the seasonal
 * period resolved (given, from the frequency, or detected).
 */
import { acf, linearTrend } from './math';

export const FREQUENCIES = ['hourly', 'daily', 'weekly', 'monthly', 'quarterly', 'yearly'] as const;
export type Frequency = (typeof FREQUENCIES)[number];

/** The usual primary period of each frequency (daily data: the weekly cycle). */
export const FREQUENCY_SEASON: Record<Frequency, number> = {
  hourly: 24,
  daily: 7,
  weekly: 52,
  monthly: 12,
  quarterly: 4,
  yearly: 1,
};

export interface ImputedSeries {
  readonly values: number[];
  /** How many missing values were filled in. */
  readonly imputed: number;
}

/**
 * Fills `null`s: linear interpolation between the nearest observed neighbours; leading gaps take the
 * first observed value and trailing gaps the last one (interpolation cannot extrapolate).
 * Returns undefined when nothing was observed at all.
 */
export function imputeMissing(series: readonly (number | null)[]): ImputedSeries | undefined {
  const n = series.length;
  const values = new Array<number>(n);
  let imputed = 0;
  let previous = -1;
  for (let t = 0; t < n; t++) {
    const v = series[t];
    if (v === null) {
      imputed++;
      continue;
    }
    values[t] = v;
    if (previous < t - 1) {
      // Fill the gap (previous, t).
      for (let k = previous + 1; k < t; k++) {
        values[k] = previous < 0 ? v : series[previous]! + ((v - series[previous]!) * (k - previous)) / (t - previous);
      }
    }
    previous = t;
  }
  if (previous < 0) return undefined;
  for (let k = previous + 1; k < n; k++) values[k] = values[previous];
  return { values, imputed };
}

/**
 * `season_length` if given, else the frequency's usual period; undefined when neither is known and the
 * period is to be detected from the series (detectSeasonLength, which runs where the forecast runs).
 */
export function givenSeasonLength(seasonLength?: number, frequency?: Frequency): number | undefined {
  if (seasonLength !== undefined) return seasonLength;
  return frequency !== undefined ? FREQUENCY_SEASON[frequency] : undefined;
}

/**
 * The period whose autocorrelation is the highest significant local peak (90 % test, as in the
 * M4 seasonality test), looking at lags 2..n/3 (at most 400). 1 when nothing stands out.
 */
export function detectSeasonLength(values: readonly number[]): number {
  const n = values.length;
  const maxLag = Math.min(Math.floor(n / 3), 400);
  if (maxLag < 2) return 1;
  // Remove the linear trend first, so a trend does not mask the cycle.
  const { intercept, slope } = linearTrend(values);
  const detrended = values.map((v, t) => v - intercept - slope * (t + 1));
  const r = acf(detrended, maxLag);
  const limit = 1.645 / Math.sqrt(n);
  let best = 1;
  let bestValue = 0;
  for (let lag = 2; lag <= maxLag; lag++) {
    const value = r[lag - 1];
    const isPeak = value > r[lag - 2] && (lag === maxLag || value >= r[lag]);
    if (isPeak && value > 2 * limit && value > bestValue + 0.05) {
      best = lag;
      bestValue = value;
    }
  }
  return best;
}
