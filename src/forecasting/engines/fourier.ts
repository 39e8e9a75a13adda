/**
 * Harmonic (Fourier-term) seasonality for any real period, e.g. the 52.18-week year: least squares on
 * sin/cos pairs of the detrended series, with the number of harmonics chosen by AICc.
 */

/**
 * Solves the symmetric positive (semi)definite system A x = b of order p (row-major A, leading block of a
 * larger matrix with stride `stride`) by Cholesky with a small ridge; returns null when A is not positive
 * definite.
 */
function choleskySolve(a: Float64Array, stride: number, p: number, b: Float64Array): Float64Array | null {
  const l = new Float64Array(p * p);
  let scale = 0;
  for (let i = 0; i < p; i++) scale = Math.max(scale, a[i * stride + i]);
  const ridge = 1e-10 * (scale > 0 ? scale : 1);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * stride + j] + (i === j ? ridge : 0);
      for (let k = 0; k < j; k++) s -= l[i * p + k] * l[j * p + k];
      if (i === j) {
        if (!(s > 0)) return null;
        l[i * p + i] = Math.sqrt(s);
      } else l[i * p + j] = s / l[j * p + j];
    }
  }
  const z = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let s = b[i];
    for (let k = 0; k < i; k++) s -= l[i * p + k] * z[k];
    z[i] = s / l[i * p + i];
  }
  const x = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = i + 1; k < p; k++) s -= l[k * p + i] * x[k];
    x[i] = s / l[i * p + i];
  }
  return x;
}

/** A fitted harmonic seasonal pattern. */
export interface HarmonicFit {
  readonly period: number;
  readonly harmonics: number;
  /** sin/cos coefficients, 2·harmonics values. */
  readonly coefficients: Float64Array;
}

/** Values of a harmonic fit at t = from .. from+count−1 (sin/cos of the harmonics by the angle-addition recurrence). */
export function harmonicSeries(fit: HarmonicFit, from: number, count: number): Float64Array {
  const out = new Float64Array(count);
  const w = (2 * Math.PI) / fit.period;
  const coef = fit.coefficients;
  for (let i = 0; i < count; i++) {
    const angle = w * (from + i);
    const s1 = Math.sin(angle);
    const c1 = Math.cos(angle);
    let sk = s1;
    let ck = c1;
    let v = coef[0] * s1 + coef[1] * c1;
    for (let k = 2; k <= fit.harmonics; k++) {
      const sn = sk * c1 + ck * s1;
      ck = ck * c1 - sk * s1;
      sk = sn;
      v += coef[2 * k - 2] * sk + coef[2 * k - 1] * ck;
    }
    out[i] = v;
  }
  return out;
}

/** Σ_{t=from}^{from+count−1} (cos(a t), sin(a t)) in closed form (Dirichlet kernel). */
function trigSums(a: number, from: number, count: number): [number, number] {
  const half = Math.sin(a / 2);
  const centre = a * (from + (count - 1) / 2);
  if (Math.abs(half) < 1e-12) {
    // a is a multiple of 2π: every term equals the first one.
    return [count * Math.cos(a * from), count * Math.sin(a * from)];
  }
  const ratio = Math.sin((count * a) / 2) / half;
  return [Math.cos(centre) * ratio, Math.sin(centre) * ratio];
}

/**
 * Least-squares harmonic fit of z[t] for t in [from, to) (z should be detrended), with K = 1..maxHarmonics
 * chosen by AICc (or fixed when `harmonics` is given). Returns null when no fit is possible.
 */
export function fitHarmonics(
  z: ArrayLike<number>,
  period: number,
  from: number,
  to: number,
  maxHarmonics: number,
  harmonics?: number,
  allowNone = false,
): HarmonicFit | null {
  const count = to - from;
  const kMax = Math.max(1, Math.min(maxHarmonics, Math.floor(period / 2), Math.floor((count - 2) / 4)));
  if (count < 4 || kMax < 1) return null;
  const p = 2 * kMax;
  const xtx = new Float64Array(p * p);
  const xtz = new Float64Array(p);
  const w = (2 * Math.PI) / period;
  let ztz = 0;
  for (let t = from; t < to; t++) {
    const v = z[t];
    ztz += v * v;
    const s1 = Math.sin(w * t);
    const c1 = Math.cos(w * t);
    let sk = s1;
    let ck = c1;
    xtz[0] += s1 * v;
    xtz[1] += c1 * v;
    for (let k = 2; k <= kMax; k++) {
      const sn = sk * c1 + ck * s1;
      ck = ck * c1 - sk * s1;
      sk = sn;
      xtz[2 * k - 2] += sk * v;
      xtz[2 * k - 1] += ck * v;
    }
  }
  // Cross products of the regressors from product-to-sum identities and closed-form trigonometric sums.
  const cosSum = new Float64Array(2 * kMax + 1);
  const sinSum = new Float64Array(2 * kMax + 1);
  for (let m = 0; m <= 2 * kMax; m++) [cosSum[m], sinSum[m]] = trigSums(m * w, from, count);
  const cs = (m: number): number => cosSum[Math.abs(m)];
  const sn = (m: number): number => (m < 0 ? -sinSum[-m] : sinSum[m]);
  for (let j = 1; j <= kMax; j++) {
    for (let k = 1; k <= kMax; k++) {
      const si = 2 * j - 2;
      const ci = 2 * j - 1;
      const sk = 2 * k - 2;
      const ck = 2 * k - 1;
      xtx[si * p + sk] = 0.5 * (cs(j - k) - cs(j + k));
      xtx[ci * p + ck] = 0.5 * (cs(j - k) + cs(j + k));
      xtx[si * p + ck] = 0.5 * (sn(j + k) + sn(j - k));
      xtx[ck * p + si] = xtx[si * p + ck];
    }
  }
  let best: HarmonicFit | null = null;
  // K = 0 (no seasonality) competes unless the count is fixed.
  let bestCriterion = harmonics === undefined && allowNone ? count * Math.log(Math.max(ztz, 1e-300) / count) : Infinity;
  const ks = harmonics !== undefined ? [Math.min(harmonics, kMax)] : Array.from({ length: kMax }, (_, i) => i + 1);
  for (const k of ks) {
    const q = 2 * k;
    const b = xtz.subarray(0, q);
    const coef = choleskySolve(xtx, p, q, b);
    if (coef === null) continue;
    let explained = 0;
    for (let i = 0; i < q; i++) explained += coef[i] * b[i];
    const sse = Math.max(ztz - explained, 1e-300);
    const df = count - q - 1;
    const criterion = df > 0 ? count * Math.log(sse / count) + 2 * q + (2 * q * (q + 1)) / df : Infinity;
    if (criterion < bestCriterion || harmonics !== undefined) {
      bestCriterion = criterion;
      best = { period, harmonics: k, coefficients: Float64Array.from(coef) };
    }
  }
  return best;
}

/** Settings of a harmonic decomposition. */
export interface HarmonicDecompositionOptions {
  /** Upper bound on the harmonics per period (AICc chooses up to it). Default 10. */
  readonly maxHarmonics?: number;
  /** Fixed number of harmonics per period (overrides the AICc choice). */
  readonly harmonics?: number;
  /** Fit each pattern on the last this many cycles only (default: all data). */
  readonly cycles?: number;
  /** Backfitting passes over the periods. Default 2. */
  readonly iterate?: number;
  /** Let AICc choose no seasonality at all (K = 0) for a period. Default false. */
  readonly allowNone?: boolean;
}

/** Result of `harmonicDecomposition`: one harmonic fit per usable period. */
export interface HarmonicDecomposition {
  readonly fits: HarmonicFit[];
  /** Σ of the seasonal patterns at t = 0..n−1. */
  readonly seasonal: Float64Array;
}

/** Centred moving average of length round(period) (2×m when m is even), NaN where undefined. */
function centredMovingAverage(x: ArrayLike<number>, period: number): Float64Array {
  const n = x.length;
  const m = Math.max(2, Math.round(period));
  const half = Math.floor(m / 2);
  const out = new Float64Array(n).fill(NaN);
  if (n <= 2 * half) return out;
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + x[i];
  for (let t = half; t < n - half; t++) {
    if (m % 2 === 0) {
      const inner = prefix[t + half] - prefix[t - half + 1];
      out[t] = (inner + 0.5 * (x[t - half] + x[t + half])) / m;
    } else out[t] = (prefix[t + half + 1] - prefix[t - half]) / m;
  }
  return out;
}

/**
 * Additive harmonic decomposition: for each period (any real value > 2 with at least two cycles in the
 * data), the series with the other patterns removed is detrended by a centred moving average of one cycle
 * and its harmonics are fitted by least squares (AICc-chosen count); repeated `iterate` times.
 */
export function harmonicDecomposition(
  x: ArrayLike<number>,
  periods: readonly number[],
  options: HarmonicDecompositionOptions = {},
): HarmonicDecomposition {
  const n = x.length;
  const used = periods.filter((p) => p > 2 && 2 * p < n).sort((a, b) => a - b);
  const patterns: Float64Array[] = used.map(() => new Float64Array(n));
  const fits: (HarmonicFit | null)[] = used.map(() => null);
  // With one period a second pass would repeat the first.
  const iterate = used.length > 1 ? Math.max(1, options.iterate ?? 2) : 1;
  const work = new Float64Array(n);
  for (let it = 0; it < iterate; it++) {
    used.forEach((period, k) => {
      for (let t = 0; t < n; t++) {
        let v = x[t];
        for (let j = 0; j < used.length; j++) if (j !== k) v -= patterns[j][t];
        work[t] = v;
      }
      const trend = centredMovingAverage(work, period);
      const half = Math.floor(Math.max(2, Math.round(period)) / 2);
      for (let t = 0; t < n; t++) work[t] = Number.isNaN(trend[t]) ? 0 : work[t] - trend[t];
      const to = n - half;
      const from = options.cycles !== undefined ? Math.max(half, Math.floor(to - options.cycles * period)) : half;
      const fit = fitHarmonics(
        work,
        period,
        from,
        to,
        options.maxHarmonics ?? 10,
        options.harmonics,
        options.allowNone,
      );
      fits[k] = fit;
      patterns[k] = fit === null ? new Float64Array(n) : harmonicSeries(fit, 0, n);
    });
  }
  const seasonal = new Float64Array(n);
  for (const pattern of patterns) for (let t = 0; t < n; t++) seasonal[t] += pattern[t];
  return { fits: fits.filter((f): f is HarmonicFit => f !== null), seasonal };
}
