/**
 * STL (Cleveland, Cleveland, McRae & Terpenning 1990, "STL: a seasonal-trend decomposition procedure based
 * on loess", Journal of Official Statistics 6(1)) and MSTL (Bandara, Hyndman & Bergmeir 2021, "MSTL: a
 * seasonal-trend decomposition algorithm for time series with multiple seasonal patterns").
 *
 * `stl` follows the reference Fortran implementation (netlib `stl`, the code behind R's `stats::stl`) step
 * for step: cycle-subseries loess, low-pass filter (moving averages of length p, p, 3 then loess), trend
 * loess, optional robustness iterations with bisquare weights, and loess evaluated every `jump` points with
 * linear interpolation in between. `mstl` follows R's `forecast::mstl`.
 */

/** Window and degree settings of one STL fit; the defaults are R's `stl` defaults. */
export interface StlOptions {
  /** Seasonal loess span in cycles (odd, >= 3), or 'periodic' for a fixed seasonal pattern. Default 'periodic'. */
  readonly seasonalWindow?: number | 'periodic';
  /** Degree of the seasonal loess (0 or 1). Default 0. */
  readonly seasonalDegree?: 0 | 1;
  /** Trend loess span in observations. Default nextOdd(ceil(1.5·period / (1 − 1.5/seasonalWindow))). */
  readonly trendWindow?: number;
  /** Degree of the trend loess (0 or 1). Default 1. */
  readonly trendDegree?: 0 | 1;
  /** Span of the low-pass loess. Default nextOdd(period). */
  readonly lowPassWindow?: number;
  /** Inner (backfitting) iterations. Default 2, or 1 when robust. */
  readonly inner?: number;
  /** Robustness iterations. Default 0, or 15 when robust. */
  readonly outer?: number;
  /** Shorthand for R's `robust = TRUE`. */
  readonly robust?: boolean;
}

/** An additive decomposition y = trend + seasonal + remainder. */
export interface StlResult {
  readonly trend: Float64Array;
  readonly seasonal: Float64Array;
  readonly remainder: Float64Array;
  /** Robustness weights of the final fit (all 1 without robustness iterations). */
  readonly weights: Float64Array;
}

function nextOdd(x: number): number {
  const r = Math.round(x);
  return r % 2 === 0 ? r + 1 : r;
}

/**
 * Local weighted (degree 0 or 1) fit at abscissa xs (1-based) using the points nleft..nright (1-based) of
 * y[yOffset ..], tricube weights times the optional robustness weights (the Fortran `stlest`, computed in one
 * pass from weighted moments). Returns NaN when all weights vanish.
 */
function loessPoint(
  y: Float64Array,
  yOffset: number,
  n: number,
  len: number,
  degree: number,
  xs: number,
  nleft: number,
  nright: number,
  rw: Float64Array | null,
  rwOffset: number,
): number {
  const range = n - 1;
  let h = Math.max(xs - nleft, nright - xs);
  if (len > n) h += Math.floor((len - n) / 2);
  const h9 = 0.999 * h;
  const h1 = 0.001 * h;
  // Weighted moments about xs: Σw, Σw·d, Σw·d², Σw·y, Σw·d·y with d = j − xs.
  let sw = 0;
  let sd = 0;
  let sdd = 0;
  let sy = 0;
  let sdy = 0;
  for (let j = nleft; j <= nright; j++) {
    const d = j - xs;
    const r = d < 0 ? -d : d;
    if (r > h9) continue;
    let wj: number;
    if (r <= h1) wj = 1;
    else {
      const q = r / h;
      const u = 1 - q * q * q;
      wj = u * u * u;
    }
    if (rw !== null) wj *= rw[rwOffset + j - 1];
    const v = y[yOffset + j - 1];
    sw += wj;
    sd += wj * d;
    sdd += wj * d * d;
    sy += wj * v;
    sdy += wj * d * v;
  }
  if (sw <= 0) return NaN;
  const ybar = sy / sw;
  if (h > 0 && degree > 0) {
    const dbar = sd / sw;
    const c = sdd / sw - dbar * dbar;
    if (Math.sqrt(c) > 0.001 * range) {
      // Local linear fit evaluated at d = 0.
      const cov = sdy / sw - dbar * ybar;
      return ybar - (dbar * cov) / c;
    }
  }
  return ybar;
}

/**
 * Loess smoothing of y[yOffset .. yOffset+n) into ys[ysOffset ..), evaluated every `jump` points and linearly
 * interpolated in between (the Fortran `stless`).
 */
function loessSmooth(
  y: Float64Array,
  yOffset: number,
  n: number,
  len: number,
  degree: number,
  jump: number,
  rw: Float64Array | null,
  rwOffset: number,
  ys: Float64Array,
  ysOffset: number,
): void {
  if (n < 2) {
    ys[ysOffset] = y[yOffset];
    return;
  }
  const step = Math.min(jump, n - 1);
  let nleft = 1;
  let nright = n;
  const fit = (i: number): void => {
    const v = loessPoint(y, yOffset, n, len, degree, i, nleft, nright, rw, rwOffset);
    ys[ysOffset + i - 1] = Number.isNaN(v) ? y[yOffset + i - 1] : v;
  };
  if (len >= n) {
    nleft = 1;
    nright = n;
    for (let i = 1; i <= n; i += step) fit(i);
  } else if (step === 1) {
    const nsh = (len + 1) >> 1;
    nleft = 1;
    nright = len;
    for (let i = 1; i <= n; i++) {
      if (i > nsh && nright !== n) {
        nleft++;
        nright++;
      }
      fit(i);
    }
  } else {
    const nsh = (len + 1) >> 1;
    for (let i = 1; i <= n; i += step) {
      if (i < nsh) {
        nleft = 1;
        nright = len;
      } else if (i >= n - nsh + 1) {
        nleft = n - len + 1;
        nright = n;
      } else {
        nleft = i - nsh + 1;
        nright = len + i - nsh;
      }
      fit(i);
    }
  }
  if (step !== 1) {
    for (let i = 1; i <= n - step; i += step) {
      const a = ys[ysOffset + i - 1];
      const delta = (ys[ysOffset + i + step - 1] - a) / step;
      for (let j = i + 1; j <= i + step - 1; j++) ys[ysOffset + j - 1] = a + delta * (j - i);
    }
    const k = Math.floor((n - 1) / step) * step + 1;
    if (k !== n) {
      fit(n);
      if (k !== n - 1) {
        const a = ys[ysOffset + k - 1];
        const delta = (ys[ysOffset + n - 1] - a) / (n - k);
        for (let j = k + 1; j <= n - 1; j++) ys[ysOffset + j - 1] = a + delta * (j - k);
      }
    }
  }
}

/** Moving average of length len over x[0..n): n − len + 1 values into out. */
function movingAverage(x: Float64Array, n: number, len: number, out: Float64Array): void {
  const newN = n - len + 1;
  let v = 0;
  for (let i = 0; i < len; i++) v += x[i];
  out[0] = v / len;
  for (let j = 1, k = len, m = 0; j < newN; j++, k++, m++) {
    v += x[k] - x[m];
    out[j] = v / len;
  }
}

interface StlParams {
  readonly period: number;
  readonly ns: number;
  readonly nt: number;
  readonly nl: number;
  readonly isdeg: number;
  readonly itdeg: number;
  readonly ildeg: number;
  readonly nsjump: number;
  readonly ntjump: number;
  readonly nljump: number;
}

/** One pass of the inner loop (the Fortran `stlstp`). */
function stlInner(
  y: Float64Array,
  p: StlParams,
  inner: number,
  rw: Float64Array | null,
  season: Float64Array,
  trend: Float64Array,
): void {
  const n = y.length;
  const np = p.period;
  const work1 = new Float64Array(n + 2 * np);
  const work2 = new Float64Array(n + 2 * np);
  const work3 = new Float64Array(n + 2 * np);
  const sub = new Float64Array(Math.ceil(n / np) + 2);
  const subSmooth = new Float64Array(Math.ceil(n / np) + 2);
  const subWeights = new Float64Array(Math.ceil(n / np) + 2);
  for (let iter = 0; iter < inner; iter++) {
    for (let i = 0; i < n; i++) work1[i] = y[i] - trend[i];
    // Cycle-subseries smoothing, extended by one cycle at each end: work2 has n + 2·np values.
    for (let j = 0; j < np; j++) {
      const k = Math.floor((n - j - 1) / np) + 1;
      for (let i = 0; i < k; i++) sub[i] = work1[i * np + j];
      if (rw !== null) for (let i = 0; i < k; i++) subWeights[i] = rw[i * np + j];
      const weights = rw !== null ? subWeights : null;
      loessSmooth(sub, 0, k, p.ns, p.isdeg, p.nsjump, weights, 0, subSmooth, 1);
      const nright = Math.min(p.ns, k);
      const first = loessPoint(sub, 0, k, p.ns, p.isdeg, 0, 1, nright, weights, 0);
      subSmooth[0] = Number.isNaN(first) ? subSmooth[1] : first;
      const nleft = Math.max(1, k - p.ns + 1);
      const last = loessPoint(sub, 0, k, p.ns, p.isdeg, k + 1, nleft, k, weights, 0);
      subSmooth[k + 1] = Number.isNaN(last) ? subSmooth[k] : last;
      for (let m = 0; m < k + 2; m++) work2[m * np + j] = subSmooth[m];
    }
    // Low-pass filter of the cycle-subseries: MA(np), MA(np), MA(3), then loess.
    movingAverage(work2, n + 2 * np, np, work3);
    movingAverage(work3, n + np + 1, np, work1);
    movingAverage(work1, n + 2, 3, work3);
    loessSmooth(work3, 0, n, p.nl, p.ildeg, p.nljump, null, 0, work1, 0);
    for (let i = 0; i < n; i++) season[i] = work2[np + i] - work1[i];
    for (let i = 0; i < n; i++) work1[i] = y[i] - season[i];
    loessSmooth(work1, 0, n, p.nt, p.itdeg, p.ntjump, rw, 0, trend, 0);
  }
}

/** Bisquare robustness weights from the residuals (the Fortran `stlrwt`). */
function robustnessWeights(y: Float64Array, fit: Float64Array, rw: Float64Array): void {
  const n = y.length;
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) r[i] = Math.abs(y[i] - fit[i]);
  const sorted = Float64Array.from(r).sort();
  const mid1 = Math.floor(n / 2) + 1;
  const mid2 = n - mid1 + 1;
  const cmad = 3 * (sorted[mid1 - 1] + sorted[mid2 - 1]);
  const c9 = 0.999 * cmad;
  const c1 = 0.001 * cmad;
  for (let i = 0; i < n; i++) {
    if (r[i] <= c1) rw[i] = 1;
    else if (r[i] <= c9) {
      const q = r[i] / cmad;
      rw[i] = (1 - q * q) * (1 - q * q);
    } else rw[i] = 0;
  }
}

/**
 * STL decomposition of y with an integer period >= 2; needs at least two full periods (as R's `stl`).
 * Windows are made odd and at least 3, as in the reference implementation.
 */
export function stl(values: ArrayLike<number>, period: number, options: StlOptions = {}): StlResult {
  const n = values.length;
  if (!Number.isInteger(period) || period < 2) throw new RangeError(`STL needs an integer period >= 2, got ${period}`);
  if (n <= 2 * period) throw new RangeError(`STL needs more than two periods (${2 * period}), got ${n} values`);
  const y = Float64Array.from(values);
  const requestedWindow = options.seasonalWindow ?? 'periodic';
  const periodic = requestedWindow === 'periodic';
  const seasonalWindow = requestedWindow === 'periodic' ? 10 * n + 1 : requestedWindow;
  const seasonalDegree = periodic ? 0 : (options.seasonalDegree ?? 0);
  const trendDegree = options.trendDegree ?? 1;
  const trendWindow = options.trendWindow ?? nextOdd(Math.ceil((1.5 * period) / (1 - 1.5 / seasonalWindow)));
  const lowPassWindow = options.lowPassWindow ?? nextOdd(period);
  const robust = options.robust ?? false;
  const inner = options.inner ?? (robust ? 1 : 2);
  const outer = options.outer ?? (robust ? 15 : 0);
  const odd = (x: number): number => {
    const v = Math.max(3, Math.floor(x));
    return v % 2 === 0 ? v + 1 : v;
  };
  const params: StlParams = {
    period,
    ns: odd(seasonalWindow),
    nt: odd(trendWindow),
    nl: odd(lowPassWindow),
    isdeg: seasonalDegree,
    itdeg: trendDegree,
    ildeg: trendDegree,
    nsjump: Math.max(1, Math.ceil(seasonalWindow / 10)),
    ntjump: Math.max(1, Math.ceil(trendWindow / 10)),
    nljump: Math.max(1, Math.ceil(lowPassWindow / 10)),
  };
  const season = new Float64Array(n);
  const trend = new Float64Array(n);
  const rw = new Float64Array(n).fill(1);
  let useWeights = false;
  for (let k = 0; ; k++) {
    stlInner(y, params, inner, useWeights ? rw : null, season, trend);
    if (k >= outer) break;
    const fit = new Float64Array(n);
    for (let i = 0; i < n; i++) fit[i] = trend[i] + season[i];
    robustnessWeights(y, fit, rw);
    useWeights = true;
  }
  if (outer <= 0) rw.fill(1);
  if (periodic) {
    // R replaces a periodic fit's seasonal component by its cycle means.
    const totals = new Float64Array(period);
    const counts = new Float64Array(period);
    for (let i = 0; i < n; i++) {
      totals[i % period] += season[i];
      counts[i % period] += 1;
    }
    for (let i = 0; i < n; i++) season[i] = totals[i % period] / counts[i % period];
  }
  const remainder = new Float64Array(n);
  for (let i = 0; i < n; i++) remainder[i] = y[i] - trend[i] - season[i];
  return { trend, seasonal: season, remainder, weights: rw };
}

/** Settings of an MSTL decomposition (R's `forecast::mstl` defaults unless stated). */
export interface MstlOptions {
  /** Backfitting passes over all periods. Default 2. */
  readonly iterate?: number;
  /** Seasonal windows, one per period in increasing period order; default 7 + 4·i (11, 15, 19, ...). */
  readonly seasonalWindows?: readonly (number | 'periodic')[];
  /** Trend window of the STL fits (default: STL's own default for each period). */
  readonly trendWindow?: number;
  /** Robust STL fits. Default false. */
  readonly robust?: boolean;
}

/** MSTL decomposition: y = trend + Σ seasonal[k] + remainder. */
export interface MstlResult {
  /** Periods actually used, increasing (those with more than two full cycles in the data). */
  readonly periods: number[];
  readonly trend: Float64Array;
  /** One component per entry of `periods`. */
  readonly seasonals: Float64Array[];
  readonly remainder: Float64Array;
}

/**
 * MSTL: STL applied iteratively to each period in increasing order, each time to the series with the other
 * seasonal components removed. Periods are rounded to integers; those with fewer than two full cycles
 * (period >= n/2) are dropped, as in R. With no period left the trend is a loess-free straight copy of the
 * series is not useful, so the trend comes from a single STL-style trend loess (R uses supsmu there).
 */
export function mstl(values: ArrayLike<number>, periods: readonly number[], options: MstlOptions = {}): MstlResult {
  const n = values.length;
  const used = [...new Set(periods.map((p) => Math.round(p)))].filter((p) => p >= 2 && p < n / 2).sort((a, b) => a - b);
  const y = Float64Array.from(values);
  const iterate = Math.max(1, options.iterate ?? 2);
  const seasonals: Float64Array[] = used.map(() => new Float64Array(n));
  const deseason = Float64Array.from(y);
  let trend: Float64Array = new Float64Array(n);
  if (used.length === 0) {
    const len = nextOdd(Math.max(3, Math.min(n, options.trendWindow ?? Math.ceil(n / 4))));
    loessSmooth(y, 0, n, len, 1, Math.max(1, Math.ceil(len / 10)), null, 0, trend, 0);
  }
  for (let it = 0; it < iterate && used.length > 0; it++) {
    for (let k = 0; k < used.length; k++) {
      const s = seasonals[k];
      for (let i = 0; i < n; i++) deseason[i] += s[i];
      const fit = stl(deseason, used[k], {
        seasonalWindow: options.seasonalWindows?.[k] ?? 7 + 4 * (k + 1),
        trendWindow: options.trendWindow,
        robust: options.robust,
      });
      seasonals[k] = fit.seasonal;
      trend = fit.trend;
      for (let i = 0; i < n; i++) deseason[i] -= fit.seasonal[i];
    }
  }
  const remainder = new Float64Array(n);
  for (let i = 0; i < n; i++) remainder[i] = deseason[i] - trend[i];
  return { periods: used, trend, seasonals, remainder };
}
