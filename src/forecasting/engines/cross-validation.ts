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
 * weights), or the one with the smallest error is kept alone (`select`).
 *
 * Everything here is decided by the series' own history: nothing depends on data held out from it.
 */
import { type ArimaFit, autoArima, autoArimaFit, fitArima, forecastArima } from './arima';
import { autoEts, fitEts, fitEtsFamily, forecastEts } from './ets';
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

export type CrossValidationRule = 'inverse' | 'select';

export interface CrossValidationOptions {
  /** Rolling origins (default 2). */
  readonly origins?: number;
  /** How the candidates' errors become weights (default `inverse`). */
  readonly rule?: CrossValidationRule;
  /** Label of the combination's model (default `CV`). */
  readonly label?: string;
}

/** The shortest series an origin may leave to fit on. */
const MIN_PREFIX = 10;

/** Each candidate fitted to the series, with its mean squared error over the origins (Infinity: ruled out). */
export interface Validation {
  readonly names: string[];
  readonly forecasts: EngineForecast[];
  readonly errors: number[];
  /** Origins used (0 when the series is too short for any). */
  readonly origins: number;
}

function usable(f: EngineForecast, steps: number): boolean {
  return f.mean.length === steps && f.mean.every(Number.isFinite) && f.sd.every(Number.isFinite);
}

/** The validation length: the horizon, at most a quarter of the series (and at least 1). */
export function validationLength(horizon: number, n: number): number {
  return Math.max(1, Math.min(horizon, Math.floor(n / 4)));
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
  const totals = fitted.map(() => 0);
  let used = 0;
  for (let k = 1; k <= origins && n - k * length >= MIN_PREFIX; k++) {
    const cut = n - k * length;
    const prefix = y.slice(0, cut);
    const errors = fitted.map(({ fit }) => {
      try {
        const f = fit.refit(prefix, length);
        if (!usable(f, length)) return Infinity;
        let e = 0;
        for (let i = 0; i < length; i++) e += (y[cut + i] - f.mean[i]) ** 2;
        return Number.isFinite(e) ? e / length : Infinity;
      } catch (error) {
        if (!(error instanceof InsufficientDataError)) throw error;
        return Infinity;
      }
    });
    if (errors.every((e) => e === Infinity)) continue;
    errors.forEach((e, i) => (totals[i] += e));
    used++;
  }
  return {
    names: fitted.map((f) => f.name),
    forecasts: fitted.map((f) => f.fit.forecast),
    errors: used > 0 ? totals.map((t) => t / used) : totals,
    origins: used,
  };
}

/**
 * Weights of the candidates from their errors: `inverse` ∝ 1/MSE (a candidate without error takes all
 * the weight, shared with any other such), `select` all on the smallest error (the first on a tie). Equal
 * weights when no origin could be used; candidates ruled out get 0.
 */
export function weightsOf(validation: Validation, rule: CrossValidationRule): number[] {
  const { errors } = validation;
  const k = errors.length;
  if (validation.origins === 0) return errors.map(() => 1 / k);
  if (rule === 'select') {
    const best = errors.reduce((b, e, i) => (e < errors[b] ? i : b), 0);
    return errors.map((_, i) => (i === best ? 1 : 0));
  }
  const perfect = errors.filter((e) => e === 0).length;
  if (perfect > 0) return errors.map((e) => (e === 0 ? 1 / perfect : 0));
  const inverse = errors.map((e) => (Number.isFinite(e) ? 1 / e : 0));
  const total = inverse.reduce((s, v) => s + v, 0);
  return total > 0 ? inverse.map((v) => v / total) : errors.map(() => 1 / k);
}

/** The weighted forecast: means and (errors of the members being strongly correlated) sds averaged. */
export function weightedForecast(
  validation: Validation,
  weights: readonly number[],
  horizon: number,
  label: string,
): EngineForecast {
  const mean = new Array<number>(horizon).fill(0);
  const sd = new Array<number>(horizon).fill(0);
  const parts: string[] = [];
  validation.forecasts.forEach((f, k) => {
    const w = weights[k];
    if (!(w > 0)) return;
    for (let i = 0; i < horizon; i++) {
      mean[i] += w * f.mean[i];
      sd[i] += w * f.sd[i];
    }
    parts.push(`${f.model} ${w.toFixed(2)}`);
  });
  return { mean, sd, model: `${label}(${parts.join(', ')})` };
}

/**
 * The engine that weights (or selects among) `candidates` by their rolling-origin errors on the series.
 * Throws InsufficientDataError when no candidate can fit the series.
 */
export function crossValidated(candidates: readonly Candidate[], options: CrossValidationOptions = {}): Engine {
  const origins = options.origins ?? 2;
  const rule = options.rule ?? 'inverse';
  const label = options.label ?? 'CV';
  return (y, horizon, engineOptions) => {
    const validation = validate(candidates, y, horizon, engineOptions, origins);
    if (validation.forecasts.length === 0) {
      throw new InsufficientDataError('no candidate of the cross-validation can fit this series');
    }
    return weightedForecast(validation, weightsOf(validation, rule), horizon, label);
  };
}
