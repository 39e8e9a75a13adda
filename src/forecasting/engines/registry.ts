/**
 * The local engines by their public names, and what each falls back to when a series is too short
 * for it. `auto` is `cross_validated`: the automatic families weighted by each series' own
 * rolling-origin errors (see the README's table for how it fares on the M3/M4 benchmark data).
 */
import { autoArima } from './arima';
import { drift, naive, seasonalNaive } from './baseline';
import { arimaCandidate, type Candidate, crossValidated, engineCandidate, etsCandidate } from './cross-validation';
import { combine } from './ensemble';
import { autoEts, dampedTrend, holt, holtWintersAdditive, holtWintersMultiplicative, ses } from './ets';
import { multiSeasonal } from './multiseasonal';
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

/** Rolling origins of the cross-validation (each as long as the horizon, at most a quarter of the series). */
export const CROSS_VALIDATION_ORIGINS = 2;

const THETA_CANDIDATE = engineCandidate('theta', theta);
const OPTIMIZED_THETA_CANDIDATE = engineCandidate('optimized_theta', autoTheta);
const MSTL_CANDIDATE = engineCandidate('mstl', multiSeasonal);

/**
 * The candidates of `cross_validated`: every automatic family, ETS, ARIMA, Theta, optimised Theta, and
 * MSTL when the series has a season (without one MSTL is Theta again).
 */
export function crossValidationPool(seasonLength: number): Candidate[] {
  const pool = [etsCandidate, arimaCandidate, THETA_CANDIDATE, OPTIMIZED_THETA_CANDIDATE];
  return seasonLength >= 2 ? [...pool, MSTL_CANDIDATE] : pool;
}

const seasonalValidated = crossValidated(crossValidationPool(2), { origins: CROSS_VALIDATION_ORIGINS });
const nonSeasonalValidated = crossValidated(crossValidationPool(1), { origins: CROSS_VALIDATION_ORIGINS });

/** The candidates weighted by the inverse of their mean squared error at rolling origins of the series. */
const validated: Engine = (y, horizon, options) =>
  (options.seasonLength >= 2 ? seasonalValidated : nonSeasonalValidated)(y, horizon, options);

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
