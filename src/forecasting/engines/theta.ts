/**
 * Theta-method engines.
 *
 * - {@link theta}: the standard Theta method (Assimakopoulos & Nikolopoulos 2000) in the form of R's
 *   `forecast::thetaf`, which is simple exponential smoothing with drift equal to half the slope of the linear
 *   trend (Hyndman & Billah 2003); the M4 "Theta" benchmark. Needs 4 observations.
 * - {@link optimizedTheta}, {@link dynamicOptimizedTheta}: the Optimised Theta Method (OTM) and Dynamic Optimised
 *   Theta Method (DOTM) of Fiorucci, Pellegrini, Louzada, Petropoulos & Koehler (2016), "Models for optimising the
 *   theta method and their relationship to state space models", IJF 32(4) (R package `forecTheta`, Nixtla
 *   statsforecast `OptimizedTheta` / `DynamicOptimizedTheta`). {@link standardThetaModel} and
 *   {@link dynamicStandardThetaModel} are the same models with θ = 2 (STM, DSTM). {@link autoTheta} selects among
 *   the four by in-sample MSE like statsforecast's `AutoTheta`. These need 8 observations.
 *
 * Seasonal adjustment (all engines): when the M4 90 % autocorrelation test (`isSeasonal`: n ≥ 3m, lag m within
 * R's default acf range) finds seasonality at the given period, the series is divided by the indices of a
 * classical multiplicative decomposition (additive when the data are not all positive), the model is fitted to the
 * adjusted series and mean and sd are re-seasonalised with the last season's indices. The model name then carries
 * the adjustment, e.g. `Theta[M12]`, `DOTM[A24]`.
 *
 * Estimation. In every one of these models the one-step predictions are linear in the initial level and (for the
 * optimised variants) in k = 1 − 1/θ, once the smoothing parameter α is fixed. The sum of squared errors is
 * therefore minimised over those exactly (least squares, θ ≥ 1 enforced by clamping k to [0, 1)), and over α by a
 * grid search refined with Brent's method: the global optimum of the criterion that R (`ets(..., opt.crit =
 * "mse")` inside `thetaf`) and statsforecast minimise with Nelder–Mead, at the cost of a few dozen O(n) passes.
 *
 * Forecast spread: the models are SES-with-drift state space models, y_t = μ_t + ε_t with the level updated by
 * α·ε_t, so the h-step error variance is σ²·(1 + (h − 1)·α²) (exact for the static models, where the drift is a
 * fixed parameter; for the dynamic ones the regression updates are ignored). σ² is the residual variance of the
 * fit. Unlike R's thetaf, which leaves its intervals in seasonally adjusted units, the spread is re-seasonalised.
 *
 * Inputs are divided by a power of two (exact) before fitting, so magnitudes from 1e-300 to 1e300 behave alike; a
 * forecast that would leave the float range raises InsufficientDataError.
 */
import { powerOfTwoScale, scaled, seasonPeriod, steps } from './baseline';
import { classicalSeasonalIndices, isSeasonal, linearTrend } from './math';
import { InsufficientDataError, type Engine, type EngineForecast } from './types';

// ---------------------------------------------------------------------------------------------------------------
// Seasonal adjustment

export interface SeasonalAdjustment {
  /** The series the model is fitted to. */
  readonly adjusted: Float64Array;
  /** Seasonal index per position t % m (empty when not seasonal). */
  readonly indices: readonly number[];
  readonly type: 'none' | 'multiplicative' | 'additive';
  readonly m: number;
}

/** Adjusts at period m when `tested` (by default the M4 test) says the series is seasonal there. */
export function seasonallyAdjust(x: Float64Array, m: number, tested = isSeasonal): SeasonalAdjustment {
  const n = x.length;
  const none: SeasonalAdjustment = { adjusted: x, indices: [], type: 'none', m: 1 };
  if (m <= 1 || !tested(x, m)) return none;
  let positive = true;
  for (let i = 0; i < n; i++) if (!(x[i] > 0)) positive = false;
  const type = positive ? 'multiplicative' : 'additive';
  const indices = classicalSeasonalIndices(x, m, type);
  // R's thetaf also gives up on the adjustment when an index is (numerically) zero.
  if (!indices.every((v) => Number.isFinite(v) && (type === 'additive' || Math.abs(v) >= 1e-10))) return none;
  const adjusted = new Float64Array(n);
  for (let t = 0; t < n; t++) adjusted[t] = type === 'multiplicative' ? x[t] / indices[t % m] : x[t] - indices[t % m];
  return { adjusted, indices, type, m };
}

/**
 * Mean and sd forecast on the adjusted series (divided by `scale`) back on the series' scale and seasons; the
 * model name then carries the adjustment.
 */
export function reseasonalise(
  adjustment: SeasonalAdjustment,
  n: number,
  mean: ArrayLike<number>,
  sd: ArrayLike<number>,
  scale: number,
  model: string,
): EngineForecast {
  const h = mean.length;
  const outMean = new Array<number>(h);
  const outSd = new Array<number>(h);
  for (let i = 0; i < h; i++) {
    let mu = mean[i];
    let s = sd[i];
    if (adjustment.type !== 'none') {
      const index = adjustment.indices[(n + i) % adjustment.m];
      if (adjustment.type === 'multiplicative') {
        mu *= index;
        s *= index;
      } else {
        mu += index;
      }
    }
    outMean[i] = mu * scale;
    outSd[i] = Math.abs(s) * scale;
    if (!Number.isFinite(outMean[i]) || !Number.isFinite(outSd[i])) {
      throw new InsufficientDataError(`${model}: the forecast leaves the floating-point range`);
    }
  }
  const suffix =
    adjustment.type === 'none' ? '' : `[${adjustment.type === 'multiplicative' ? 'M' : 'A'}${adjustment.m}]`;
  return { mean: outMean, sd: outSd, model: model + suffix };
}

/** Series divided by a power of two (exact), so all sums of squares stay far from overflow. */
function prepare(y: readonly number[], name: string, minLength: number): { x: Float64Array; scale: number } {
  if (y.length < minLength) {
    throw new InsufficientDataError(`${name} needs at least ${minLength} observations (got ${y.length})`);
  }
  const scale = powerOfTwoScale(y);
  return { x: scaled(y, scale), scale };
}

/**
 * Decay factors (1 − α)^i below 1e-150 are set to 0: their contribution is far below rounding, and products of
 * such numbers would be subnormal, which the CPU handles two orders of magnitude slower.
 */
function flush(value: number): number {
  return value < 1e-150 ? 0 : value;
}

// ---------------------------------------------------------------------------------------------------------------
// One-dimensional minimisation

/** Brent's method (golden section with parabolic steps) for a minimum of f on [a, b]: the point and f there. */
function brent(
  f: (x: number) => number,
  a: number,
  b: number,
  tolerance = 1e-6,
  maxIterations = 60,
): { x: number; fx: number } {
  const golden = 0.381966011250105;
  let x = a + golden * (b - a);
  let w = x;
  let v = x;
  let fx = f(x);
  let fw = fx;
  let fv = fx;
  let d = 0;
  let e = 0;
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    const mid = 0.5 * (a + b);
    const tol1 = tolerance * Math.abs(x) + 1e-10;
    const tol2 = 2 * tol1;
    if (Math.abs(x - mid) <= tol2 - 0.5 * (b - a)) break;
    let useGolden = true;
    if (Math.abs(e) > tol1) {
      const r = (x - w) * (fx - fv);
      let q = (x - v) * (fx - fw);
      let p = (x - v) * q - (x - w) * r;
      q = 2 * (q - r);
      if (q > 0) p = -p;
      q = Math.abs(q);
      const eOld = e;
      e = d;
      if (Math.abs(p) < Math.abs(0.5 * q * eOld) && p > q * (a - x) && p < q * (b - x)) {
        d = p / q;
        const u = x + d;
        if (u - a < tol2 || b - u < tol2) d = mid >= x ? tol1 : -tol1;
        useGolden = false;
      }
    }
    if (useGolden) {
      e = (x >= mid ? a : b) - x;
      d = golden * e;
    }
    const u = Math.abs(d) >= tol1 ? x + d : x + (d > 0 ? tol1 : -tol1);
    const fu = f(u);
    if (fu <= fx) {
      if (u >= x) a = x;
      else b = x;
      v = w;
      fv = fw;
      w = x;
      fw = fx;
      x = u;
      fx = fu;
    } else {
      if (u < x) a = u;
      else b = u;
      if (fu <= fw || w === x) {
        v = w;
        fv = fw;
        w = u;
        fw = fu;
      } else if (fu <= fv || v === x || v === w) {
        v = u;
        fv = fu;
      }
    }
  }
  return { x, fx };
}

/** Global minimum over a grid of α values, refined by Brent's method between the best point's neighbours. */
function minimiseOnGrid(f: (alpha: number) => number, grid: readonly number[]): number {
  let bestIndex = 0;
  let bestValue = Infinity;
  for (let i = 0; i < grid.length; i++) {
    const value = f(grid[i]);
    if (value < bestValue) {
      bestValue = value;
      bestIndex = i;
    }
  }
  if (!Number.isFinite(bestValue)) return grid[bestIndex];
  const lo = grid[Math.max(0, bestIndex - 1)];
  const hi = grid[Math.min(grid.length - 1, bestIndex + 1)];
  const refined = brent(f, lo, hi);
  return refined.fx < bestValue ? refined.x : grid[bestIndex];
}

// ---------------------------------------------------------------------------------------------------------------
// Standard Theta (R forecast::thetaf)

/** Bounds of α in R's ets (the `usual` bounds). */
const SES_ALPHA_MIN = 1e-4;
const SES_ALPHA_MAX = 0.9999;
const SES_GRID = [
  SES_ALPHA_MIN,
  0.005,
  0.02,
  0.05,
  0.1,
  0.15,
  0.2,
  0.25,
  0.3,
  0.4,
  0.5,
  0.6,
  0.7,
  0.8,
  0.9,
  0.95,
  SES_ALPHA_MAX,
];

interface SesFit {
  readonly alpha: number;
  readonly level0: number;
  /** Final level ℓ_n. */
  readonly level: number;
  readonly sse: number;
}

/**
 * SES residuals e_t = y_t − ℓ_{t−1}, ℓ_t = ℓ_{t−1} + α·e_t, started from ℓ_0 = base: returns the sums needed for
 * the least-squares correction δ of ℓ_0 (e_t(ℓ_0 + δ) = e_t − (1 − α)^{t−1}·δ).
 */
function sesProfile(x: Float64Array, alpha: number, base: number): { sse: number; delta: number } {
  const beta = 1 - alpha;
  let level = base;
  let c = 1;
  let suu = 0;
  let scu = 0;
  let scc = 0;
  for (let t = 0; t < x.length; t++) {
    const e = x[t] - level;
    suu += e * e;
    scu += c * e;
    scc += c * c;
    level += alpha * e;
    c = flush(c * beta);
  }
  const delta = scc > 0 ? scu / scc : 0;
  return { sse: Math.max(0, suu - delta * scu), delta };
}

/** SES with α and ℓ_0 minimising the in-sample MSE (R `ses()`, i.e. `ets(y, "ANN", opt.crit = "mse")`). */
function fitSes(x: Float64Array): SesFit {
  const n = x.length;
  let base = 0;
  const first = Math.min(10, n);
  for (let t = 0; t < first; t++) base += x[t] / first;
  const alpha = minimiseOnGrid((a) => sesProfile(x, a, base).sse, SES_GRID);
  const level0 = base + sesProfile(x, alpha, base).delta;
  let level = level0;
  let sse = 0;
  for (let t = 0; t < n; t++) {
    const e = x[t] - level;
    sse += e * e;
    level += alpha * e;
  }
  return { alpha, level0, level, sse };
}

const THETA_MIN_LENGTH = 4;

/**
 * Standard Theta method (R `forecast::thetaf`, the M4 Theta benchmark): SES with drift b/2 (b the slope of the
 * least-squares line) on the seasonally adjusted series: ŷ_{n+h} = ℓ_n + (b/2)·(h − 1 + (1 − (1 − α)^n)/α).
 * sd_h = σ·√(1 + (h − 1)·α²), σ² = SSE/(n − 2). Needs 4 observations.
 */
export const theta: Engine = (y, horizon, options) => {
  const { x, scale } = prepare(y, 'Theta', THETA_MIN_LENGTH);
  return standardTheta(x, scale, horizon, seasonallyAdjust(x, seasonPeriod(options.seasonLength)));
};

/**
 * The standard Theta method on the series adjusted at `period` (an integer ≥ 2) whatever the seasonality
 * test says, instead of at the season length: for a second, longer cycle, a week of hours or a year of
 * weeks. Needs more than two cycles (InsufficientDataError otherwise).
 */
export function periodTheta(period: number): Engine {
  return (y, horizon) => {
    if (!(Number.isInteger(period) && period >= 2 && y.length > 2 * period)) {
      throw new InsufficientDataError(`Theta[${period}] needs more than two cycles (got ${y.length} observations)`);
    }
    const { x, scale } = prepare(y, 'Theta', THETA_MIN_LENGTH);
    return standardTheta(
      x,
      scale,
      horizon,
      seasonallyAdjust(x, period, () => true),
    );
  };
}

function standardTheta(
  x: Float64Array,
  scale: number,
  horizon: number,
  adjustment: SeasonalAdjustment,
): EngineForecast {
  const n = x.length;
  const h = steps(horizon);
  const z = adjustment.adjusted;
  const fit = fitSes(z);
  const drift = linearTrend(z).slope / 2;
  const alpha = fit.alpha;
  const sigma = Math.sqrt(fit.sse / (n - 2));
  const start = (1 - Math.pow(1 - alpha, n)) / alpha;
  const mean = new Float64Array(h);
  const sd = new Float64Array(h);
  for (let i = 0; i < h; i++) {
    mean[i] = fit.level + drift * (i + start);
    sd[i] = sigma * Math.sqrt(1 + i * alpha * alpha);
  }
  return reseasonalise(adjustment, n, mean, sd, scale, 'Theta');
}

// ---------------------------------------------------------------------------------------------------------------
// Optimised / dynamic Theta models (Fiorucci et al. 2016)

/** Which of the four models: θ fixed at 2 (standard) or optimised; regression coefficients static or dynamic. */
export type ThetaModelType = 'STM' | 'OTM' | 'DSTM' | 'DOTM';

/** Bounds of forecTheta and statsforecast: α ∈ [0.1, 0.99], θ ≥ 1. */
const OTM_ALPHA_MIN = 0.1;
const OTM_ALPHA_MAX = 0.99;
const OTM_GRID = Array.from({ length: 12 }, (_, i) => OTM_ALPHA_MIN + (i * (OTM_ALPHA_MAX - OTM_ALPHA_MIN)) / 11);
/** k = 1 − 1/θ stays below 1 (θ ≤ 1e10). */
const K_MAX = 1 - 1e-10;
/** One-step errors before this index are left out of the fit (statsforecast's `e[3:]`). */
const FIRST_ERROR = 3;
const OTM_MIN_LENGTH = 8;

/**
 * The model, with 0-based time i (A, B: intercept and slope of the regression of y on t = 1..; static models use
 * the full-sample line, dynamic ones the line through y_0..y_{i−1}):
 *   μ_i = ℓ_{i−1} + k·[(1 − α)^i·A_{i−1} + (1 − (1 − α)^{i+1})/α·B_{i−1}],  ℓ_i = α·y_i + (1 − α)·ℓ_{i−1},
 * ℓ_{−1} the initial level, k = 1 − 1/θ.
 */
interface ThetaData {
  readonly x: Float64Array;
  readonly dynamic: boolean;
  /** A_{i−1} and B_{i−1} for each i (the coefficients μ_i uses). */
  readonly aPrev: Float64Array;
  readonly bPrev: Float64Array;
  /** Regression state after the last observation (mean of y, A, B). */
  readonly meanN: number;
  readonly aN: number;
  readonly bN: number;
  /** Starting value of ℓ_{−1} around which the least-squares correction is computed. */
  readonly base: number;
}

function thetaData(x: Float64Array, dynamic: boolean): ThetaData {
  const n = x.length;
  const aPrev = new Float64Array(n);
  const bPrev = new Float64Array(n);
  if (!dynamic) {
    const { intercept, slope } = linearTrend(x);
    aPrev.fill(intercept);
    bPrev.fill(slope);
    let total = 0;
    for (let i = 0; i < n; i++) total += x[i];
    return { x, dynamic, aPrev, bPrev, meanN: total / n, aN: intercept, bN: slope, base: x[0] };
  }
  let meanY = x[0];
  let a = x[0];
  let b = 0;
  aPrev[0] = a;
  bPrev[0] = b;
  for (let i = 1; i < n; i++) {
    aPrev[i] = a;
    bPrev[i] = b;
    b = ((i - 1) * b + (6 * (x[i] - meanY)) / (i + 1)) / (i + 2);
    meanY = (i * meanY + x[i]) / (i + 1);
    a = meanY - (b * (i + 2)) / 2;
  }
  return { x, dynamic, aPrev, bPrev, meanN: meanY, aN: a, bN: b, base: x[0] };
}

interface ThetaSolution {
  readonly sse: number;
  /** Correction of the initial level relative to `base`. */
  readonly delta: number;
  readonly k: number;
}

/** For fixed α, the least-squares initial level and (when `optimiseTheta`) k; returns the resulting SSE. */
function thetaProfile(data: ThetaData, alpha: number, optimiseTheta: boolean): ThetaSolution {
  const { x, aPrev, bPrev } = data;
  const n = x.length;
  const beta = 1 - alpha;
  const inverseAlpha = 1 / alpha;
  let level = data.base;
  let c = 1;
  let suu = 0;
  let scu = 0;
  let sdu = 0;
  let scc = 0;
  let scd = 0;
  let sdd = 0;
  for (let i = 0; i < n; i++) {
    const cNext = flush(c * beta);
    if (i >= FIRST_ERROR) {
      const d = c * aPrev[i] + (1 - cNext) * inverseAlpha * bPrev[i];
      const u = x[i] - level;
      suu += u * u;
      scu += c * u;
      sdu += d * u;
      scc += c * c;
      scd += c * d;
      sdd += d * d;
    }
    level = alpha * x[i] + beta * level;
    c = cNext;
  }
  // (No closures over the sums: captured variables would be boxed on every loop iteration.)
  let k = 0.5;
  if (optimiseTheta) {
    const det = scc * sdd - scd * scd;
    // Otherwise θ is not identifiable (the trend term is proportional to the level term, e.g. a flat series).
    if (det > 1e-12 * scc * sdd && sdd > 0) k = Math.min(K_MAX, Math.max(0, (scc * sdu - scd * scu) / det));
  }
  const delta = scc > 0 ? (scu - k * scd) / scc : 0;
  const sse = suu - 2 * delta * scu - 2 * k * sdu + delta * delta * scc + 2 * delta * k * scd + k * k * sdd;
  return { sse: Math.max(0, sse), delta, k };
}

export interface ThetaModelFit {
  readonly type: ThetaModelType;
  readonly alpha: number;
  readonly theta: number;
  readonly level0: number;
  /** Sum of squared one-step errors from index 3 on, and their count. */
  readonly sse: number;
  readonly count: number;
  readonly parameters: number;
  readonly mean: Float64Array;
  readonly sd: Float64Array;
}

/** Fits one of the four models to an (already adjusted, scaled) series and forecasts h steps. */
function fitThetaModel(x: Float64Array, type: ThetaModelType, h: number): ThetaModelFit {
  const n = x.length;
  const dynamic = type === 'DSTM' || type === 'DOTM';
  const optimiseTheta = type === 'OTM' || type === 'DOTM';
  const data = thetaData(x, dynamic);
  const alpha = minimiseOnGrid((a) => thetaProfile(data, a, optimiseTheta).sse, OTM_GRID);
  const { delta, k } = thetaProfile(data, alpha, optimiseTheta);
  const beta = 1 - alpha;
  const level0 = data.base + delta;
  // Exact pass with the chosen parameters: SSE and the final level.
  let level = level0;
  let c = 1;
  let sse = 0;
  for (let i = 0; i < n; i++) {
    const cNext = flush(c * beta);
    if (i >= FIRST_ERROR) {
      const mu = level + k * (c * data.aPrev[i] + ((1 - cNext) / alpha) * data.bPrev[i]);
      const e = x[i] - mu;
      sse += e * e;
    }
    level = alpha * x[i] + beta * level;
    c = cNext;
  }
  // Forecasts: the recursion run on with each forecast standing in for the unknown observation.
  const mean = new Float64Array(h);
  let meanY = data.meanN;
  let a = data.aN;
  let b = data.bN;
  for (let j = 0; j < h; j++) {
    const i = n + j;
    const cNext = flush(c * beta);
    const mu = level + k * (c * a + ((1 - cNext) / alpha) * b);
    mean[j] = mu;
    level = alpha * mu + beta * level;
    if (dynamic) {
      b = ((i - 1) * b + (6 * (mu - meanY)) / (i + 1)) / (i + 2);
      meanY = (i * meanY + mu) / (i + 1);
      a = meanY - (b * (i + 2)) / 2;
    }
    c = cNext;
  }
  const parameters = optimiseTheta ? 3 : 2;
  const count = n - FIRST_ERROR;
  const sigma = Math.sqrt(sse / Math.max(1, count - parameters));
  const sd = new Float64Array(h);
  for (let j = 0; j < h; j++) sd[j] = sigma * Math.sqrt(1 + j * alpha * alpha);
  return { type, alpha, theta: 1 / (1 - k), level0, sse, count, parameters, mean, sd };
}

function thetaModelEngine(types: readonly ThetaModelType[], name: string): Engine {
  return (y, horizon, options) => {
    const { x, scale } = prepare(y, name, OTM_MIN_LENGTH);
    const h = steps(horizon);
    const adjustment = seasonallyAdjust(x, seasonPeriod(options.seasonLength));
    let best: ThetaModelFit | undefined;
    for (const type of types) {
      const fit = fitThetaModel(adjustment.adjusted, type, h);
      if (Number.isFinite(fit.sse) && (best === undefined || fit.sse < best.sse)) best = fit;
    }
    if (best === undefined) throw new InsufficientDataError(`${name}: no model could be fitted`);
    let model: string = best.type;
    // Within a selection, an optimised fit that ends at θ = 2 is the standard model (the first in
    // statsforecast's order wins ties).
    if (types.length > 1 && best.theta === 2)
      model = best.type === 'OTM' ? 'STM' : best.type === 'DOTM' ? 'DSTM' : model;
    return reseasonalise(adjustment, x.length, best.mean, best.sd, scale, model);
  };
}

/** Optimised Theta Method (OTM): α, θ ≥ 1 and the initial level by least squares. Needs 8 observations. */
export const optimizedTheta: Engine = thetaModelEngine(['OTM'], 'OTM');

/** Dynamic Optimised Theta Method (DOTM): OTM with the trend line re-estimated at every step. */
export const dynamicOptimizedTheta: Engine = thetaModelEngine(['DOTM'], 'DOTM');

/** Standard theta model (θ = 2) in the state space form, static and dynamic. Needs 8 observations. */
export const standardThetaModel: Engine = thetaModelEngine(['STM'], 'STM');
export const dynamicStandardThetaModel: Engine = thetaModelEngine(['DSTM'], 'DSTM');

/**
 * AutoTheta: of STM, OTM, DSTM and DOTM, the model with the smallest in-sample MSE (statsforecast's selection).
 * STM is OTM restricted to θ = 2 (and DSTM is DOTM so restricted), and both are fitted to their global optimum, so
 * the restricted model can never have the smaller MSE and only OTM and DOTM are fitted; a fit ending at θ = 2 is
 * reported as the standard model. Needs 8 observations.
 */
export const autoTheta: Engine = thetaModelEngine(['OTM', 'DOTM'], 'AutoTheta');

/** Fits one model to a series without seasonal adjustment (for inspection and tests). */
export function fitTheta(y: readonly number[], type: ThetaModelType, horizon: number): ThetaModelFit {
  const { x, scale } = prepare(y, type, OTM_MIN_LENGTH);
  const fit = fitThetaModel(x, type, steps(horizon));
  return {
    ...fit,
    level0: fit.level0 * scale,
    sse: fit.sse * scale * scale,
    mean: fit.mean.map((v) => v * scale),
    sd: fit.sd.map((v) => v * scale),
  };
}
