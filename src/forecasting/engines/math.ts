/** Numerical helpers shared by the forecasting engines (pure, allocation-light). */

export function sum(values: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return total;
}

export function mean(values: ArrayLike<number>): number {
  return values.length === 0 ? NaN : sum(values) / values.length;
}

export function variance(values: ArrayLike<number>): number {
  const n = values.length;
  if (n < 2) return 0;
  const mu = mean(values);
  let total = 0;
  for (let i = 0; i < n; i++) total += (values[i] - mu) ** 2;
  return total / (n - 1);
}

/** Sample autocorrelations r_1..r_maxLag as R's `acf` computes them (demeaned, divided by n·c0). */
export function acf(values: ArrayLike<number>, maxLag: number): number[] {
  const n = values.length;
  const mu = mean(values);
  let c0 = 0;
  for (let i = 0; i < n; i++) c0 += (values[i] - mu) ** 2;
  const out: number[] = [];
  for (let lag = 1; lag <= maxLag; lag++) {
    if (lag >= n || c0 === 0) {
      out.push(0);
      continue;
    }
    let c = 0;
    for (let i = lag; i < n; i++) c += (values[i] - mu) * (values[i - lag] - mu);
    out.push(c / c0);
  }
  return out;
}

/**
 * The M4 90 % seasonality test: the lag-m autocorrelation is significant when
 * |r_m| > 1.645/√n · √(1 + 2 Σ_{k<m} r_k²). Needs n ≥ 3m; R's `acf` stops at ⌊10·log10 n⌋ lags,
 * so a longer period cannot be tested and counts as not seasonal (unless `anyLag`, for long cycles
 * such as a year of weeks).
 */
export function isSeasonal(values: ArrayLike<number>, m: number, anyLag = false): boolean {
  const n = values.length;
  if (m <= 1 || n < 3 * m) return false;
  const maxLag = Math.floor(10 * Math.log10(n));
  if (m > maxLag && !anyLag) return false;
  const r = acf(values, m);
  let s = 0;
  for (let k = 0; k < m - 1; k++) s += r[k] * r[k];
  const limit = (1.645 * Math.sqrt(1 + 2 * s)) / Math.sqrt(n);
  return Math.abs(r[m - 1]) > limit;
}

/**
 * Seasonal indices of a classical decomposition (R's `decompose`): centred 2×m moving average,
 * detrended values averaged per season position, normalised to mean 1 (multiplicative) or 0 (additive).
 * Index i applies to observation t where t % m === i (t counted from 0 at the first observation).
 */
export function classicalSeasonalIndices(
  values: ArrayLike<number>,
  m: number,
  type: 'multiplicative' | 'additive' = 'multiplicative',
): number[] {
  const n = values.length;
  const half = Math.floor(m / 2);
  const totals = new Array<number>(m).fill(0);
  const counts = new Array<number>(m).fill(0);
  for (let t = half; t < n - half; t++) {
    let trend: number;
    if (m % 2 === 0) {
      let s = 0.5 * (values[t - half] + values[t + half]);
      for (let k = t - half + 1; k < t + half; k++) s += values[k];
      trend = s / m;
    } else {
      let s = 0;
      for (let k = t - half; k <= t + half; k++) s += values[k];
      trend = s / m;
    }
    const detrended = type === 'multiplicative' ? values[t] / trend : values[t] - trend;
    if (!Number.isFinite(detrended)) continue;
    totals[t % m] += detrended;
    counts[t % m] += 1;
  }
  const neutral = type === 'multiplicative' ? 1 : 0;
  const raw = totals.map((total, i) => (counts[i] > 0 ? total / counts[i] : neutral));
  const avg = mean(raw);
  return type === 'multiplicative' ? raw.map((v) => (avg === 0 ? 1 : v / avg)) : raw.map((v) => v - avg);
}

/** Seasonal factor that applies to future step h (1-based) of a series of length n. */
export function seasonalIndexAt(indices: readonly number[], n: number, h: number): number {
  return indices[(n + h - 1) % indices.length];
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
export function qnorm(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const pLow = 0.02425;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    );
  }
  if (p <= 1 - pLow) {
    const q = p - 0.5;
    const r = q * q;
    return (
      ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
      (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    );
  }
  return -qnorm(1 - p);
}

export interface NelderMeadOptions {
  /** Initial simplex step per coordinate (default 10 % of |x0|, or 0.05 where x0 is 0). */
  readonly step?: readonly number[];
  readonly maxIterations?: number;
  /** Stops when the simplex's function values differ by less than this (relative), as R's optim `reltol`. */
  readonly tolerance?: number;
}

export interface NelderMeadResult {
  readonly x: number[];
  readonly value: number;
  readonly iterations: number;
}

/**
 * Nelder–Mead simplex minimisation (the method R's `optim` defaults to and `forecast::ets` uses).
 * Infinite or NaN objective values act as barriers.
 */
export function nelderMead(
  f: (x: number[]) => number,
  x0: readonly number[],
  options: NelderMeadOptions = {},
): NelderMeadResult {
  const dim = x0.length;
  const maxIterations = options.maxIterations ?? 200 * dim;
  const tolerance = options.tolerance ?? 1e-8;
  const safe = (x: number[]): number => {
    const v = f(x);
    return Number.isFinite(v) ? v : Infinity;
  };
  const simplex: number[][] = [x0.slice()];
  for (let i = 0; i < dim; i++) {
    const point = x0.slice();
    const step = options.step?.[i] ?? (point[i] !== 0 ? 0.1 * Math.abs(point[i]) : 0.05);
    point[i] += step;
    simplex.push(point);
  }
  const values = simplex.map(safe);
  const order = simplex.map((_, i) => i);
  let iterations = 0;
  const centroid = new Array<number>(dim);
  const along = (from: number[], to: readonly number[], t: number): number[] => from.map((v, i) => v + t * (to[i] - v));
  for (; iterations < maxIterations; iterations++) {
    order.sort((a, b) => values[a] - values[b]);
    const best = order[0];
    const worst = order[dim];
    const secondWorst = order[dim - 1];
    const spread = Math.abs(values[worst] - values[best]);
    if (Number.isFinite(values[worst]) && spread <= tolerance * (Math.abs(values[best]) + tolerance)) break;
    centroid.fill(0);
    for (let k = 0; k < dim; k++) {
      const p = simplex[order[k]];
      for (let i = 0; i < dim; i++) centroid[i] += p[i] / dim;
    }
    const reflected = along(centroid, simplex[worst], -1);
    const fr = safe(reflected);
    if (fr < values[best]) {
      const expanded = along(centroid, simplex[worst], -2);
      const fe = safe(expanded);
      if (fe < fr) {
        simplex[worst] = expanded;
        values[worst] = fe;
      } else {
        simplex[worst] = reflected;
        values[worst] = fr;
      }
      continue;
    }
    if (fr < values[secondWorst]) {
      simplex[worst] = reflected;
      values[worst] = fr;
      continue;
    }
    const outside = fr < values[worst];
    const contracted = outside ? along(centroid, reflected, 0.5) : along(centroid, simplex[worst], 0.5);
    const fc = safe(contracted);
    if (fc < (outside ? fr : values[worst])) {
      simplex[worst] = contracted;
      values[worst] = fc;
      continue;
    }
    // Shrink towards the best point.
    for (let k = 1; k <= dim; k++) {
      const idx = order[k];
      simplex[idx] = along(simplex[best], simplex[idx], 0.5);
      values[idx] = safe(simplex[idx]);
    }
  }
  let bestIndex = 0;
  for (let k = 1; k <= dim; k++) if (values[k] < values[bestIndex]) bestIndex = k;
  return { x: simplex[bestIndex], value: values[bestIndex], iterations };
}

/** Ordinary least squares of y on [1, t] for t = 1..n: returns intercept and slope. */
export function linearTrend(values: ArrayLike<number>): { intercept: number; slope: number } {
  const n = values.length;
  if (n === 1) return { intercept: values[0], slope: 0 };
  const tMean = (n + 1) / 2;
  const yMean = mean(values);
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    const dt = i + 1 - tMean;
    sxy += dt * (values[i] - yMean);
    sxx += dt * dt;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { intercept: yMean - slope * tMean, slope };
}
