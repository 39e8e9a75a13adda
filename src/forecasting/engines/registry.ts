/**
 * The local engines by their public names, and what each falls back to when a series is too short
 * for it. `auto` is the best measured choice on the M3/M4 benchmark data (see the README's table).
 */
import { autoArima } from './arima';
import { drift, naive, seasonalNaive } from './baseline';
import { combine } from './ensemble';
import { autoEts, dampedTrend, holt, holtWintersAdditive, holtWintersMultiplicative, ses } from './ets';
import { multiSeasonal } from './multiseasonal';
import { autoTheta, theta } from './theta';
import type { Engine } from './types';

export const LOCAL_ENGINE_NAMES = [
  'auto',
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

/** From this period on, a season counts as long (hourly and weekly data). */
export const LONG_SEASON = 24;

/**
 * The engine `auto` stands for on a series: the best measured choice on the M3/M4 dev split for its
 * kind of data (README, *Forecasting*). Long seasonal periods (hourly data's 24, weekly data's 52)
 * go to MSTL, which beat every combination tried there; everything else goes to the ensemble.
 */
export function resolveAuto(values: readonly number[], seasonLength: number): Exclude<LocalEngineName, 'auto'> {
  return seasonLength >= LONG_SEASON && values.length > 2 * seasonLength ? 'mstl' : 'ensemble';
}

const auto: Engine = (y, horizon, options) => ENGINES[resolveAuto(y, options.seasonLength)](y, horizon, options);

export const ENGINES: Record<LocalEngineName, Engine> = {
  auto,
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
    case 'ensemble':
    case 'ets':
    case 'arima':
    case 'optimized_theta':
    case 'mstl':
      return [engine, 'theta', 'ses', 'naive'];
  }
}
