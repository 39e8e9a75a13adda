/**
 * Exponential smoothing (ETS) engines after R's `forecast::ets` (Hyndman, Koehler, Ord & Snyder 2008,
 * "Forecasting with Exponential Smoothing: the state space approach"; Hyndman et al. 2002, IJF 18(3)):
 * maximum likelihood fits of ETS(E,T,S) state space models (error A/M, trend N/A/Ad, season N/A/M),
 * model selection by AICc over ets()'s admissible family, and analytic forecast variances.
 *
 * Estimation follows ets(): the criterion n·log(SSE) (+ 2Σlog|ŷ| for multiplicative errors), Nelder–Mead
 * in R's exact form (ets-optim.ts), the usual bounds intersected with the admissible region, ets()'s starting
 * values and heuristic initial states. With `R_ETS_OPTIONS` the fits reproduce ets() (same optimiser path,
 * same numbers; checked on AirPassengers and on the M3/M4 benchmark series). The defaults differ in two
 * measured ways, both cheaper and both more accurate on the benchmark:
 * - Initial states are optimised jointly with the smoothing parameters (as ets() does) only for series
 *   without seasonality or with a short season (m ≤ 4), and n ≤ 300. For longer seasons (monthly, hourly)
 *   ets()'s heuristic initial states (classical decomposition, regression on the first values) are kept:
 *   Nelder–Mead over 17–29 dimensions does not converge within ets()'s 2000 evaluations, and those fits
 *   forecast worse; on long series the start hardly matters. All candidates of one series are fitted alike.
 * - Convergence is declared when the simplex's criterion values agree within 1e-5 per observation (a
 *   relative change of σ̂², independent of the data's scale) instead of R's √ε relative to the starting
 *   value. AICc is compared far above that resolution, and stopping earlier keeps the initial states nearer
 *   their heuristic values: the fully converged likelihood often overfits short series (e.g. β → α).
 *
 * Forecast variances are analytic for every member of the family (classes 1–3 of the book, ets-core.ts).
 */
import {
  EtsParams,
  EtsSpec,
  EtsState,
  admissible,
  completeSeasonal,
  createPass,
  createRootScratch,
  forecastMoments,
  initialParams,
  initialState,
  parameterCount,
  runRecursion,
  specLabel,
  withinUsualBounds,
} from './ets-core';
import { simplexMinimize } from './ets-optim';
import { Engine, EngineForecast, InsufficientDataError } from './types';

export type { EtsParams, EtsSpec, EtsState } from './ets-core';
export { specLabel } from './ets-core';

/** A fitted ETS model. */
export interface EtsModel {
  readonly spec: EtsSpec;
  /** Season length the model uses (1 when it has no seasonal component). */
  readonly m: number;
  readonly params: EtsParams;
  /** Initial state (seasonal factors indexed by season position, t % m, from the first observation). */
  readonly initial: EtsState;
  /** State after the last observation. */
  readonly final: EtsState;
  /** Number of observations. */
  readonly n: number;
  /** Smoothing parameters plus free initial states (ets()'s np, σ not included). */
  readonly parameters: number;
  /**
   * ets()'s criterion, −2·log-likelihood up to a constant: n·log(SSE) (+ 2Σlog|ŷ| for multiplicative
   * errors). NaN for the small-sample fallback fit, which has no likelihood.
   */
  readonly lik: number;
  readonly aic: number;
  readonly aicc: number;
  readonly bic: number;
  /** Residual variance (relative errors for multiplicative-error models), SSE / (n − parameters). */
  readonly sigma2: number;
  /** `ETS(M,Ad,N)`-style label. */
  readonly label: string;
  /** One-step in-sample errors (relative errors y/ŷ − 1 for multiplicative-error models). */
  readonly residuals: Float64Array;
  /** Likelihood evaluations the optimiser used. */
  readonly evaluations: number;
}

export interface EtsFitOptions {
  /**
   * Initial states: `optimal` (maximised jointly with the smoothing parameters, as ets() does), `heuristic`
   * (ets()'s initstate values are kept), `auto` (default: optimal when the season is at most 4 long and
   * n ≤ 300, otherwise heuristic; decided from the series so that all candidates are fitted alike).
   */
  readonly initialStates?: 'optimal' | 'heuristic' | 'auto';
  /**
   * Convergence of Nelder–Mead: the likelihood criterion's values on the simplex agree within this much per
   * observation (a relative change of σ̂²; scale-free). Default 1e-5.
   */
  readonly tolerance?: number;
  /** ets()'s rule instead: agreement within this fraction of the criterion at the starting point (R: √ε). */
  readonly relativeTolerance?: number;
  /** Likelihood evaluations allowed per model (default and ets(): 2000). */
  readonly maxEvaluations?: number;
}

/** Options under which fits reproduce R's `forecast::ets` (8.x) exactly. */
export const R_ETS_OPTIONS: EtsFitOptions = { initialStates: 'optimal', relativeTolerance: Math.sqrt(Number.EPSILON) };

const DEFAULT_TOLERANCE = 1e-5;
const MAX_EVALUATIONS = 2000;
/** `auto` initial states: longest season whose initial states are optimised. */
const OPTIMAL_STATES_MAX_SEASON = 4;
/** `auto` initial states: longest series whose initial states are optimised. */
const OPTIMAL_STATES_MAX_N = 300;
/** ets() treats longer seasons as non-seasonal. */
const MAX_SEASON = 24;

function isConstant(y: readonly number[]): boolean {
  for (let i = 1; i < y.length; i++) if (y[i] !== y[0]) return false;
  return true;
}

function allPositive(y: readonly number[]): boolean {
  for (const v of y) if (!(v > 0)) return false;
  return true;
}

/** Season length the ETS search can use: 1 unless an integer in 2..24 shorter than the series. */
function usableSeason(seasonLength: number, n: number): number {
  return Number.isInteger(seasonLength) && seasonLength >= 2 && seasonLength <= MAX_SEASON && n > seasonLength
    ? seasonLength
    : 1;
}

function optimiseInitialStates(options: EtsFitOptions, n: number, seasonLength: number): boolean {
  const mode = options.initialStates ?? 'auto';
  if (mode !== 'auto') return mode === 'optimal';
  return n <= OPTIMAL_STATES_MAX_N && usableSeason(seasonLength, n) <= OPTIMAL_STATES_MAX_SEASON;
}

/**
 * Fits one ETS model by maximum likelihood (ets()'s etsmodel). `seasonLength` is the series' period (used
 * by seasonal models, and by the `auto` initial-state policy). Returns null when the model cannot be fitted:
 * too many parameters for the data (np ≥ n − 1, as ets()), non-positive data for multiplicative errors,
 * unusable season length, or no finite likelihood at the starting values.
 */
export function fitEts(
  y: readonly number[],
  spec: EtsSpec,
  seasonLength: number,
  options: EtsFitOptions = {},
): EtsModel | null {
  const n = y.length;
  const seasonal = spec.season !== 'N';
  const m = seasonal ? seasonLength : 1;
  if (seasonal && (seasonLength < 2 || usableSeason(seasonLength, n) !== seasonLength || n < 4)) return null;
  const np = parameterCount(spec, m);
  if (np >= n - 1) return null;
  if ((spec.error === 'M' || spec.season === 'M') && !allPositive(y)) return null;
  const data = Float64Array.from(y);
  const error = spec.error === 'A' ? 1 : 2;
  const trend = spec.trend === 'N' ? 0 : 1;
  const season = spec.season === 'N' ? 0 : spec.season === 'A' ? 1 : 2;
  const start = initialParams(spec, m);
  const state0 = initialState(y, spec, m);
  const optimiseStates = optimiseInitialStates(options, n, seasonLength);

  // Parameter vector in ets()'s order: alpha, beta, gamma, phi, l0, b0, seasonal states newest first.
  const x0: number[] = [start.alpha];
  if (spec.trend !== 'N') x0.push(start.beta);
  if (seasonal) x0.push(start.gamma);
  if (spec.damped) x0.push(start.phi);
  if (optimiseStates) {
    x0.push(state0.level);
    if (spec.trend !== 'N') x0.push(state0.slope);
    if (seasonal) for (let p = m - 1; p >= 1; p--) x0.push(state0.seasonal[p]);
  }

  const pass = createPass(m);
  const scratch = createRootScratch(m);
  const seasonalWork = Float64Array.from(state0.seasonal);
  const hasTrend = spec.trend !== 'N';
  const damped = spec.damped;
  const multiplicativeSeason = spec.season === 'M';
  // Decoded parameter vector: alpha, beta, gamma, phi, l0, b0 (a typed array: the objective runs thousands
  // of times and must not allocate).
  const v = new Float64Array([0, 0, 0, 1, state0.level, state0.slope]);
  const unpack = (x: ArrayLike<number>, seasonalOut: Float64Array): void => {
    let k = 1;
    v[0] = x[0];
    v[1] = hasTrend ? x[k++] : 0;
    v[2] = seasonal ? x[k++] : 0;
    v[3] = damped ? x[k++] : 1;
    if (optimiseStates) {
      v[4] = x[k++];
      if (hasTrend) v[5] = x[k++];
      if (seasonal) {
        for (let p = m - 1; p >= 1; p--) seasonalOut[p] = x[k++];
        completeSeasonal(seasonalOut, spec.season, m);
      }
    }
  };
  const objective = (x: Float64Array): number => {
    unpack(x, seasonalWork);
    const alpha = v[0];
    const beta = v[1];
    const gamma = v[2];
    const phi = v[3];
    if (!withinUsualBounds(spec, alpha, beta, gamma, phi)) return Infinity;
    if (seasonal && !admissible(spec, m, alpha, beta, gamma, phi, scratch)) return Infinity;
    if (multiplicativeSeason) {
      for (let p = 0; p < m; p++) if (seasonalWork[p] < 0) return Infinity;
    }
    return runRecursion(data, m, error, trend, season, alpha, beta, gamma, phi, v[4], v[5], seasonalWork, pass);
  };
  const result = simplexMinimize(objective, x0, {
    maxit: options.maxEvaluations ?? MAX_EVALUATIONS,
    ...(options.relativeTolerance !== undefined
      ? { reltol: options.relativeTolerance }
      : { abstol: (options.tolerance ?? DEFAULT_TOLERANCE) * n }),
  });
  if (!Number.isFinite(result.value)) return null;

  const seasonal0 = Float64Array.from(state0.seasonal);
  unpack(result.x, seasonal0);
  const [alpha, beta, gamma, phi, level, slope] = v;
  const residuals = new Float64Array(n);
  const lik = runRecursion(
    data,
    m,
    error,
    trend,
    season,
    alpha,
    beta,
    gamma,
    phi,
    level,
    slope,
    seasonal0,
    pass,
    residuals,
  );
  if (!Number.isFinite(lik) || !Number.isFinite(pass.sse)) return null;
  const k = np + 1;
  const aic = lik + 2 * k;
  return {
    spec,
    m,
    params: { alpha, beta, gamma, phi },
    initial: { level, slope, seasonal: seasonal0 },
    final: { level: pass.level, slope: pass.slope, seasonal: Float64Array.from(pass.seasonal) },
    n,
    parameters: np,
    lik,
    aic,
    aicc: aic + (2 * k * (k + 1)) / (n - k - 1),
    bic: lik + Math.log(n) * k,
    sigma2: pass.sse / (n - np),
    label: specLabel(spec),
    residuals,
    evaluations: result.evaluations,
  };
}

/**
 * ets()'s fallback for series too short for likelihood estimation (its HoltWintersZZ): simple exponential
 * smoothing (l₀ = y₁) or Holt's method (l₀ = y₁, b₀ = y₂ − y₁), smoothing parameters in [0, 1] minimising
 * the sum of squared errors, σ² the mean squared error.
 */
export function fitSmallSample(y: readonly number[], trend: boolean): EtsModel {
  const n = y.length;
  const level0 = y[0];
  const slope0 = trend ? y[1] - y[0] : 0;
  const residuals = new Float64Array(n);
  const run = (alpha: number, beta: number) => {
    let l = level0;
    let b = slope0;
    let sse = 0;
    for (let t = 0; t < n; t++) {
      const f = l + b;
      residuals[t] = y[t] - f;
      sse += (y[t] - f) ** 2;
      const lNew = alpha * y[t] + (1 - alpha) * f;
      if (trend) b = beta * (lNew - l) + (1 - beta) * b;
      l = lNew;
    }
    return { sse, level: l, slope: b };
  };
  const inUnit = (v: number) => v >= 0 && v <= 1;
  const result = trend
    ? simplexMinimize((x) => (inUnit(x[0]) && inUnit(x[1]) ? run(x[0], x[1]).sse : Infinity), [0.2, 0.02], {
        maxit: MAX_EVALUATIONS,
      })
    : simplexMinimize((x) => (inUnit(x[0]) ? run(x[0], 0).sse : Infinity), [0.2], { maxit: MAX_EVALUATIONS });
  const alpha = result.x[0];
  const beta = trend ? result.x[1] : 0;
  const fit = run(alpha, beta);
  const spec: EtsSpec = { error: 'A', trend: trend ? 'A' : 'N', damped: false, season: 'N' };
  return {
    spec,
    m: 1,
    params: { alpha, beta, gamma: 0, phi: 1 },
    initial: { level: level0, slope: slope0, seasonal: new Float64Array(1) },
    final: { level: fit.level, slope: fit.slope, seasonal: new Float64Array(1) },
    n,
    parameters: parameterCount(spec, 1),
    lik: NaN,
    aic: NaN,
    aicc: NaN,
    bic: NaN,
    sigma2: fit.sse / n,
    label: specLabel(spec),
    residuals,
    evaluations: result.evaluations,
  };
}

/** Forecast mean and standard deviation of a fitted model (sd of the h-step forecast error). */
export function forecastEts(model: EtsModel, horizon: number): EngineForecast {
  const moments = forecastMoments(model.spec, model.m, model.params, model.final, model.n, model.sigma2, horizon);
  const mean = moments.mean;
  const sd = moments.variance.map((v) => Math.sqrt(Math.max(0, v)));
  for (let i = 0; i < horizon; i++) {
    if (!Number.isFinite(mean[i]) || !Number.isFinite(sd[i])) {
      throw new InsufficientDataError(`${model.label} produced a non-finite forecast`);
    }
  }
  return { mean, sd, model: model.label };
}

/** The candidate models of ets()'s automatic search for this series, in ets()'s order. */
export function candidateSpecs(y: readonly number[], seasonLength: number): EtsSpec[] {
  const seasonal = usableSeason(seasonLength, y.length) > 1;
  const positive = allPositive(y);
  const out: EtsSpec[] = [];
  for (const error of ['A', 'M'] as const) {
    if (error === 'M' && !positive) continue;
    for (const trend of ['N', 'A'] as const) {
      for (const season of ['N', 'A', 'M'] as const) {
        if (season !== 'N' && !seasonal) continue;
        if (error === 'A' && season === 'M') continue; // unstable, excluded by ets(restrict = TRUE)
        for (const damped of [true, false]) {
          if (trend === 'N' && damped) continue;
          out.push({ error, trend, damped, season });
        }
      }
    }
  }
  return out;
}

/** ets() switches to its small-sample fallback when n ≤ (number of parameters of its search) + 4. */
const SMALL_SAMPLE_MAX_N = 6;

/**
 * Fits every candidate of ets()'s automatic search (those that can be fitted), sorted by AICc. For a
 * series of at most 6 values this is ets()'s small-sample fallback instead (SES or Holt, whichever has the
 * smaller mean squared error; AICc NaN). Empty when nothing can be fitted.
 */
export function fitEtsFamily(y: readonly number[], seasonLength: number, options: EtsFitOptions = {}): EtsModel[] {
  if (y.length < 3) return [];
  if (y.length <= SMALL_SAMPLE_MAX_N) {
    const ses = fitSmallSample(y, false);
    const holt = fitSmallSample(y, true);
    return [holt.sigma2 < ses.sigma2 ? holt : ses];
  }
  const fits: EtsModel[] = [];
  for (const spec of candidateSpecs(y, seasonLength)) {
    const fit = fitEts(y, spec, seasonLength, options);
    if (fit !== null) fits.push(fit);
  }
  // Stable sort: ties keep ets()'s order, as its strict "<" comparison does.
  return fits.sort((a, b) => a.aicc - b.aicc);
}

/** The model ets(y) selects: smallest AICc over the admissible family. Null when nothing can be fitted. */
export function selectEts(y: readonly number[], seasonLength: number, options: EtsFitOptions = {}): EtsModel | null {
  return fitEtsFamily(y, seasonLength, options)[0] ?? null;
}

function flatForecast(value: number, horizon: number, label: string): EngineForecast {
  return { mean: new Array<number>(horizon).fill(value), sd: new Array<number>(horizon).fill(0), model: label };
}

function fixedEngine(spec: EtsSpec): Engine {
  const label = specLabel(spec);
  return (y, horizon, options) => {
    // A constant series: the forecast is that constant, with no error (ets() fits SES with α ≈ 1).
    if (y.length >= 1 && isConstant(y)) return flatForecast(y[0], horizon, label);
    const seasonal = spec.season !== 'N';
    const m = seasonal ? options.seasonLength : 1;
    if (seasonal && (m < 2 || usableSeason(m, y.length) !== m)) {
      throw new InsufficientDataError(`${label} needs an integer season length in 2..${MAX_SEASON} (got ${m})`);
    }
    if ((spec.error === 'M' || spec.season === 'M') && !allPositive(y)) {
      throw new InsufficientDataError(`${label} needs strictly positive data`);
    }
    // ets() fits a model by likelihood only when n > (parameters incl. φ) + 4.
    const minimum = Math.max(parameterCount(spec, m) + 5, seasonal ? 2 * m : 0);
    if (y.length < minimum) {
      if (!seasonal && y.length >= 3 && (spec.trend === 'N' || y.length >= 4)) {
        return forecastEts(fitSmallSample(y, spec.trend !== 'N'), horizon);
      }
      throw new InsufficientDataError(`${label} needs at least ${minimum} observations (got ${y.length})`);
    }
    const fit = fitEts(y, spec, m);
    if (fit === null) throw new InsufficientDataError(`${label} could not be fitted to this series`);
    return forecastEts(fit, horizon);
  };
}

/** Simple exponential smoothing, ETS(A,N,N). */
export const ses: Engine = fixedEngine({ error: 'A', trend: 'N', damped: false, season: 'N' });
/** Holt's linear trend, ETS(A,A,N). */
export const holt: Engine = fixedEngine({ error: 'A', trend: 'A', damped: false, season: 'N' });
/** Additive damped trend, ETS(A,Ad,N). */
export const dampedTrend: Engine = fixedEngine({ error: 'A', trend: 'A', damped: true, season: 'N' });
/** Additive Holt–Winters, ETS(A,A,A). */
export const holtWintersAdditive: Engine = fixedEngine({ error: 'A', trend: 'A', damped: false, season: 'A' });
/**
 * Multiplicative Holt–Winters as the state space model ETS(M,A,M), what R's hw(seasonal = "multiplicative")
 * fits. (The classical additive-error form ETS(A,A,M) has infinite-variance issues and is excluded from
 * ets()'s family.)
 */
export const holtWintersMultiplicative: Engine = fixedEngine({ error: 'M', trend: 'A', damped: false, season: 'M' });

/**
 * Automatic ETS: the model with the smallest AICc among those ets() considers (should its forecast not be
 * finite, e.g. an exploding trend over a very long horizon, the next best model serves).
 */
export const autoEts: Engine = (y, horizon, options) => {
  if (y.length >= 1 && isConstant(y)) return flatForecast(y[0], horizon, 'ETS(A,N,N)');
  if (y.length < 3) throw new InsufficientDataError(`ETS needs at least 3 observations (got ${y.length})`);
  for (const fit of fitEtsFamily(y, options.seasonLength)) {
    try {
      return forecastEts(fit, horizon);
    } catch (error) {
      if (!(error instanceof InsufficientDataError)) throw error;
    }
  }
  throw new InsufficientDataError('no ETS model could be fitted to this series');
};
