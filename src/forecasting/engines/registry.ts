/**
 * The local engines by their public names, and what each falls back to when a series is too short
 * for it. `auto` is `cross_validated`: the automatic families weighted by each series' own
 * rolling-origin errors (see the README's table for how it fares on the M3/M4 benchmark data).
 */
import { autoArima } from './arima';
import { drift, naive, seasonalNaive } from './baseline';
import {
  arimaCandidate,
  type Candidate,
  crossValidated,
  type CrossValidationOptions,
  engineCandidate,
  etsCandidate,
  periodThetaCandidate,
} from './cross-validation';
import { combine } from './ensemble';
import { autoEts, dampedTrend, holt, holtWintersAdditive, holtWintersMultiplicative, ses } from './ets';
import { createMultiSeasonalEngine, frequencyFromSeasonLength, multiSeasonal } from './multiseasonal';
import { autoTheta, theta } from './theta';
import type { Engine } from './types';

export const LOCAL_ENGINE_NAMES = [
  'auto',
  'cross_validated',
  'ensemble',
  'ets',
  'arima',
  'theta',
  'optimized_theta',
  'mstl',
  'holt_winters_additive',
  'holt_winters_multiplicative',
  'damped',
  'holt',
  'ses',
  'drift',
  'seasonal_naive',
  'naive',
] as const;
export type LocalEngineName = (typeof LOCAL_ENGINE_NAMES)[number];

/** ETS, ARIMA and optimised Theta averaged: the combination for series without a season. */
const nonSeasonalEnsemble = combine(
  [
    { name: 'ets', engine: autoEts },
    { name: 'arima', engine: autoArima },
    { name: 'optimized_theta', engine: autoTheta },
  ],
  'Ensemble',
);

/**
 * ETS, ARIMA, Theta (with its seasonal adjustment) and MSTL averaged: the combination for seasonal
 * series (quarterly and monthly on the dev split: sMAPE 8.91 and 13.05 against 9.11 and 13.27
 * for the three-member combination).
 */
const seasonalEnsemble = combine(
  [
    { name: 'ets', engine: autoEts },
    { name: 'arima', engine: autoArima },
    { name: 'theta', engine: theta },
    { name: 'mstl', engine: multiSeasonal },
  ],
  'Ensemble',
);

const ensemble: Engine = (y, horizon, options) =>
  (options.seasonLength >= 2 ? seasonalEnsemble : nonSeasonalEnsemble)(y, horizon, options);

/**
 * How `cross_validated` combines its candidates, chosen on a validation set made of the training parts of
 * the M3/M4 dev split (`npm run bench:forecast:validate`, see the README): 2 rolling origins (each as long
 * as the horizon, at most a quarter of the series), weights ∝ 1/MSE, and the sds scaled by the mean
 * absolute standardised error at the origins with 50 pseudo-observations of factor 1.
 */
export const CROSS_VALIDATION: CrossValidationOptions = {
  origins: 2,
  rule: 'inverse',
  calibration: { statistic: 'absolute', prior: 50 },
};

const THETA_CANDIDATE = engineCandidate('theta', theta);
const OPTIMIZED_THETA_CANDIDATE = engineCandidate('optimized_theta', autoTheta);
const MSTL_CANDIDATE = engineCandidate('mstl', multiSeasonal);

/** The longer cycle of a season length: a week of hours (168) for hourly data, a year of weeks (52) for weekly data. */
export function longCycle(seasonLength: number): number | undefined {
  const frequency = frequencyFromSeasonLength(seasonLength);
  return frequency === 'hourly' ? 168 : frequency === 'weekly' ? 52 : undefined;
}

/** Which candidates join the pool for the long cycle (see `crossValidationPool`). */
export type LongCycleCandidates = 'none' | 'theta' | 'theta+stl';

/** The candidates for the long cycle of a season length (`longCycle`), built once. */
const longCycleCandidates = new Map<number, { theta: Candidate; stl: Candidate }>();

function longCycleCandidatesFor(seasonLength: number, cycle: number): { theta: Candidate; stl: Candidate } {
  let candidates = longCycleCandidates.get(seasonLength);
  if (candidates === undefined) {
    // STL with the long cycle alone for weekly data, with the day for hourly data.
    const periods = cycle === 52 ? [52] : [seasonLength, cycle];
    candidates = {
      theta: periodThetaCandidate(cycle),
      stl: engineCandidate(`stl[${periods.join(',')}]`, createMultiSeasonalEngine({ periods })),
    };
    longCycleCandidates.set(seasonLength, candidates);
  }
  return candidates;
}

/**
 * The candidates of `cross_validated`: every automatic family, ETS, ARIMA, Theta, optimised Theta, and
 * MSTL when the series has a season (without one MSTL is Theta again); for hourly and weekly data also
 * candidates for the longer cycle (`longCycle`, which the families above do not model): Theta adjusted at
 * it, and STL with it (`long` = `theta+stl`, the default; `theta` or `none` leave them out).
 */
export function crossValidationPool(seasonLength: number, long: LongCycleCandidates = 'theta+stl'): Candidate[] {
  const pool = [etsCandidate, arimaCandidate, THETA_CANDIDATE, OPTIMIZED_THETA_CANDIDATE];
  if (seasonLength < 2) return pool;
  pool.push(MSTL_CANDIDATE);
  const cycle = longCycle(seasonLength);
  if (cycle === undefined || long === 'none') return pool;
  const { theta: thetaAtCycle, stl } = longCycleCandidatesFor(seasonLength, cycle);
  return long === 'theta' ? [...pool, thetaAtCycle] : [...pool, thetaAtCycle, stl];
}

const nonSeasonalValidated = crossValidated(crossValidationPool(1), CROSS_VALIDATION);
const seasonalValidated = crossValidated(crossValidationPool(2), CROSS_VALIDATION);
/** The engines of season lengths with a long cycle (at most three: 24, 52 and 53). */
const longCycleValidated = new Map<number, Engine>();

/** The candidates weighted by the inverse of their mean squared error at rolling origins of the series. */
const validated: Engine = (y, horizon, options) => {
  const m = options.seasonLength;
  if (m < 2) return nonSeasonalValidated(y, horizon, options);
  if (longCycle(m) === undefined) return seasonalValidated(y, horizon, options);
  let engine = longCycleValidated.get(m);
  if (engine === undefined) {
    engine = crossValidated(crossValidationPool(m), CROSS_VALIDATION);
    longCycleValidated.set(m, engine);
  }
  return engine(y, horizon, options);
};

/** The engine `auto` stands for, for every series: the cross-validated combination. */
export const AUTO_ENGINE = 'cross_validated' satisfies LocalEngineName;

export const ENGINES: Record<LocalEngineName, Engine> = {
  auto: validated,
  cross_validated: validated,
  ensemble,
  ets: autoEts,
  arima: autoArima,
  theta,
  optimized_theta: autoTheta,
  mstl: multiSeasonal,
  holt_winters_additive: holtWintersAdditive,
  holt_winters_multiplicative: holtWintersMultiplicative,
  damped: dampedTrend,
  holt,
  ses,
  drift,
  seasonal_naive: seasonalNaive,
  naive,
};

/** The engines tried in order for a request: the one asked for, then simpler ones, ending with naive. */
export function fallbackChain(engine: LocalEngineName): LocalEngineName[] {
  switch (engine) {
    case 'naive':
      return ['naive'];
    case 'seasonal_naive':
    case 'drift':
    case 'ses':
      return [engine, 'naive'];
    case 'holt':
    case 'damped':
      return [engine, 'ses', 'naive'];
    case 'holt_winters_additive':
    case 'holt_winters_multiplicative':
      return [engine, 'damped', 'ses', 'naive'];
    case 'theta':
      return ['theta', 'ses', 'naive'];
    case 'auto':
    case 'cross_validated':
    case 'ensemble':
    case 'ets':
    case 'arima':
    case 'optimized_theta':
    case 'mstl':
      return [engine, 'theta', 'ses', 'naive'];
  }
}
