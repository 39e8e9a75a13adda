/**
 * Forecasting of series with one or several seasonal cycles (hourly data: 24 and 168; weekly data: the
 * 52.18-week year). The building block is a decomposition engine: the (Box–Cox transformed) series is
 * split into seasonal patterns (MSTL for integer periods, harmonic regression for non-integer ones) and a
 * seasonally adjusted series, which a pluggable non-seasonal `Engine` forecasts; the patterns are carried
 * forward and added back. On top of it, `createMultiSeasonal` builds the recommended engine per frequency:
 * sub-daily data picks among decomposition and seasonal-naive candidates by rolling-origin validation,
 * weekly data averages damped-trend forecasts with and without the yearly cycle.
 */
import { InsufficientDataError, type Engine, type EngineForecast, type EngineOptions } from './types';
import { acf, linearTrend, nelderMead } from './math';
import { mstl } from './mstl';
import { harmonicDecomposition, harmonicSeries } from './fourier';

/** Calendar knowledge the caller may have about a series. */
export type FrequencyHint =
  'minutely' | 'half-hourly' | 'hourly' | 'daily' | 'weekly' | 'monthly' | 'quarterly' | 'yearly' | 'other';

/**
 * Seasonal periods worth modelling for a series of length n, shortest first. Only periods with more than two
 * full cycles in the data (period < n/2) are returned.
 *
 * - hourly (or seasonLength 24 without a hint): 24 and 168 (day and week)
 * - half-hourly (or seasonLength 48): 48 and 336
 * - minutely (or seasonLength 60): 60 and 1440
 * - daily (or seasonLength 7): 7 and 365.25
 * - weekly (or seasonLength 52 / 53): 365.25 / 7 ≈ 52.18 (whatever seasonLength says, since M4 scores weekly
 *   data with seasonLength 1)
 * - otherwise: seasonLength when it is > 1.
 * Non-integer periods are returned as such (the decomposition engine fits them by harmonic regression).
 */
export function seasonalPeriodsFor(seasonLength: number, n: number, frequency?: FrequencyHint): number[] {
  let periods: number[];
  const hint = frequency ?? frequencyFromSeasonLength(seasonLength);
  switch (hint) {
    case 'hourly':
      periods = [24, 168];
      break;
    case 'half-hourly':
      periods = [48, 336];
      break;
    case 'minutely':
      periods = [60, 1440];
      break;
    case 'daily':
      periods = [7, 365.25];
      break;
    case 'weekly':
      periods = [365.25 / 7];
      break;
    case 'monthly':
    case 'quarterly':
    case 'yearly':
    case 'other':
    case undefined:
      periods = seasonLength > 1 ? [seasonLength] : [];
      break;
  }
  return periods.filter((p) => p > 1 && p < n / 2).sort((a, b) => a - b);
}

/** The frequency a season length usually means (24 → hourly, 48 → half-hourly, 60 → minutely, 7 → daily, 52 → weekly). */
export function frequencyFromSeasonLength(seasonLength: number): FrequencyHint | undefined {
  switch (Math.round(seasonLength)) {
    case 24:
      return 'hourly';
    case 48:
      return 'half-hourly';
    case 60:
      return 'minutely';
    case 7:
      return 'daily';
    case 52:
    case 53:
      return 'weekly';
    default:
      return undefined;
  }
}

/**
 * The lag near `nominal` (within ±radius, default round(nominal/6)) where the autocorrelation of the last
 * `window` observations (default 14·nominal) peaks; `nominal` itself unless another lag is strictly higher.
 * Sub-daily data labelled with a 24-step day sometimes repeats every 23 or 25 steps (or drifts); the
 * seasonal patterns and seasonal naive forecasts then have to use the observed cycle.
 */
export function refinePeriod(y: readonly number[], nominal: number, radius?: number, window?: number): number {
  const m = Math.round(nominal);
  const r = radius ?? Math.max(1, Math.round(m / 6));
  const recent = y.slice(-Math.min(y.length, window ?? 14 * m));
  if (m < 2 || recent.length < 2 * (m + r)) return nominal;
  const rho = acf(recent, m + r);
  let best = m;
  for (let lag = Math.max(2, m - r); lag <= m + r; lag++) if (rho[lag - 1] > rho[best - 1] + 1e-12) best = lag;
  return best;
}

// ---------------------------------------------------------------------------------------------------------
// Small non-seasonal forecasters for the seasonally adjusted series.
// ---------------------------------------------------------------------------------------------------------

interface SmootherFit {
  readonly alpha: number;
  readonly beta: number;
  readonly phi: number;
  /** Final level and slope. */
  readonly level: number;
  readonly slope: number;
  /** Sum of squared one-step errors. */
  readonly sse: number;
}

/**
 * Least-squares fit of the additive damped-trend recursion for given (α, β, φ):
 *   ŷ_t = l_{t-1} + φ b_{t-1};  e_t = y_t − ŷ_t;  l_t = ŷ_t + α e_t;  b_t = φ b_{t-1} + β e_t
 * (β = 0 without a trend: simple exponential smoothing). The errors are affine in the initial states,
 * e_t = e⁰_t − g_t δl − k_t δb (e⁰ from the rough start l0 = y_1, b0 = y_2 − y_1, g and k the one-step
 * forecasts of the recursion run on zero data from a unit initial level / slope), so the least-squares
 * correction (δl, δb) and the resulting SSE come from one pass and a 2×2 solve. Starting near the data
 * keeps Σe⁰² close to the SSE, so the closed-form SSE does not lose precision.
 */
function fitSmoother(y: ArrayLike<number>, alpha: number, beta: number, phi: number, withTrend: boolean): SmootherFit {
  const n = y.length;
  let l = y[0];
  let b = withTrend && n > 1 ? y[1] - y[0] : 0;
  let gl = 1;
  let gb = 0;
  let kl = 0;
  let kb = withTrend ? 1 : 0;
  let sgg = 0;
  let sgk = 0;
  let skk = 0;
  let sge = 0;
  let ske = 0;
  let see = 0;
  for (let t = 0; t < n; t++) {
    const f = l + phi * b;
    const e = y[t] - f;
    l = f + alpha * e;
    b = phi * b + beta * e;
    const g = gl + phi * gb;
    const k = kl + phi * kb;
    gl = g - alpha * g;
    gb = phi * gb - beta * g;
    kl = k - alpha * k;
    kb = phi * kb - beta * k;
    sgg += g * g;
    sgk += g * k;
    skk += k * k;
    sge += g * e;
    ske += k * e;
    see += e * e;
  }
  let dl = 0;
  let db = 0;
  const det = sgg * skk - sgk * sgk;
  if (withTrend && det > 1e-9 * sgg * skk) {
    dl = (sge * skk - ske * sgk) / det;
    db = (ske * sgg - sge * sgk) / det;
  } else if (sgg > 0) dl = sge / sgg;
  // SSE(δl, δb) = Σ (e⁰ − g δl − k δb)².
  const sse = Math.max(0, see - 2 * (dl * sge + db * ske) + dl * dl * sgg + 2 * dl * db * sgk + db * db * skk);
  return { alpha, beta, phi, level: l + dl * gl + db * kl, slope: b + dl * gb + db * kb, sse };
}

/** Golden-section minimisation of a unimodal-ish f on [a, b] after a coarse grid scan. */
function minimise1d(f: (x: number) => number, a: number, b: number, grid = 12, iterations = 20): number {
  let bestX = a;
  let bestF = Infinity;
  for (let i = 0; i <= grid; i++) {
    const x = a + ((b - a) * i) / grid;
    const v = f(x);
    if (v < bestF) {
      bestF = v;
      bestX = x;
    }
  }
  let lo = Math.max(a, bestX - (b - a) / grid);
  let hi = Math.min(b, bestX + (b - a) / grid);
  const r = (Math.sqrt(5) - 1) / 2;
  let x1 = hi - r * (hi - lo);
  let x2 = lo + r * (hi - lo);
  let f1 = f(x1);
  let f2 = f(x2);
  for (let i = 0; i < iterations; i++) {
    if (f1 < f2) {
      hi = x2;
      x2 = x1;
      f2 = f1;
      x1 = hi - r * (hi - lo);
      f1 = f(x1);
    } else {
      lo = x1;
      x1 = x2;
      f1 = f2;
      x2 = lo + r * (hi - lo);
      f2 = f(x2);
    }
  }
  const x = f1 < f2 ? x1 : x2;
  return Math.min(f1, f2) < bestF ? x : bestX;
}

function checkFinite(values: readonly number[], what: string): void {
  for (const v of values)
    if (!Number.isFinite(v)) throw new InsufficientDataError(`${what} produced a non-finite value`);
}

/**
 * Residual standard deviation from an SSE with `params` fitted parameters, floored at 1e-9 of the data's
 * scale so that an exactly fitted (e.g. constant) series still gets a positive spread.
 */
function residualSd(sse: number, n: number, params: number, y: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < y.length; i++) scale = Math.max(scale, Math.abs(y[i]));
  return Math.max(Math.sqrt(sse / Math.max(1, n - params)), 1e-9 * Math.max(scale, 1e-3));
}

/** Simple exponential smoothing fit: α ∈ [0.0001, 0.9999] by least squares, initial level fitted exactly. */
function fitSes(y: ArrayLike<number>): SmootherFit {
  const alpha = minimise1d((a) => fitSmoother(y, a, 0, 1, false).sse, 0.0001, 0.9999);
  return fitSmoother(y, alpha, 0, 1, false);
}

/** Simple exponential smoothing, ETS(A,N,N): flat forecast, sd_h = σ √(1 + (h−1)α²). Needs 3 observations. */
export const sesEngine: Engine = (y, horizon) => {
  const n = y.length;
  if (n < 3) throw new InsufficientDataError(`SES needs at least 3 observations, got ${n}`);
  const fit = fitSes(y);
  const sigma = residualSd(fit.sse, n, 2, y);
  const mean = new Array<number>(horizon).fill(fit.level);
  const sd = Array.from({ length: horizon }, (_, i) => sigma * Math.sqrt(1 + i * fit.alpha * fit.alpha));
  checkFinite(mean, 'SES');
  return { mean, sd, model: 'SES' };
};

/**
 * Theta method in the Hyndman & Billah (2003) form of Assimakopoulos & Nikolopoulos (2000): SES plus half the
 * slope b of the least-squares line, ŷ_{n+h} = ℓ_n + (b/2)(h − 1 + (1 − (1−α)^n)/α) (as R's `thetaf` without
 * seasonal adjustment). sd as SES. Needs 3 observations.
 */
export const thetaEngine: Engine = (y, horizon) => {
  const n = y.length;
  if (n < 3) throw new InsufficientDataError(`Theta needs at least 3 observations, got ${n}`);
  const fit = fitSes(y);
  const b = linearTrend(y).slope;
  const a = fit.alpha;
  const sigma = residualSd(fit.sse, n, 2, y);
  const offset = (1 - Math.pow(1 - a, n)) / a;
  const mean = Array.from({ length: horizon }, (_, i) => fit.level + (b / 2) * (i + offset));
  const sd = Array.from({ length: horizon }, (_, i) => sigma * Math.sqrt(1 + i * a * a));
  checkFinite(mean, 'Theta');
  return { mean, sd, model: 'Theta' };
};

/**
 * Additive damped trend, ETS(A,Ad,N): α ∈ (0, 1), β ∈ (0, α), φ ∈ [0.8, 0.98] by least squares (Nelder–Mead
 * on a logistic reparameterisation), initial level and slope fitted exactly. sd_h from the
 * ETS(A,Ad,N) formula σ² (1 + Σ_{j<h} (α + β (φ + … + φ^j))²). Needs 6 observations.
 */
export const dampedTrendEngine: Engine = (y, horizon) => {
  const n = y.length;
  if (n < 6) throw new InsufficientDataError(`Damped trend needs at least 6 observations, got ${n}`);
  const logistic = (v: number): number => 1 / (1 + Math.exp(-v));
  let best: SmootherFit | null = null;
  const objective = (x: number[]): number => {
    const alpha = 0.0001 + 0.9998 * logistic(x[0]);
    const beta = 0.0001 + (alpha - 0.0001) * logistic(x[1]);
    const phi = 0.8 + 0.18 * logistic(x[2]);
    const fit = fitSmoother(y, alpha, beta, phi, true);
    if (best === null || fit.sse < best.sse) best = fit;
    return fit.sse;
  };
  nelderMead(objective, [0, -3, 1], { step: [1, 1, 1], maxIterations: 80, tolerance: 1e-10 });
  const fit = best as SmootherFit | null;
  if (fit === null) throw new InsufficientDataError('Damped trend could not be fitted');
  const { alpha, beta, phi, level, slope } = fit;
  const sigma = residualSd(fit.sse, n, 5, y);
  const mean: number[] = [];
  const sd: number[] = [];
  let phiSum = 0;
  let phiPow = 1;
  let cumulative = 0;
  for (let h = 1; h <= horizon; h++) {
    phiPow *= phi;
    phiSum += phiPow;
    mean.push(level + phiSum * slope);
    sd.push(sigma * Math.sqrt(1 + cumulative));
    const c = alpha + beta * phiSum;
    cumulative += c * c;
  }
  checkFinite(mean, 'Damped trend');
  return { mean, sd, model: 'Damped' };
};

/**
 * Random walk with drift: ŷ_{n+h} = y_n + h·(y_n − y_1)/(n − 1); sd_h = σ √(h (1 + h/(n−1))) with σ the
 * sd of the first differences. Needs 3 observations.
 */
export const driftEngine: Engine = (y, horizon) => {
  const n = y.length;
  if (n < 3) throw new InsufficientDataError(`Drift needs at least 3 observations, got ${n}`);
  const slope = (y[n - 1] - y[0]) / (n - 1);
  let sse = 0;
  for (let t = 1; t < n; t++) sse += (y[t] - y[t - 1] - slope) ** 2;
  const sigma = residualSd(sse, n - 1, 1, y);
  const mean = Array.from({ length: horizon }, (_, i) => y[n - 1] + slope * (i + 1));
  const sd = Array.from({ length: horizon }, (_, i) => sigma * Math.sqrt((i + 1) * (1 + (i + 1) / (n - 1))));
  checkFinite(mean, 'Drift');
  return { mean, sd, model: 'Drift' };
};

/**
 * Seasonal naive with a fixed period or one derived from the series: repeats the last cycle;
 * sd_h = σ √(⌊(h−1)/p⌋ + 1) with σ the root mean square of the in-sample seasonal differences. Needs two
 * full cycles.
 */
export function createSeasonalNaiveEngine(
  period: number | ((y: readonly number[], seasonLength: number) => number),
): Engine {
  return (y, horizon, { seasonLength }) => {
    const n = y.length;
    const p = Math.round(typeof period === 'function' ? period(y, seasonLength) : period);
    if (!(p >= 1) || n < 2 * p) {
      throw new InsufficientDataError(`Seasonal naive (period ${p}) needs two full cycles, got ${n} observations`);
    }
    let sse = 0;
    for (let t = p; t < n; t++) sse += (y[t] - y[t - p]) ** 2;
    const sigma = residualSd(sse, n - p, 0, y);
    const mean = Array.from({ length: horizon }, (_, i) => y[n - p + (i % p)]);
    const sd = Array.from({ length: horizon }, (_, i) => sigma * Math.sqrt(Math.floor(i / p) + 1));
    return { mean, sd, model: `SeasonalNaive(${p})` };
  };
}

// ---------------------------------------------------------------------------------------------------------
// Box–Cox transform.
// ---------------------------------------------------------------------------------------------------------

/** Box–Cox transform (λ = 0: log); values must be positive. */
export function boxCox(v: number, lambda: number): number {
  return lambda === 0 ? Math.log(v) : (Math.pow(v, lambda) - 1) / lambda;
}

/** Inverse Box–Cox; for λ > 0 values below −1/λ map to 0. */
export function inverseBoxCox(x: number, lambda: number): number {
  if (lambda === 0) return Math.exp(x);
  const base = lambda * x + 1;
  return base > 0 ? Math.pow(base, 1 / lambda) : 0;
}

/**
 * Guerrero's (1993) Box–Cox parameter on [0, 1] (as R's `BoxCox.lambda(method = "guerrero")` but bounded): the
 * λ minimising the coefficient of variation of sd_i / mean_i^(1−λ) over consecutive non-overlapping
 * subseries of length `period` (2 when period < 2). Positive data only.
 */
export function guerreroLambda(y: readonly number[], period: number): number {
  const m = Math.max(2, Math.round(period));
  const groups = Math.floor(y.length / m);
  if (groups < 2) return 1;
  const offset = y.length - groups * m;
  const means: number[] = [];
  const sds: number[] = [];
  for (let g = 0; g < groups; g++) {
    let mu = 0;
    for (let i = 0; i < m; i++) mu += y[offset + g * m + i];
    mu /= m;
    let v = 0;
    for (let i = 0; i < m; i++) v += (y[offset + g * m + i] - mu) ** 2;
    means.push(mu);
    sds.push(Math.sqrt(v / (m - 1)));
  }
  const cv = (lambda: number): number => {
    const ratios = means.map((mu, i) => sds[i] / Math.pow(mu, 1 - lambda));
    let mu = 0;
    for (const r of ratios) mu += r;
    mu /= ratios.length;
    let v = 0;
    for (const r of ratios) v += (r - mu) ** 2;
    const sd = Math.sqrt(v / (ratios.length - 1));
    return mu > 0 ? sd / mu : Infinity;
  };
  return minimise1d(cv, 0, 1, 20, 25);
}

// ---------------------------------------------------------------------------------------------------------
// Decomposition engine.
// ---------------------------------------------------------------------------------------------------------

/** Settings of a decomposition engine. */
export interface MultiSeasonalOptions {
  /**
   * Seasonal periods, or a function giving them. Default: `seasonalPeriodsFor(seasonLength, n, frequency)`.
   * Periods without more than two full cycles in the data are dropped.
   */
  readonly periods?: readonly number[] | ((seasonLength: number, n: number, y: readonly number[]) => number[]);
  /** Calendar hint passed to `seasonalPeriodsFor` when `periods` is not given. */
  readonly frequency?: FrequencyHint;
  /**
   * Replace the shortest integer period p by the autocorrelation peak near it (`refinePeriod`), and its
   * integer multiples k·p by k times that peak. Default false.
   */
  readonly refinePeriods?: boolean;
  /** Forecaster of the seasonally adjusted series (called with seasonLength 1). Default `thetaEngine`. */
  readonly adjusted?: Engine;
  /**
   * Variance-stabilising transform, applied only when every value is positive (otherwise none): 'log',
   * 'auto' (Box–Cox with Guerrero's λ ∈ [0, 1]), a fixed Box–Cox λ, or 'none'. Default 'auto'.
   */
  readonly transform?: 'none' | 'log' | 'auto' | number;
  /**
   * How the patterns are estimated: 'stl' (MSTL, periods rounded), 'fourier' (harmonic regression), or
   * 'auto' (default): MSTL for integer periods, harmonic regression for the others.
   */
  readonly method?: 'stl' | 'fourier' | 'auto';
  /** MSTL seasonal windows, shortest period first. Default 9, 13, 17, … (R's mstl uses 11, 15, …). */
  readonly seasonalWindows?: readonly (number | 'periodic')[];
  /** Harmonic regression: most harmonics per period (AICc picks up to it). Default 26 (≈ p/2 for 52.18). */
  readonly maxHarmonics?: number;
}

/** Effective periods for a series: requested ones, optionally refined, with more than two cycles in y. */
function periodsFor(options: MultiSeasonalOptions, y: readonly number[], seasonLength: number): number[] {
  const n = y.length;
  let requested =
    typeof options.periods === 'function'
      ? options.periods(seasonLength, n, y)
      : (options.periods?.slice() ?? seasonalPeriodsFor(seasonLength, n, options.frequency));
  if (options.refinePeriods === true) {
    const base = requested.filter((p) => Number.isInteger(p) && p >= 2).sort((a, b) => a - b)[0];
    if (base !== undefined) {
      const refined = refinePeriod(y, base);
      requested = requested.map((p) => (Number.isInteger(p) && p % base === 0 ? (p / base) * refined : p));
    }
  }
  return [...new Set(requested)].filter((p) => p >= 2 && p < n / 2).sort((a, b) => a - b);
}

/** A series split into seasonal patterns (with their continuation) and a seasonally adjusted series. */
export interface SeasonalDecomposition {
  /** The transformed series minus its seasonal patterns. */
  readonly adjusted: number[];
  /** Σ of the patterns continued over the horizon (transformed scale). */
  readonly future: Float64Array;
  /** Box–Cox λ applied (1: none). */
  readonly lambda: number;
  /** Description of the patterns, e.g. `24,168,λ=0.35` or `52.18:K12`. */
  readonly label: string;
}

/**
 * The decomposition behind `createMultiSeasonalEngine` (options other than `adjusted` apply). Throws
 * InsufficientDataError when no period has more than two full cycles in the data.
 */
export function decomposeSeasonal(
  y: readonly number[],
  horizon: number,
  seasonLength: number,
  options: MultiSeasonalOptions = {},
): SeasonalDecomposition {
  const n = y.length;
  const periods = periodsFor(options, y, seasonLength);
  const method = options.method ?? 'auto';
  const integer = method === 'fourier' ? [] : method === 'stl' ? periods : periods.filter((p) => Number.isInteger(p));
  const stlPeriods = [...new Set(integer.map((p) => Math.round(p)))];
  const harmonicPeriods =
    method === 'fourier' ? periods : method === 'stl' ? [] : periods.filter((p) => !Number.isInteger(p));
  if (stlPeriods.length === 0 && harmonicPeriods.length === 0) {
    throw new InsufficientDataError(
      `Seasonal decomposition needs more than two full cycles of a period >= 2 (n = ${n}, season length ${seasonLength})`,
    );
  }
  let positive = true;
  for (let i = 0; i < n; i++) if (!(y[i] > 0)) positive = false;
  const transform = options.transform ?? 'auto';
  let lambda = 1;
  if (positive && transform !== 'none') {
    lambda = transform === 'log' ? 0 : transform === 'auto' ? guerreroLambda(y, periods[0]) : transform;
  }
  const x = lambda !== 1 ? y.map((v) => boxCox(v, lambda)) : y.slice();

  const stlSeasonal = new Float64Array(n);
  let harmonicSeasonal: Float64Array = new Float64Array(n);
  const future = new Float64Array(horizon);
  const passes = stlPeriods.length > 0 && harmonicPeriods.length > 0 ? 2 : 1;
  const windows = options.seasonalWindows ?? stlPeriods.map((_, k) => 9 + 4 * k);
  const labels: string[] = [];
  for (let pass = 0; pass < passes; pass++) {
    const last = pass === passes - 1;
    if (harmonicPeriods.length > 0) {
      const dec = harmonicDecomposition(
        x.map((v, i) => v - stlSeasonal[i]),
        harmonicPeriods,
        { maxHarmonics: options.maxHarmonics ?? 26 },
      );
      harmonicSeasonal = dec.seasonal;
      if (last) {
        for (const fit of dec.fits) {
          const values = harmonicSeries(fit, n, horizon);
          for (let h = 0; h < horizon; h++) future[h] += values[h];
          labels.push(`${Number(fit.period.toFixed(2))}:K${fit.harmonics}`);
        }
      }
    }
    if (stlPeriods.length > 0) {
      const dec = mstl(
        x.map((v, i) => v - harmonicSeasonal[i]),
        stlPeriods,
        { seasonalWindows: windows },
      );
      stlSeasonal.fill(0);
      dec.seasonals.forEach((s, k) => {
        for (let i = 0; i < n; i++) stlSeasonal[i] += s[i];
        if (!last) return;
        const p = dec.periods[k];
        // Step h continues the same phase of the last cycle.
        for (let h = 1; h <= horizon; h++) future[h - 1] += s[n + h - 1 - p * Math.ceil(h / p)];
        labels.push(String(p));
      });
    }
  }
  const adjusted = new Array<number>(n);
  for (let i = 0; i < n; i++) adjusted[i] = x[i] - stlSeasonal[i] - harmonicSeasonal[i];
  if (lambda !== 1) labels.push(`λ=${lambda.toFixed(2)}`);
  return { adjusted, future, lambda, label: labels.join(',') };
}

/**
 * Forecasts a decomposition's adjusted series with `engine` and adds the seasonal continuation back on the
 * original scale. The back-transformed point forecast is the median (no bias adjustment); sd is the
 * half-width of the back-transformed ±1 sd band (≈ level^(1−λ)·sd for small sd, as the delta method).
 */
export function forecastDecomposition(dec: SeasonalDecomposition, engine: Engine, horizon: number): EngineForecast {
  const base = engine(dec.adjusted, horizon, { seasonLength: 1 });
  const mean: number[] = [];
  const sd: number[] = [];
  for (let h = 0; h < horizon; h++) {
    const value = base.mean[h] + dec.future[h];
    const s = base.sd[h];
    if (dec.lambda !== 1) {
      mean.push(inverseBoxCox(value, dec.lambda));
      sd.push((inverseBoxCox(value + s, dec.lambda) - inverseBoxCox(value - s, dec.lambda)) / 2);
    } else {
      mean.push(value);
      sd.push(s);
    }
  }
  checkFinite(mean, 'Seasonal decomposition');
  checkFinite(sd, 'Seasonal decomposition');
  return { mean, sd, model: `Decomposition(${dec.label})+${base.model}` };
}

/**
 * Builds a decomposition engine: y (Box–Cox transformed when positive) = Σ seasonal patterns + adjusted
 * series. Integer periods are estimated jointly by MSTL (Bandara, Hyndman & Bergmeir 2021) and continued by
 * repeating each pattern's last cycle (as R's stlf); non-integer periods by harmonic regression (AICc-chosen
 * number of Fourier pairs) continued analytically; with both kinds the two steps are backfitted twice. The
 * adjusted series is forecast by `adjusted`; sd comes from that forecaster (the seasonal part is treated as
 * known, as in stlf) mapped through the inverse transform (see `forecastDecomposition`).
 * Throws InsufficientDataError when no period has more than two full cycles in the data.
 */
export function createMultiSeasonalEngine(options: MultiSeasonalOptions = {}): Engine {
  const adjusted = options.adjusted ?? thetaEngine;
  return (y, horizon, { seasonLength }) =>
    forecastDecomposition(decomposeSeasonal(y, horizon, seasonLength, options), adjusted, horizon);
}

// ---------------------------------------------------------------------------------------------------------
// Combination and validation-based selection.
// ---------------------------------------------------------------------------------------------------------

/**
 * Equal-weight combination: the mean of the members' point forecasts; sd is the mean of their sds (exact
 * when the members' errors are perfectly correlated, otherwise conservative). Any member's
 * InsufficientDataError propagates.
 */
export function combineEngines(members: readonly Engine[]): Engine {
  if (members.length === 0) throw new RangeError('combineEngines needs at least one member');
  return (y, horizon, options) =>
    averageForecasts(
      members.map((member) => member(y, horizon, options)),
      horizon,
    );
}

function averageForecasts(forecasts: readonly EngineForecast[], horizon: number): EngineForecast {
  const k = forecasts.length;
  const mean = Array.from({ length: horizon }, (_, h) => forecasts.reduce((s, f) => s + f.mean[h], 0) / k);
  const sd = Array.from({ length: horizon }, (_, h) => forecasts.reduce((s, f) => s + f.sd[h], 0) / k);
  return { mean, sd, model: `Mean(${forecasts.map((f) => f.model).join('; ')})` };
}

/** Settings of validation-based selection. */
export interface ValidationOptions {
  /** Rolling origins (most recent first). Default 2. */
  readonly windows?: number;
  /** Steps forecast from each origin. Default min(horizon, ⌊n/10⌋). */
  readonly validationLength?: (horizon: number, n: number) => number;
}

/**
 * Picks, per series, the candidate with the smallest mean absolute error over `windows` rolling origins
 * (the last windows·L observations held out, L steps each), then refits it on the whole series. Candidates
 * that cannot be fitted at an origin are ruled out; when no origin leaves data to fit on, the first
 * candidate that fits the whole series serves. Throws InsufficientDataError when no candidate fits.
 */
export function createValidatedEngine(candidates: readonly Engine[], options: ValidationOptions = {}): Engine {
  if (candidates.length === 0) throw new RangeError('createValidatedEngine needs at least one candidate');
  const windows = Math.max(1, options.windows ?? 2);
  return (y, horizon, engineOptions: EngineOptions) => {
    const n = y.length;
    const length = Math.max(
      1,
      Math.floor(options.validationLength?.(horizon, n) ?? Math.min(horizon, Math.floor(n / 10))),
    );
    const scores = candidates.map(() => 0);
    if (candidates.length > 1 && n - windows * length >= 2) {
      for (let w = 1; w <= windows; w++) {
        const cut = n - w * length;
        const train = y.slice(0, cut);
        candidates.forEach((candidate, k) => {
          if (!Number.isFinite(scores[k])) return;
          try {
            const f = candidate(train, length, engineOptions).mean;
            let e = 0;
            for (let i = 0; i < length; i++) e += Math.abs(y[cut + i] - f[i]);
            scores[k] += Number.isFinite(e) ? e / length : Infinity;
          } catch (error) {
            if (!(error instanceof InsufficientDataError)) throw error;
            scores[k] = Infinity;
          }
        });
      }
    }
    const order = candidates.map((_, k) => k).sort((a, b) => scores[a] - scores[b] || a - b);
    for (const k of order) {
      try {
        const f = candidates[k](y, horizon, engineOptions);
        return { ...f, model: `Validated(${f.model})` };
      } catch (error) {
        if (!(error instanceof InsufficientDataError)) throw error;
      }
    }
    throw new InsufficientDataError(`No candidate could be fitted to ${n} observations`);
  };
}

// ---------------------------------------------------------------------------------------------------------
// Recommended engines.
// ---------------------------------------------------------------------------------------------------------

/**
 * The recommended multi-seasonal engine for a frequency (inferred from seasonLength when not given, see
 * `frequencyFromSeasonLength`):
 * - sub-daily (hourly, half-hourly, minutely): rolling-origin selection (2 origins, horizon-long) among
 *   MSTL of all periods, MSTL of the day only (both Box–Cox + theta on the adjusted series), and the seasonal
 *   naive of the day and of the week; the day length is first refined to the observed cycle (`refinePeriod`);
 * - weekly: mean of four forecasts — a damped trend on the raw series, and the yearly cycle (52.18 weeks,
 *   harmonic regression) with a damped trend or a drift on the log series and with a damped trend on the
 *   raw series; needs at least 105 weeks;
 * - anything else with a seasonal period (daily, monthly, quarterly, unknown): the decomposition engine
 *   with its defaults (Box–Cox, MSTL / harmonic patterns, theta on the adjusted series).
 * Throws InsufficientDataError when the series has no seasonal period with more than two full cycles.
 */
export function createMultiSeasonal(frequency?: FrequencyHint): Engine {
  return (y, horizon, options) => {
    const hint = frequency ?? frequencyFromSeasonLength(options.seasonLength);
    const engine =
      hint === 'weekly'
        ? weeklyEngine
        : hint === 'hourly' || hint === 'half-hourly' || hint === 'minutely'
          ? subDailyEngine(hint)
          : createMultiSeasonalEngine({ frequency: hint });
    return engine(y, horizon, options);
  };
}

const weeklyEngine: Engine = (y, horizon, options) => {
  const periods = seasonalPeriodsFor(options.seasonLength, y.length, 'weekly');
  if (periods.length === 0) {
    throw new InsufficientDataError(`The weekly engine needs more than two years (105 weeks), got ${y.length}`);
  }
  const onLog = decomposeSeasonal(y, horizon, options.seasonLength, { periods, transform: 'log' });
  const onRaw = decomposeSeasonal(y, horizon, options.seasonLength, { periods, transform: 'none' });
  const forecasts = [
    dampedTrendEngine(y, horizon, options),
    forecastDecomposition(onLog, dampedTrendEngine, horizon),
    forecastDecomposition(onLog, driftEngine, horizon),
    forecastDecomposition(onRaw, dampedTrendEngine, horizon),
  ];
  return averageForecasts(forecasts, horizon);
};

const subDailyEngines = new Map<FrequencyHint, Engine>();

function subDailyEngine(frequency: FrequencyHint): Engine {
  let engine = subDailyEngines.get(frequency);
  if (engine === undefined) {
    const periods = (y: readonly number[], seasonLength: number): number[] =>
      periodsFor({ frequency, refinePeriods: true }, y, seasonLength);
    const validated = createValidatedEngine([
      createMultiSeasonalEngine({ periods: (m, _n, y) => periods(y, m) }),
      createMultiSeasonalEngine({
        periods: (m, _n, y) => {
          const ps = periods(y, m);
          // With a single period this candidate would repeat the first one.
          if (ps.length < 2) throw new InsufficientDataError('Only one seasonal period');
          return ps.slice(0, 1);
        },
      }),
      createSeasonalNaiveEngine((y, m) => periods(y, m)[0] ?? 0),
      createSeasonalNaiveEngine((y, m) => {
        const ps = periods(y, m);
        return ps.length > 1 ? ps[ps.length - 1] : 0;
      }),
    ]);
    engine = (y, horizon, options) => {
      if (periods(y, options.seasonLength).length === 0) {
        throw new InsufficientDataError(
          `No seasonal period with more than two full cycles in ${y.length} observations (season length ${options.seasonLength})`,
        );
      }
      return validated(y, horizon, options);
    };
    subDailyEngines.set(frequency, engine);
  }
  return engine;
}

/** The recommended engine with the frequency inferred from seasonLength (24 → hourly recipe, 52 → weekly, …). */
export const multiSeasonal: Engine = createMultiSeasonal();
