/**
 * Seasonal ARIMA engine with automatic order selection: a TypeScript rendering of R's
 * `forecast::auto.arima` (Hyndman & Khandakar 2008, "Automatic time series forecasting: the forecast
 * package for R", JSS 27(3)) with forecast 8.x defaults:
 *
 * - D from the STL seasonal strength (> 0.64) when m > 1 and n > 2m; d from repeated KPSS tests (5 %)
 *   on the seasonally differenced series;
 * - the stepwise search over (p, q, P, Q, constant) with max p = q = 5, P = Q = 2, the same starting
 *   models, neighbour order and constant toggling, at most 94 models, ranked by AICc; every candidate
 *   estimated from zero starting values, rejected when an AR or MA root lies within 1.01 of the unit
 *   circle;
 * - with the "approximation", candidates fitted by CSS, then refitted in order of their CSS AICc by
 *   exact maximum likelihood until one is admissible; otherwise every candidate by CSS-then-ML.
 *
 * Choices made for speed (measured on the M3 / M4 benchmark data):
 * - the approximation is also used when n·m > 300 (R: only n > 150 or m > 12), i.e. for monthly
 *   data: half the time, the same accuracy on M3 monthly (`approximation: false` restores R's rule);
 * - for m > 12 (hourly data, m = 24) the final model keeps its CSS estimates (R's `method = "CSS"`):
 *   the exact likelihood of a 24-lag seasonal state costs more than the whole search and did not
 *   forecast better on M4 Hourly; there the search also starts each candidate from the current best
 *   model's coefficients (R: from zero), which saves about a quarter of its time;
 * - estimation by Levenberg–Marquardt on sums of squares (see `arima-model.ts`) instead of BFGS;
 * - AICc is infinite (R: negative) when N − npar − 1 ≤ 0;
 * - when no model is admissible (R stops with an error) the plain differencing model is used.
 *
 * Forecasts: the Kalman-filtered state of the differenced model projected forwards, then integrated;
 * forecast-error standard deviations σ·√(Σ_{j<h} ψ_j²) from the psi-weights of the full (integrated)
 * model, with σ² = Σ residuals² / (N − npar + 1) as `forecast` reports it.
 */
import { differencingCoefficients, polyMultiply, psiWeights } from './arima-core';
import {
  ArimaMethod,
  ArimaProblem,
  ArimaSpec,
  InformationCriterion,
  SpecFit,
  coefficientCount,
  criterion,
  fitSpec,
  hasConstant,
  mapParams,
} from './arima-model';
import { difference, isConstant, ndiffs, nsdiffs } from './arima-unitroot';
import { Engine, EngineForecast, InsufficientDataError } from './types';

export type { ArimaMethod, InformationCriterion } from './arima-model';
export { kpssStatistic, kpssPValue, ndiffs, nsdiffs, isConstant } from './arima-unitroot';
export { seasonalStrength } from './arima-stl';
export { stl } from './mstl';

export interface ArimaOrder {
  readonly p: number;
  readonly d: number;
  readonly q: number;
}

export interface SeasonalArimaOrder {
  readonly P: number;
  readonly D: number;
  readonly Q: number;
}

export interface FitArimaOptions {
  /** Mean (d + D = 0) or drift (d + D = 1) term. Default: a mean when d + D = 0, no drift. */
  readonly includeConstant?: boolean;
  /** Estimation method (default "CSS-ML", as R's `arima`). */
  readonly method?: ArimaMethod;
}

export interface ArimaCoefficients {
  readonly ar: number[];
  readonly ma: number[];
  readonly sar: number[];
  readonly sma: number[];
  /** Mean of the series (d + D = 0 with a constant), in the series' units. */
  readonly mean: number | null;
  /** Drift per time step (d + D = 1 with a constant), in the series' units. */
  readonly drift: number | null;
}

export interface ArimaFit {
  readonly order: ArimaOrder;
  readonly seasonalOrder: SeasonalArimaOrder;
  readonly m: number;
  readonly method: ArimaMethod;
  readonly coefficients: ArimaCoefficients;
  /** Innovation variance Σ residuals² / (N − npar + 1), in squared series units. */
  readonly sigma2: number;
  /** Exact Gaussian log-likelihood (NaN for CSS fits). */
  readonly loglik: number;
  /** −2·loglik + 2·npar; for CSS fits auto.arima's stand-in N·log(σ̂²_CSS) + 2·npar. */
  readonly aic: number;
  readonly aicc: number;
  readonly bic: number;
  /** Observations after differencing. */
  readonly nobs: number;
  /** Passes auto.arima's checks (AR and MA roots at least 1.01 from the unit circle). */
  readonly admissible: boolean;
  /** E.g. `ARIMA(0,1,1)(0,1,1)[12]`, `ARIMA(1,1,0) with drift`. */
  readonly model: string;
  /** Everything the forecast function needs (scaled series and parameters). */
  readonly state: ArimaState;
}

/** Internal representation: the model on x = (y − centre) / scale. */
export interface ArimaState {
  readonly spec: ArimaSpec;
  readonly params: Float64Array;
  readonly x: Float64Array;
  readonly scale: number;
  readonly center: number;
  /** σ² in scaled units. */
  readonly sigma2: number;
}

/** R's `arima.string` without padding. */
export function arimaString(spec: ArimaSpec): string {
  let s = `ARIMA(${spec.p},${spec.d},${spec.q})`;
  if (spec.m > 1 && spec.P + spec.D + spec.Q > 0) s += `(${spec.P},${spec.D},${spec.Q})[${spec.m}]`;
  if (hasConstant(spec)) s += spec.d + spec.D === 0 ? ' with non-zero mean' : ' with drift';
  else if (spec.d + spec.D === 0) s += ' with zero mean';
  return s;
}

/** Scaled copies of a series: x = (y − centre)/scale, the centre only for models with a mean. */
class ScaledSeries {
  readonly scale: number;
  readonly mean: number;
  private plain: Float64Array | null = null;
  private centred: Float64Array | null = null;

  constructor(readonly y: readonly number[]) {
    const n = y.length;
    let mu = 0;
    for (let i = 0; i < n; i++) mu += y[i];
    mu /= n;
    let ss = 0;
    let maxAbs = 0;
    for (let i = 0; i < n; i++) {
      ss += (y[i] - mu) ** 2;
      maxAbs = Math.max(maxAbs, Math.abs(y[i]));
    }
    const sd = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
    this.scale = sd > 0 && Number.isFinite(sd) ? sd : maxAbs > 0 ? maxAbs : 1;
    this.mean = mu;
  }

  centerFor(spec: ArimaSpec): number {
    return hasConstant(spec) && spec.d + spec.D === 0 ? this.mean : 0;
  }

  x(spec: ArimaSpec): Float64Array {
    const centred = this.centerFor(spec) !== 0;
    const cached = centred ? this.centred : this.plain;
    if (cached !== null) return cached;
    const c = centred ? this.mean : 0;
    const out = Float64Array.from(this.y, (v) => (v - c) / this.scale);
    if (centred) this.centred = out;
    else this.plain = out;
    return out;
  }
}

/** Builds the public fit object from a fit on the scaled series. */
function toArimaFit(series: ScaledSeries, fit: SpecFit): ArimaFit {
  const { spec, params } = fit;
  const { p, q, P, Q } = spec;
  const scale = series.scale;
  const center = series.centerFor(spec);
  const shift = 2 * fit.nobs * Math.log(scale);
  const k = coefficientCount(spec);
  const constant = hasConstant(spec) ? params[k - 1] : null;
  const coefficients: ArimaCoefficients = {
    ar: Array.from(params.subarray(0, p)),
    ma: Array.from(params.subarray(p, p + q)),
    sar: Array.from(params.subarray(p + q, p + q + P)),
    sma: Array.from(params.subarray(p + q + P, p + q + P + Q)),
    mean: constant !== null && spec.d + spec.D === 0 ? center + scale * constant : null,
    drift: constant !== null && spec.d + spec.D === 1 ? scale * constant : null,
  };
  return {
    order: { p, d: spec.d, q },
    seasonalOrder: { P, D: spec.D, Q },
    m: spec.m,
    method: fit.method,
    coefficients,
    sigma2: fit.sigma2 * scale * scale,
    loglik: fit.loglik - fit.nobs * Math.log(scale),
    aic: fit.aic + shift,
    aicc: fit.aicc + shift,
    bic: fit.bic + shift,
    nobs: fit.nobs,
    admissible: fit.admissible,
    model: arimaString(spec),
    state: { spec, params: fit.params, x: series.x(spec), scale, center, sigma2: fit.sigma2 },
  };
}

function normaliseSpec(order: ArimaOrder, seasonal: SeasonalArimaOrder, m: number, constant: boolean): ArimaSpec {
  const intOk = (v: number): boolean => Number.isInteger(v) && v >= 0;
  if (![order.p, order.d, order.q, seasonal.P, seasonal.D, seasonal.Q].every(intOk)) {
    throw new RangeError('ARIMA orders must be non-negative integers');
  }
  const period = Math.max(1, Math.round(m));
  const seasonalPart = period > 1;
  return {
    p: order.p,
    d: order.d,
    q: order.q,
    P: seasonalPart ? seasonal.P : 0,
    D: seasonalPart ? seasonal.D : 0,
    Q: seasonalPart ? seasonal.Q : 0,
    m: period,
    constant: constant && order.d + (seasonalPart ? seasonal.D : 0) <= 1,
  };
}

/**
 * Fits ARIMA(p,d,q)(P,D,Q)[m] to y (R's `Arima(y, order, seasonal, include.mean/include.drift)`).
 * Throws InsufficientDataError when the series is too short for the model or the fit fails.
 */
export function fitArima(
  y: readonly number[],
  order: ArimaOrder,
  seasonalOrder: SeasonalArimaOrder = { P: 0, D: 0, Q: 0 },
  m = 1,
  options: FitArimaOptions = {},
): ArimaFit {
  if (y.length === 0 || !y.every(Number.isFinite)) throw new InsufficientDataError('ARIMA needs finite observations');
  const seasonalD = Math.round(m) > 1 ? seasonalOrder.D : 0;
  const constant = options.includeConstant ?? order.d + seasonalD === 0;
  const spec = normaliseSpec(order, seasonalOrder, m, constant);
  const series = new ScaledSeries(y);
  const method = options.method ?? 'CSS-ML';
  const fit = fitSpec(series.x(spec), spec, { method, ic: 'aicc' });
  if (fit === null) {
    throw new InsufficientDataError(`${arimaString(spec)} could not be fitted to ${y.length} observations`);
  }
  return toArimaFit(series, fit);
}

/**
 * Point forecasts and forecast-error standard deviations of a fitted model, 1..horizon steps ahead.
 */
export function forecastArima(fit: ArimaFit, horizon: number): { mean: number[]; sd: number[] } {
  const { spec, params, x, scale, center, sigma2 } = fit.state;
  const H = Math.max(0, Math.floor(horizon));
  const model = new ArimaProblem(x, spec);
  model.load(params);
  const N = model.nobs;
  const shift = hasConstant(spec) ? params[model.k - 1] * model.regressorStep : 0;
  // Forecasts of the de-meaned differenced series.
  const wf = new Float64Array(H);
  const exact = N > 0 ? model.exact(null) : null;
  if (exact !== null) {
    const ws = model.kalman();
    const r = ws.r;
    const a = Float64Array.from(ws.a);
    for (let h = 0; h < H; h++) {
      wf[h] = a[0];
      const a0 = a[0];
      for (let i = 0; i < r - 1; i++) a[i] = ws.phi[i] * a0 + a[i + 1];
      a[r - 1] = ws.phi[r - 1] * a0;
    }
  } else if (N > 0) {
    // Conditional forecasts from the CSS residuals (non-stationary AR part).
    const e = new Float64Array(N);
    const ext = new Float64Array(N + H);
    ext.set(model.w);
    const resid = new Float64Array(Math.max(0, N - model.ncond));
    model.css(resid);
    for (let t = model.ncond; t < N; t++) e[t] = resid[t - model.ncond];
    const phi = model.phiFull;
    const theta = model.thetaFull;
    for (let h = 0; h < H; h++) {
      const t = N + h;
      let v = 0;
      for (let k = 1; k <= phi.length; k++) if (t - k >= 0) v += phi[k - 1] * ext[t - k];
      for (let k = h + 1; k <= theta.length; k++) if (t - k >= 0 && t - k < N) v += theta[k - 1] * e[t - k];
      ext[t] = v;
      wf[h] = v;
    }
  }
  // Integrate: x_t = w_t + shift + Σ δ_k x_{t−k}.
  const delta = differencingCoefficients(spec.d, spec.D, spec.m);
  const n = x.length;
  const xs = new Float64Array(n + H);
  xs.set(x);
  for (let h = 0; h < H; h++) {
    const t = n + h;
    let v = wf[h] + shift;
    for (let k = 1; k <= delta.length; k++) v += delta[k - 1] * xs[t - k];
    xs[t] = v;
  }
  // Psi-weights of φ*(B)·Δ(B) against θ*(B).
  const arPoly = new Float64Array(model.phiFull.length + 1);
  arPoly[0] = 1;
  for (let k = 0; k < model.phiFull.length; k++) arPoly[k + 1] = -model.phiFull[k];
  const deltaPoly = new Float64Array(delta.length + 1);
  deltaPoly[0] = 1;
  for (let k = 0; k < delta.length; k++) deltaPoly[k + 1] = -delta[k];
  const total = polyMultiply(arPoly, deltaPoly);
  const arTotal = new Float64Array(total.length - 1);
  for (let k = 1; k < total.length; k++) arTotal[k - 1] = -total[k];
  const psi = psiWeights(arTotal, model.thetaFull, H);
  const mean: number[] = new Array<number>(H);
  const sd: number[] = new Array<number>(H);
  let cumulative = 0;
  for (let h = 0; h < H; h++) {
    cumulative += psi[h] * psi[h];
    mean[h] = center + scale * xs[n + h];
    sd[h] = scale * Math.sqrt(Math.max(0, sigma2) * cumulative);
  }
  return { mean, sd };
}

export interface AutoArimaOptions {
  readonly maxP?: number;
  readonly maxQ?: number;
  readonly maxSeasonalP?: number;
  readonly maxSeasonalQ?: number;
  readonly maxD?: number;
  readonly maxSeasonalD?: number;
  /** Fixed differencing orders (chosen by the tests when absent). */
  readonly d?: number;
  readonly D?: number;
  readonly ic?: InformationCriterion;
  /**
   * Fit the candidates by CSS during the search, then refit the best by exact likelihood. Default:
   * n > 150 or m > 12 (auto.arima's rule), and also when n·m > 300, where the exact-likelihood search
   * would cost too much (e.g. monthly data).
   */
  readonly approximation?: boolean;
  readonly allowDrift?: boolean;
  readonly allowMean?: boolean;
  /** Maximum number of models in the stepwise search (94). */
  readonly maxModels?: number;
  /**
   * Start each candidate from the coefficients of the current best model instead of zeros (R). Default:
   * only when m > 12, where it halves the search time; from zeros elsewhere, because warm starts can end
   * in other local optima than R's (e.g. on AirPassengers).
   */
  readonly warmStart?: boolean;
  /**
   * Refit the final model by exact likelihood (default: when m ≤ 12). Otherwise it keeps CSS
   * estimates, as R's `method = "CSS"`: for hourly data (m = 24, n ≈ 700–1000) the exact likelihood
   * costs more than the whole search and did not forecast better on M4 Hourly.
   */
  readonly exactFinal?: boolean;
}

export interface AutoArimaResult {
  readonly fit: ArimaFit;
  /** Number of model estimations (search and final refits). */
  readonly modelsFitted: number;
}

interface Candidate {
  readonly p: number;
  readonly q: number;
  readonly P: number;
  readonly Q: number;
  readonly constant: boolean;
  readonly ic: number;
  readonly fit: SpecFit | null;
}

/** Convergence of the fits during the search: enough to rank models by AICc (N·1e-4 at most). */
const SEARCH_CSS_TOLERANCE = 1e-4;
const SEARCH_ML_TOLERANCE = 1e-5;

/** A fit with fixed coefficients (no estimation), as R's `Arima(..., fixed = …)`. */
function fixedFit(series: ScaledSeries, spec: ArimaSpec, constantValue: number | null): SpecFit {
  const x = series.x(spec);
  const model = new ArimaProblem(x, spec);
  const params = new Float64Array(model.k);
  if (constantValue !== null && model.k > 0) params[model.k - 1] = constantValue;
  model.load(params);
  let ssq = 0;
  for (let t = 0; t < model.nobs; t++) ssq += model.w[t] * model.w[t];
  const N = model.nobs;
  return {
    spec,
    method: 'CSS-ML',
    params,
    sigma2: N > 0 ? ssq / N : 0,
    loglik: NaN,
    aic: NaN,
    aicc: NaN,
    bic: NaN,
    npar: 1,
    nobs: N,
    admissible: true,
  };
}

/**
 * Automatic ARIMA: differencing tests, stepwise search, final fit (R's `auto.arima` defaults).
 * Throws InsufficientDataError for series too short for any model.
 */
export function autoArimaFit(y: readonly number[], m: number, options: AutoArimaOptions = {}): AutoArimaResult {
  const n = y.length;
  if (n < 2) throw new InsufficientDataError('ARIMA needs at least 2 observations');
  if (!y.every(Number.isFinite)) throw new InsufficientDataError('ARIMA needs finite observations');
  const series = new ScaledSeries(y);
  const period = Math.max(1, Math.round(Number.isFinite(m) ? m : 1));
  const specOf = (p: number, d: number, q: number, P: number, D: number, Q: number, constant: boolean): ArimaSpec => ({
    p,
    d,
    q,
    P: period > 1 ? P : 0,
    D: period > 1 ? D : 0,
    Q: period > 1 ? Q : 0,
    m: period,
    constant,
  });

  let reference = 0;
  for (let i = 0; i < n; i++) reference += Math.abs(y[i]) / n;
  if (isConstant(y)) {
    // R: ARIMA(0,0,0) with the mean fixed at the (constant) value; no variability.
    const spec = specOf(0, 0, 0, 0, 0, 0, options.allowMean ?? true);
    const fit = fixedFit(series, spec, hasConstant(spec) ? 0 : null);
    return { fit: toArimaFit(series, { ...fit, sigma2: 0 }), modelsFitted: 0 };
  }

  let maxP = Math.min(options.maxP ?? 5, Math.floor(n / 3));
  let maxQ = Math.min(options.maxQ ?? 5, Math.floor(n / 3));
  let maxSP = Math.min(options.maxSeasonalP ?? 2, Math.floor(n / 3 / period));
  let maxSQ = Math.min(options.maxSeasonalQ ?? 2, Math.floor(n / 3 / period));
  // AICc is undefined for tiny samples.
  const ic: InformationCriterion = n <= 3 ? 'aic' : (options.ic ?? 'aicc');

  // Differencing: D from the seasonal strength, then d from KPSS tests on the seasonally differenced data.
  let D: number;
  if (period === 1) {
    D = 0;
    maxSP = 0;
    maxSQ = 0;
  } else if (options.D !== undefined) D = options.D;
  else if (n <= 2 * period) D = 0;
  else D = nsdiffs(y, period, { maxD: options.maxSeasonalD ?? 1, reference });
  let dx = difference(y, period, D);
  const d = options.d ?? ndiffs(dx, { maxD: options.maxD ?? 2, reference });
  if (d > 0) dx = difference(dx, 1, d);
  if (dx.length === 0) throw new InsufficientDataError(`not enough data for ${d} + ${D}×${period} differences`);

  if (isConstant(dx, reference)) {
    // Deterministic after differencing: fixed constant, no ARMA terms (as auto.arima).
    let mean = 0;
    for (let i = 0; i < dx.length; i++) mean += dx[i];
    mean /= dx.length;
    let spec: ArimaSpec;
    let value: number | null = null;
    if (D > 0 && d === 0) {
      spec = specOf(0, 0, 0, 0, D, 0, true);
      value = mean / period;
    } else if (D > 0) spec = specOf(0, d, 0, 0, D, 0, false);
    else if (d === 2) spec = specOf(0, 2, 0, 0, 0, 0, false);
    else {
      spec = specOf(0, d, 0, 0, 0, 0, true);
      value = mean;
    }
    const scaled = value === null ? null : (value - series.centerFor(spec)) / series.scale;
    return { fit: toArimaFit(series, fixedFit(series, spec, scaled)), modelsFitted: 0 };
  }

  if (period > 1) {
    if (maxSP > 0) maxP = Math.min(maxP, period - 1);
    if (maxSQ > 0) maxQ = Math.min(maxQ, period - 1);
  }
  const approximation = options.approximation ?? (n > 150 || period > 12 || n * period > 300);
  const allowDrift = (options.allowDrift ?? true) && d + D === 1;
  const allowMean = (options.allowMean ?? true) && d + D === 0;
  let constant = allowDrift || allowMean;
  const nmodels = options.maxModels ?? 94;
  const exactFinal = options.exactFinal ?? period <= 12;
  const warmStart = options.warmStart ?? period > 12;
  const searchMethod: ArimaMethod = approximation ? 'CSS' : 'CSS-ML';

  let fitted = 0;
  /** Fits one candidate, starting from the coefficients of `from` (a neighbouring model) when given. */
  const fitOne = (
    spec: ArimaSpec,
    method: ArimaMethod,
    from: SpecFit | null,
    tolerance: { css: number; ml: number },
    skipCss = false,
  ): SpecFit | null => {
    fitted++;
    const x = series.x(spec);
    const init =
      from !== null ? mapParams(from.spec, from.params, spec, new ArimaProblem(x, spec).initialParams()) : undefined;
    return fitSpec(x, spec, {
      method,
      ic,
      init,
      skipCss,
      cssTolerance: tolerance.css,
      mlTolerance: tolerance.ml,
    });
  };
  const searchTolerance = { css: SEARCH_CSS_TOLERANCE, ml: SEARCH_ML_TOLERANCE };
  const finalTolerance = { css: 1e-8, ml: SEARCH_ML_TOLERANCE };

  const results: Candidate[] = [];
  // The current best model: neighbours can start from its coefficients.
  let best: Candidate = { p: 0, q: 0, P: 0, Q: 0, constant: false, ic: Infinity, fit: null };
  const evaluate = (p: number, q: number, P: number, Q: number, c: boolean): Candidate => {
    const fit = fitOne(specOf(p, d, q, P, D, Q, c), searchMethod, warmStart ? best.fit : null, searchTolerance);
    const cand: Candidate = { p, q, P, Q, constant: c, ic: criterion(fit, ic), fit };
    results.push(cand);
    return cand;
  };
  const isNew = (p: number, q: number, P: number, Q: number, c: boolean): boolean =>
    !results.some((r) => r.p === p && r.q === q && r.P === P && r.Q === Q && r.constant === c);

  // Starting models: (2,d,2)(1,D,1), the null model, AR(1)/SAR(1), MA(1)/SMA(1), null without constant.
  const short = n < 10;
  let p = Math.min(short ? 1 : 2, maxP);
  let q = Math.min(short ? 1 : 2, maxQ);
  let P = Math.min(short ? 0 : 1, maxSP);
  let Q = Math.min(short ? 0 : 1, maxSQ);
  best = evaluate(p, q, P, Q, constant);
  let cand = evaluate(0, 0, 0, 0, constant);
  if (cand.ic < best.ic) {
    best = cand;
    p = q = P = Q = 0;
  }
  if (maxP > 0 || maxSP > 0) {
    const ap = maxP > 0 ? 1 : 0;
    const aP = period > 1 && maxSP > 0 ? 1 : 0;
    cand = evaluate(ap, 0, aP, 0, constant);
    if (cand.ic < best.ic) {
      best = cand;
      p = ap;
      P = aP;
      q = Q = 0;
    }
  }
  if (maxQ > 0 || maxSQ > 0) {
    const mq = maxQ > 0 ? 1 : 0;
    const mQ = period > 1 && maxSQ > 0 ? 1 : 0;
    cand = evaluate(0, mq, 0, mQ, constant);
    if (cand.ic < best.ic) {
      best = cand;
      p = P = 0;
      q = mq;
      Q = mQ;
    }
  }
  if (constant) {
    cand = evaluate(0, 0, 0, 0, false);
    if (cand.ic < best.ic) {
      best = cand;
      p = q = P = Q = 0;
    }
  }

  // Stepwise search: visit the neighbours in auto.arima's order, move to the first improvement.
  type Move = [number, number, number, number, boolean];
  let startk = 0;
  while (startk < results.length && results.length < nmodels) {
    startk = results.length;
    const moves: Array<[boolean, Move]> = [
      [P > 0, [p, q, P - 1, Q, constant]],
      [Q > 0, [p, q, P, Q - 1, constant]],
      [P < maxSP, [p, q, P + 1, Q, constant]],
      [Q < maxSQ, [p, q, P, Q + 1, constant]],
      [Q > 0 && P > 0, [p, q, P - 1, Q - 1, constant]],
      [Q < maxSQ && P > 0, [p, q, P - 1, Q + 1, constant]],
      [Q > 0 && P < maxSP, [p, q, P + 1, Q - 1, constant]],
      [Q < maxSQ && P < maxSP, [p, q, P + 1, Q + 1, constant]],
      [p > 0, [p - 1, q, P, Q, constant]],
      [q > 0, [p, q - 1, P, Q, constant]],
      [p < maxP, [p + 1, q, P, Q, constant]],
      [q < maxQ, [p, q + 1, P, Q, constant]],
      [q > 0 && p > 0, [p - 1, q - 1, P, Q, constant]],
      [q < maxQ && p > 0, [p - 1, q + 1, P, Q, constant]],
      [q > 0 && p < maxP, [p + 1, q - 1, P, Q, constant]],
      [q < maxQ && p < maxP, [p + 1, q + 1, P, Q, constant]],
    ];
    if (allowDrift || allowMean) moves.push([true, [p, q, P, Q, !constant]]);
    for (const [allowed, move] of moves) {
      if (!allowed || !isNew(...move)) continue;
      if (results.length >= nmodels) break;
      cand = evaluate(...move);
      if (cand.ic < best.ic) {
        best = cand;
        [p, q, P, Q, constant] = move;
        break;
      }
    }
  }

  // Final model. With the approximation: refit candidates in order of their CSS criterion until one
  // is admissible (R's loop), by exact likelihood from the CSS estimates, or by a tighter CSS.
  let final: SpecFit | null = best.fit !== null && best.ic < Infinity ? best.fit : null;
  if (approximation) {
    final = null;
    const ordered = results
      .map((r, i) => ({ r, i }))
      .sort((a, b) => (a.r.ic === b.r.ic ? a.i - b.i : a.r.ic < b.r.ic ? -1 : 1));
    for (const { r } of ordered) {
      const spec = specOf(r.p, d, r.q, r.P, D, r.Q, r.constant);
      const fit = exactFinal
        ? fitOne(spec, 'CSS-ML', r.fit, finalTolerance, r.fit !== null)
        : r.fit !== null && r.ic < Infinity
          ? fitOne(spec, 'CSS', r.fit, finalTolerance)
          : null;
      if (fit !== null && criterion(fit, ic) < Infinity) {
        final = fit;
        break;
      }
    }
  }
  if (final === null) {
    // No admissible model (auto.arima gives up here): the plain differencing model always exists.
    const spec = specOf(0, d, 0, 0, D, 0, false);
    final = fitSpec(series.x(spec), spec, { method: 'CSS-ML', ic });
    if (final === null) throw new InsufficientDataError(`no ARIMA model could be fitted to ${n} observations`);
  }
  return { fit: toArimaFit(series, final), modelsFitted: fitted };
}

/** AutoARIMA engine: `auto.arima` model selection, forecasts with psi-weight standard deviations. */
export const autoArima: Engine = (y, horizon, options): EngineForecast => {
  const { fit } = autoArimaFit(y, options.seasonLength);
  const { mean, sd } = forecastArima(fit, horizon);
  for (let i = 0; i < mean.length; i++) {
    if (!Number.isFinite(mean[i]) || !Number.isFinite(sd[i])) {
      throw new InsufficientDataError(`${fit.model} produced a non-finite forecast`);
    }
  }
  return { mean, sd, model: fit.model };
};
