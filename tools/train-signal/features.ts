/**
 * Feature vector and labels of the trading-signal model.
 *
 * The features are computed from one instrument's closing prices, oldest first, and use only the
 * last {@link SIGNAL_MIN_HISTORY} prices. All of them are scale-free (log returns, log ratios,
 * volatilities of log returns, an up-share), so one model serves indices of any price level.
 */

/** Class order of the model's `probabilities` output: index 0 = SELL, 1 = HOLD, 2 = BUY. */
export const SIGNAL_CLASSES = ['SELL', 'HOLD', 'BUY'] as const;
export type SignalClass = (typeof SIGNAL_CLASSES)[number];

/** Names of the features, in the order {@link signalFeatures} returns them. */
export const SIGNAL_FEATURE_NAMES = [
  'log_return_1', // ln(p[t] / p[t-1])
  'log_return_2', // ln(p[t-1] / p[t-2])
  'log_return_3', // ln(p[t-2] / p[t-3])
  'log_return_4', // ln(p[t-3] / p[t-4])
  'log_return_5', // ln(p[t-4] / p[t-5])
  'momentum_5', // ln(p[t] / p[t-5])
  'momentum_20', // ln(p[t] / p[t-20])
  'ma_gap_5', // ln(p[t] / mean(p[t-4..t]))
  'ma_gap_20', // ln(p[t] / mean(p[t-19..t]))
  'volatility_5', // population standard deviation of the last 5 log returns
  'volatility_20', // population standard deviation of the last 20 log returns
  'rsi_14', // sum of gains / sum of absolute log returns over the last 14 returns, in [0, 1]; 0.5 when flat
] as const;

export const SIGNAL_FEATURE_COUNT = SIGNAL_FEATURE_NAMES.length;

/** The fewest prices {@link signalFeatures} accepts: 20 log returns need 21 closes. */
export const SIGNAL_MIN_HISTORY = 21;

/**
 * The feature vector for the last price of `prices` (closing prices, oldest first, all finite and
 * positive). Only the last {@link SIGNAL_MIN_HISTORY} prices are used.
 * @throws RangeError when the history is too short or holds a non-finite or non-positive price.
 */
export function signalFeatures(prices: readonly number[]): number[] {
  if (prices.length < SIGNAL_MIN_HISTORY) {
    throw new RangeError(`signalFeatures needs at least ${SIGNAL_MIN_HISTORY} prices, got ${prices.length}`);
  }
  const p = prices.slice(prices.length - SIGNAL_MIN_HISTORY);
  for (const v of p) {
    if (!Number.isFinite(v) || v <= 0) throw new RangeError(`signalFeatures needs finite positive prices, got ${v}`);
  }
  const t = p.length - 1;
  // r[i] = ln(p[i+1] / p[i]); r[19] is the most recent return.
  const r: number[] = [];
  for (let i = 0; i < t; i++) r.push(Math.log(p[i + 1] / p[i]));
  const last = (k: number): number[] => r.slice(r.length - k);

  return [
    r[t - 1],
    r[t - 2],
    r[t - 3],
    r[t - 4],
    r[t - 5],
    Math.log(p[t] / p[t - 5]),
    Math.log(p[t] / p[t - 20]),
    Math.log(p[t] / mean(p.slice(t - 4))),
    Math.log(p[t] / mean(p.slice(t - 19))),
    populationStd(last(5)),
    populationStd(last(20)),
    upShare(last(14)),
  ];
}

/**
 * The class of a next-period simple return: BUY above `threshold`, SELL below `-threshold`, HOLD
 * otherwise (|return| <= threshold). Returned as the index into {@link SIGNAL_CLASSES}.
 */
export function signalLabel(nextReturn: number, threshold: number): number {
  if (nextReturn > threshold) return 2;
  if (nextReturn < -threshold) return 0;
  return 1;
}

function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

function populationStd(xs: readonly number[]): number {
  const m = mean(xs);
  let s = 0;
  for (const x of xs) s += (x - m) * (x - m);
  return Math.sqrt(s / xs.length);
}

function upShare(xs: readonly number[]): number {
  let up = 0;
  let total = 0;
  for (const x of xs) {
    if (x > 0) up += x;
    total += Math.abs(x);
  }
  return total === 0 ? 0.5 : up / total;
}
