/**
 * Choice of the differencing orders of the ARIMA engine, as `forecast::auto.arima` makes it:
 * `ndiffs` (repeated KPSS level-stationarity tests at 5 %, `urca::ur.kpss` with the short Bartlett lag
 * ⌊3√n/13⌋) and `nsdiffs` with the default seasonal-strength heuristic (STL seasonal strength > 0.64).
 */
import { seasonalStrength } from './arima-stl';

/**
 * `forecast::is.constant`: all values equal to the first up to `all.equal`'s relative tolerance (mean
 * absolute difference ≤ 1.5e-8 · mean absolute value). Two deviations keep it scale-free: no absolute
 * tolerance for values near zero (R treats any series below 1.5e-8 as constant), and differences
 * below 1e-13 · `reference` (the scale of the undifferenced data) count as rounding noise, so that
 * exactly periodic or polynomial data become constant after differencing.
 */
export function isConstant(x: ArrayLike<number>, reference = 0): boolean {
  const n = x.length;
  if (n <= 1) return true;
  const first = x[0];
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < n; i++) {
    diff += Math.abs(x[i] - first);
    scale += Math.abs(x[i]);
  }
  return diff / n <= Math.max(1.5e-8 * (scale / n), 1e-13 * reference);
}

/** Default KPSS lag truncation of `ndiffs`: ⌊3√n / 13⌋. */
export function kpssLags(n: number): number {
  return Math.trunc((3 * Math.sqrt(n)) / 13);
}

/**
 * KPSS statistic for level stationarity (`urca::ur.kpss(type = "mu")`): η = Σ S_t² / n² / σ̂²_L with
 * S the partial sums of the demeaned series and σ̂²_L the Bartlett-weighted long-run variance.
 */
export function kpssStatistic(x: ArrayLike<number>, lags = kpssLags(x.length)): number {
  const n = x.length;
  let mu = 0;
  for (let i = 0; i < n; i++) mu += x[i];
  mu /= n;
  const e = new Float64Array(n);
  for (let i = 0; i < n; i++) e[i] = x[i] - mu;
  let s = 0;
  let sumS2 = 0;
  let sumE2 = 0;
  for (let i = 0; i < n; i++) {
    s += e[i];
    sumS2 += s * s;
    sumE2 += e[i] * e[i];
  }
  const numerator = sumS2 / (n * n);
  let denominator = sumE2 / n;
  const lmax = Math.min(lags, n - 1);
  if (lmax > 0) {
    let out = 0;
    for (let lag = 1; lag <= lmax; lag++) {
      let c = 0;
      for (let t = lag; t < n; t++) c += e[t] * e[t - lag];
      out += (1 - lag / (lmax + 1)) * c;
    }
    denominator += (2 / n) * out;
  }
  return numerator / denominator;
}

/** KPSS critical values (level) of Kwiatkowski et al. (1992), Table 1, as tabulated by `urca`. */
const KPSS_CRITICAL = [0.347, 0.463, 0.574, 0.739];
const KPSS_LEVELS = [0.1, 0.05, 0.025, 0.01];

/** p-value of a KPSS level statistic by linear interpolation in the table, clamped to [0.01, 0.10]. */
export function kpssPValue(statistic: number): number {
  if (statistic <= KPSS_CRITICAL[0]) return KPSS_LEVELS[0];
  for (let i = 1; i < KPSS_CRITICAL.length; i++) {
    if (statistic <= KPSS_CRITICAL[i]) {
      const t = (statistic - KPSS_CRITICAL[i - 1]) / (KPSS_CRITICAL[i] - KPSS_CRITICAL[i - 1]);
      return KPSS_LEVELS[i - 1] + t * (KPSS_LEVELS[i] - KPSS_LEVELS[i - 1]);
    }
  }
  return KPSS_LEVELS[KPSS_LEVELS.length - 1];
}

function meanAbs(x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.abs(x[i]);
  return x.length > 0 ? s / x.length : 0;
}

/** x[t] − x[t − lag], applied `times` times. */
export function difference(x: ArrayLike<number>, lag: number, times = 1): Float64Array {
  if (times === 0) return Float64Array.from(x);
  let from: ArrayLike<number> = x;
  let out = new Float64Array(0);
  for (let k = 0; k < times; k++) {
    out = new Float64Array(Math.max(0, from.length - lag));
    for (let t = lag; t < from.length; t++) out[t - lag] = from[t] - from[t - lag];
    from = out;
  }
  return out;
}

/** Number of first differences by repeated KPSS tests (`forecast::ndiffs`, alpha 0.05). */
export function ndiffs(
  x: ArrayLike<number>,
  options: { alpha?: number; maxD?: number; reference?: number } = {},
): number {
  const alpha = Math.min(0.1, Math.max(0.01, options.alpha ?? 0.05));
  const maxD = options.maxD ?? 2;
  const reference = options.reference ?? meanAbs(x);
  let series: ArrayLike<number> = x;
  let d = 0;
  if (isConstant(series, reference)) return d;
  const needsDiff = (s: ArrayLike<number>): boolean => {
    const stat = kpssStatistic(s);
    if (!Number.isFinite(stat)) return false;
    return kpssPValue(stat) < alpha;
  };
  let dodiff = needsDiff(series);
  while (dodiff && d < maxD) {
    d++;
    series = difference(series, 1);
    if (isConstant(series, reference)) return d;
    dodiff = needsDiff(series);
  }
  return d;
}

/**
 * Number of seasonal differences (`forecast::nsdiffs`, test "seas", max.D 1): 1 when the STL seasonal
 * strength exceeds 0.64, else 0; 0 for series of at most 2m observations.
 */
export function nsdiffs(x: ArrayLike<number>, m: number, options: { maxD?: number; reference?: number } = {}): number {
  const maxD = options.maxD ?? 1;
  const reference = options.reference ?? meanAbs(x);
  if (m <= 1 || isConstant(x, reference) || x.length <= 2 * m) return 0;
  const test = (s: ArrayLike<number>): boolean => {
    const strength = seasonalStrength(s, m);
    return Number.isFinite(strength) && strength > 0.64;
  };
  let series: ArrayLike<number> = x;
  let D = 0;
  let dodiff = test(series);
  while (dodiff && D < maxD) {
    D++;
    series = difference(series, m);
    if (isConstant(series, reference)) return D;
    dodiff = series.length > 2 * m && D < maxD ? test(series) : false;
  }
  return D;
}
