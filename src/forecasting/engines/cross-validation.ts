/**
 * Selection and weighting from a series' own past: rolling-origin cross-validation (time-series
 * cross-validation) on the series itself, as the best statistical entries of M4 chose per series.
 *
 * Each candidate is fitted to the whole series (its forecast) and, at each of `origins` earlier origins
 * n − L, n − 2L, …, refitted to the data before the origin to forecast the next L values (L = the horizon,
 * at most a quarter of the series). A candidate that selects a model (ETS by AICc, ARIMA by the stepwise
 * search) keeps at the origins the model it selected on the whole series and re-estimates its parameters
 * there: the selection by information criterion happens within a family, where it is comparable, and the
 * cross-validation compares the families. The candidates' forecasts are then averaged with weights
 * inversely proportional to their mean squared error over the origins (`inverse`, Bates & Granger's
 * weights), or equal ones, or the one with the smallest error is kept alone (`select`), optionally
 * shrunk toward equal weights and without the worst candidates. The errors of the combination at the
 * origins can also calibrate its intervals (`intervalScale`).
 *
 * Everything here is decided by the series' own history: nothing depends on data held out from it.
 */
import { type ArimaFit, autoArima, autoArimaFit, fitArima, forecastArima } from './arima';
import { autoEts, fitEts, fitEtsFamily, forecastEts } from './ets';
import { isSeasonal } from './math';
import { periodTheta } from './theta';
import { InsufficientDataError, type Engine, type EngineForecast, type EngineOptions } from './types';

/** A candidate fitted to a series: its forecast, and how to forecast again from a prefix of the series. */
export interface FittedCandidate {
  readonly forecast: EngineForecast;
  /** The candidate's model refitted to `prefix` (same specification, parameters re-estimated), `steps` ahead. */
  readonly refit: (prefix: readonly number[], steps: number) => EngineForecast;
}

export interface Candidate {
  readonly name: string;
  /** @throws InsufficientDataError when the series is too short (or unsuitable) for the candidate. */
  readonly fit: (y: readonly number[], horizon: number, options: EngineOptions) => FittedCandidate;
}

/** A candidate that refits from scratch at each origin (cheap engines, or ones without a specification to keep). */
export function engineCandidate(name: string, engine: Engine): Candidate {
  return {
    name,
    fit: (y, horizon, options) => ({
      forecast: engine(y, horizon, options),
      refit: (prefix, steps) => engine(prefix, steps, options),
    }),
  };
}

function isConstant(y: readonly number[]): boolean {
  return y.every((v) => v === y[0]);
}

/** AutoETS: at the origins, the ETS model selected on the whole series, re-estimated. */
export const etsCandidate: Candidate = {
  name: 'ets',
  fit: (y, horizon, options) => {
    // Constant and very short series: whatever autoEts does, from scratch at each origin too.
    if (y.length < 3 || isConstant(y)) return engineCandidate('ets', autoEts).fit(y, horizon, options);
    const m = options.seasonLength;
    // As autoEts: the model with the smallest AICc whose forecast is finite.
    for (const model of fitEtsFamily(y, m)) {
      let forecast: EngineForecast;
      try {
        forecast = forecastEts(model, horizon);
      } catch (error) {
        if (!(error instanceof InsufficientDataError)) throw error;
        continue;
      }
      // The small-sample fallback has no likelihood to re-estimate: it selects again at the origins.
      const keep = !Number.isNaN(model.lik);
      return {
        forecast,
        refit: (prefix, steps) => {
          const refitted = keep ? fitEts(prefix, model.spec, m) : null;
          return refitted ? forecastEts(refitted, steps) : autoEts(prefix, steps, options);
        },
      };
    }
    throw new InsufficientDataError('no ETS model could be fitted to this series');
  },
};

function arimaForecast(fit: ArimaFit, steps: number): EngineForecast {
  const { mean, sd } = forecastArima(fit, steps);
  if (!mean.every(Number.isFinite) || !sd.every(Number.isFinite)) {
    throw new InsufficientDataError(`${fit.model} produced a non-finite forecast`);
  }
  return { mean, sd, model: fit.model };
}

/** AutoARIMA: at the origins, the orders selected on the whole series, coefficients re-estimated. */
export const arimaCandidate: Candidate = {
  name: 'arima',
  fit: (y, horizon, options) => {
    const { fit } = autoArimaFit(y, options.seasonLength);
    return {
      forecast: arimaForecast(fit, horizon),
      refit: (prefix, steps) => {
        let refitted: ArimaFit;
        try {
          refitted = fitArima(prefix, fit.order, fit.seasonalOrder, fit.m, {
            includeConstant: fit.state.spec.constant,
            method: fit.method,
          });
        } catch (error) {
          if (!(error instanceof InsufficientDataError)) throw error;
          return autoArima(prefix, steps, options);
        }
        return arimaForecast(refitted, steps);
      },
    };
  },
};

/**
 * Theta adjusted at a longer cycle than the season length (`periodTheta`), when the series shows that cycle
 * (the M4 seasonality test at lag `period`); at the origins the adjustment is kept and re-estimated.
 */
export function periodThetaCandidate(period: number): Candidate {
  const engine = periodTheta(period);
  return {
    name: `theta[${period}]`,
    fit: (y, horizon, options) => {
      if (!isSeasonal(y, period, true)) throw new InsufficientDataError(`no cycle of ${period} in this series`);
      return { forecast: engine(y, horizon, options), refit: (prefix, steps) => engine(prefix, steps, options) };
    },
  };
}

export type CrossValidationRule = 'inverse' | 'select' | 'equal';

/**
 * How a candidate's error at an origin is measured: mean squared error (`mse`), mean absolute error
 * (`mae`), or mean sMAPE (`smape`, 200·|e|/(|y| + |f|), the competitions' scale-free measure).
 */
export type ErrorMetric = 'mse' | 'mae' | 'smape';

/** How the candidates' errors become weights. */
export interface Weighting {
  /** `inverse` ∝ 1/error (default), `select` all on the smallest error, `equal` the same for all. */
  readonly rule?: CrossValidationRule;
  /** How the errors are measured (default `mse`: the weights ∝ 1/MSE). */
  readonly metric?: ErrorMetric;
  /**
   * Share λ ∈ [0, 1] of equal weights mixed in: (1 − λ)·w + λ/k over the k candidates kept (shrinking
   * estimated weights toward the simple average, which is hard to beat with few validation errors).
   */
  readonly shrinkage?: number;
  /** How many candidates with the largest errors to leave out (at least two are always kept). */
  readonly trim?: number;
}

/**
 * Interval calibration from the combination's own errors at the origins, standardised by its sds there
 * (z): the sds are scaled by `rms` √(mean z²) or `absolute` mean |z|·√(π/2) (both 1 for normal errors with
 * the right spread; the second is less swayed by a single large miss), with `prior` pseudo-observations of
 * factor `center` (default 1) pulling it toward that factor when the origins are few.
 */
export interface Calibration {
  readonly statistic: 'rms' | 'absolute';
  readonly prior: number;
  /**
   * The factor the pseudo-observations stand for: 1 trusts the models' own spread; above 1 widens the
   * intervals of series whose few origins tell little (a factor measured across many series of the kind).
   */
  readonly center?: number;
}

export interface CrossValidationOptions extends Weighting {
  /** Rolling origins (default 2). */
  readonly origins?: number;
  /** Label of the combination's model (default `CV`). */
  readonly label?: string;
  /** Interval calibration (default none: the sds are the weighted mean of the candidates'). */
  readonly calibration?: Calibration;
}

/** The shortest series an origin may leave to fit on. */
const MIN_PREFIX = 10;

/** What happened at one rolling origin. */
export interface Fold {
  /** Which origin: 1 the most recent (n − L), 2 the one before (n − 2L), … */
  readonly origin: number;
  /** The values forecast from the origin. */
  readonly actual: readonly number[];
  /** Each candidate's forecast from the origin (null: it could not forecast). */
  readonly forecasts: readonly (EngineForecast | null)[];
  /** Each candidate's error there (`validate`: mean squared; Infinity: it could not forecast). */
  readonly errors: readonly number[];
}

/** Each candidate fitted to the series, with its mean error over the origins (Infinity: ruled out). */
export interface Validation {
  readonly names: string[];
  readonly forecasts: EngineForecast[];
  readonly errors: number[];
  /** Origins used (0 when the series is too short for any). */
  readonly origins: number;
  /** The origins used, most recent first. */
  readonly folds: readonly Fold[];
}

function usable(f: EngineForecast, steps: number): boolean {
  return f.mean.length === steps && f.mean.every(Number.isFinite) && f.sd.every(Number.isFinite);
}

/** The validation length: the horizon, at most a quarter of the series (and at least 1). */
export function validationLength(horizon: number, n: number): number {
  return Math.max(1, Math.min(horizon, Math.floor(n / 4)));
}

/** The validation from the folds: those where some candidate could forecast, errors averaged over them. */
function summarise(names: string[], forecasts: EngineForecast[], folds: readonly Fold[]): Validation {
  const used = folds.filter((fold) => fold.errors.some((e) => e !== Infinity));
  const errors = names.map((_, k) => used.reduce((total, fold) => total + fold.errors[k], 0));
  return {
    names,
    forecasts,
    errors: used.length > 0 ? errors.map((e) => e / used.length) : errors,
    origins: used.length,
    folds: used,
  };
}

/**
 * Fits every candidate to `y` and measures each one's mean squared error over up to `origins` rolling
 * origins. A candidate that cannot fit the whole series is left out; one that cannot forecast from an
 * origin where another can is ruled out (error Infinity); an origin where none can is not used.
 */
export function validate(
  candidates: readonly Candidate[],
  y: readonly number[],
  horizon: number,
  options: EngineOptions,
  origins: number,
): Validation {
  const fitted: { name: string; fit: FittedCandidate }[] = [];
  for (const candidate of candidates) {
    try {
      const fit = candidate.fit(y, horizon, options);
      if (usable(fit.forecast, horizon)) fitted.push({ name: candidate.name, fit });
    } catch (error) {
      if (!(error instanceof InsufficientDataError)) throw error;
    }
  }
  const n = y.length;
  const length = validationLength(horizon, n);
  const folds: Fold[] = [];
  for (let k = 1; k <= origins && n - k * length >= MIN_PREFIX; k++) {
    const cut = n - k * length;
    const prefix = y.slice(0, cut);
    const actual = y.slice(cut, cut + length);
    const forecasts = fitted.map(({ fit }) => {
      try {
        const f = fit.refit(prefix, length);
        return usable(f, length) ? f : null;
      } catch (error) {
        if (!(error instanceof InsufficientDataError)) throw error;
        return null;
      }
    });
    const errors = forecasts.map((f) => (f === null ? Infinity : foldError(actual, f.mean, 'mse')));
    folds.push({ origin: k, actual, forecasts: forecasts.map((f, i) => (errors[i] === Infinity ? null : f)), errors });
  }
  return summarise(
    fitted.map((f) => f.name),
    fitted.map((f) => f.fit.forecast),
    folds,
  );
}

/** A forecast's error over the values of one origin (Infinity when it is not finite). */
export function foldError(actual: readonly number[], forecast: readonly number[], metric: ErrorMetric): number {
  let e = 0;
  for (let i = 0; i < actual.length; i++) {
    const d = Math.abs(actual[i] - forecast[i]);
    if (metric === 'mse') e += d * d;
    else if (metric === 'mae') e += d;
    else {
      const denominator = Math.abs(actual[i]) + Math.abs(forecast[i]);
      e += denominator === 0 ? 0 : (200 * d) / denominator;
    }
  }
  return Number.isFinite(e) ? e / actual.length : Infinity;
}

/** The same validation with every error measured by `metric` instead (`validate` measures the MSE). */
export function measuredBy(validation: Validation, metric: ErrorMetric): Validation {
  if (metric === 'mse') return validation;
  const folds = validation.folds.map((fold) => ({
    ...fold,
    errors: fold.forecasts.map((f) => (f === null ? Infinity : foldError(fold.actual, f.mean, metric))),
  }));
  return summarise(validation.names, validation.forecasts, folds);
}

/**
 * The validation `validate` gives for the candidates at positions `keep` (in that order) and the first
 * `origins` origins, from one made with more candidates and origins (the fits do not depend on each other).
 */
export function restrictValidation(validation: Validation, keep: readonly number[], origins: number): Validation {
  const folds = validation.folds
    .filter((fold) => fold.origin <= origins)
    .map((fold) => ({
      origin: fold.origin,
      actual: fold.actual,
      forecasts: keep.map((k) => fold.forecasts[k]),
      errors: keep.map((k) => fold.errors[k]),
    }));
  return summarise(
    keep.map((k) => validation.names[k]),
    keep.map((k) => validation.forecasts[k]),
    folds,
  );
}

/** The candidates that keep a weight: not ruled out, less the `trim` worst (at least two kept). */
function keptCandidates(errors: readonly number[], trim: number): number[] {
  const alive = errors.map((_, k) => k).filter((k) => Number.isFinite(errors[k]));
  const drop = Math.max(0, Math.min(trim, alive.length - 2));
  if (drop === 0) return alive;
  // Largest errors first; on a tie the later candidate goes first.
  const worst = new Set([...alive].sort((a, b) => errors[b] - errors[a] || b - a).slice(0, drop));
  return alive.filter((k) => !worst.has(k));
}

/**
 * Weights of the candidates from their errors (see `Weighting`): `inverse` ∝ 1/MSE (a candidate without
 * error takes all the weight, shared with any other such), `select` all on the smallest error (the first
 * on a tie), `equal` the same for all; then `shrinkage` toward equal weights. Equal weights for all when
 * no origin could be used (or every candidate was ruled out); candidates ruled out or trimmed get 0.
 */
export function weightsOf(validation: Validation, weighting: CrossValidationRule | Weighting = {}): number[] {
  const { rule = 'inverse', shrinkage = 0, trim = 0 } = typeof weighting === 'string' ? { rule: weighting } : weighting;
  const { errors } = validation;
  const k = errors.length;
  const equal = errors.map(() => 1 / k);
  if (validation.origins === 0) return equal;
  const kept = keptCandidates(errors, trim);
  if (kept.length === 0) return equal;
  const weights = errors.map(() => 0);
  if (rule === 'select') {
    weights[kept.reduce((b, i) => (errors[i] < errors[b] ? i : b), kept[0])] = 1;
  } else if (rule === 'equal') {
    for (const i of kept) weights[i] = 1 / kept.length;
  } else {
    const perfect = kept.filter((i) => errors[i] === 0);
    if (perfect.length > 0) for (const i of perfect) weights[i] = 1 / perfect.length;
    else {
      const total = kept.reduce((s, i) => s + 1 / errors[i], 0);
      for (const i of kept) weights[i] = 1 / errors[i] / total;
    }
  }
  if (shrinkage > 0) for (const i of kept) weights[i] = (1 - shrinkage) * weights[i] + shrinkage / kept.length;
  return weights;
}

/** Bounds of the interval factor (a safeguard against a degenerate validation, e.g. a spread of ~0). */
const SCALE_BOUNDS = [0.25, 4] as const;
/** E|Z| = √(2/π) for a standard normal Z: mean |z|·√(π/2) is 1 for well-calibrated normal errors. */
const HALF_NORMAL_MEAN_INVERSE = Math.sqrt(Math.PI / 2);

/**
 * The factor by which the combination's sds should be scaled (see `Calibration`): over the N steps forecast
 * from the origins, with the combination's error e and sd s at each, √((Σ (e/s)² + κc²) / (N + κ)) (`rms`)
 * or (Σ |e/s|·√(π/2) + κc) / (N + κ) (`absolute`), κ = `prior`, c = `center`. At each origin the weights are
 * renormalised over the candidates that could forecast from it; steps with a zero sd are skipped. c when
 * nothing can be measured; kept within [1/4, 4].
 */
export function intervalScale(validation: Validation, weights: readonly number[], calibration: Calibration): number {
  const { statistic, prior, center = 1 } = calibration;
  let total = 0;
  let count = 0;
  for (const fold of validation.folds) {
    let weight = 0;
    fold.forecasts.forEach((f, k) => {
      if (f !== null && weights[k] > 0) weight += weights[k];
    });
    if (!(weight > 0)) continue;
    for (let i = 0; i < fold.actual.length; i++) {
      let mean = 0;
      let sd = 0;
      fold.forecasts.forEach((f, k) => {
        if (f === null || !(weights[k] > 0)) return;
        mean += (weights[k] / weight) * f.mean[i];
        sd += (weights[k] / weight) * f.sd[i];
      });
      if (!(sd > 0)) continue;
      const z = Math.abs(fold.actual[i] - mean) / sd;
      total += statistic === 'rms' ? z * z : z * HALF_NORMAL_MEAN_INVERSE;
      count++;
    }
  }
  const bounded = (factor: number): number => Math.min(SCALE_BOUNDS[1], Math.max(SCALE_BOUNDS[0], factor));
  if (count + prior <= 0 || !Number.isFinite(total)) return bounded(center);
  const ratio = (total + prior * (statistic === 'rms' ? center * center : center)) / (count + prior);
  return bounded(statistic === 'rms' ? Math.sqrt(ratio) : ratio);
}

/**
 * The weighted forecast: means and (errors of the members being strongly correlated) sds averaged, the
 * sds then multiplied by `scale`.
 */
export function weightedForecast(
  validation: Validation,
  weights: readonly number[],
  horizon: number,
  label: string,
  scale = 1,
): EngineForecast {
  const mean = new Array<number>(horizon).fill(0);
  const sd = new Array<number>(horizon).fill(0);
  const parts: string[] = [];
  validation.forecasts.forEach((f, k) => {
    const w = weights[k];
    if (!(w > 0)) return;
    for (let i = 0; i < horizon; i++) {
      mean[i] += w * f.mean[i];
      sd[i] += w * scale * f.sd[i];
    }
    parts.push(`${f.model} ${w.toFixed(2)}`);
  });
  return { mean, sd, model: `${label}(${parts.join(', ')})` };
}

/**
 * The engine that weights (or selects among) `candidates` by their rolling-origin errors on the series,
 * its intervals calibrated on the same origins when `calibration` is set.
 * Throws InsufficientDataError when no candidate can fit the series.
 */
export function crossValidated(candidates: readonly Candidate[], options: CrossValidationOptions = {}): Engine {
  const origins = options.origins ?? 2;
  const label = options.label ?? 'CV';
  return (y, horizon, engineOptions) => {
    const validation = measuredBy(validate(candidates, y, horizon, engineOptions, origins), options.metric ?? 'mse');
    if (validation.forecasts.length === 0) {
      throw new InsufficientDataError('no candidate of the cross-validation can fit this series');
    }
    const weights = weightsOf(validation, options);
    const scale = options.calibration === undefined ? 1 : intervalScale(validation, weights, options.calibration);
    return weightedForecast(validation, weights, horizon, label, scale);
  };
}
