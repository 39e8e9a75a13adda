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

/** ETS, ARIMA and Theta averaged (a combination of the three automatic families). */
const ensemble = combine(
  [
    { name: 'ets', engine: autoEts },
    { name: 'arima', engine: autoArima },
    { name: 'theta', engine: autoTheta },
  ],
  'Ensemble',
);

/** The engine `auto` stands for on a series: the best measured choice for its kind of data. */
export function resolveAuto(_values: readonly number[], _seasonLength: number): Exclude<LocalEngineName, 'auto'> {
  return 'ensemble';
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
