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
import { adjustedComb, adjustedDamped, adjustedHolt, adjustedSes } from './classical';
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
 * How `cross_validated` combined its candidates before the rule per season length (`AUTO_RULES`), and still
 * does for season lengths without a rule of their own: 2 rolling origins (each as long as the horizon, at most
 * a quarter of the series), weights ∝ 1/MSE, and the sds scaled by the mean absolute standardised error at the
 * origins with 50 pseudo-observations of factor 1.
 */
export const CROSS_VALIDATION: CrossValidationOptions = {
  origins: 2,
  rule: 'inverse',
  calibration: { statistic: 'absolute', prior: 50 },
};

/** A rule of `auto`: how the candidates are weighted, and which join or leave `crossValidationPool`'s. */
export interface AutoRule extends CrossValidationOptions {
  /** Candidates of `ADJUSTED_CANDIDATES` added to the pool, by name. */
  readonly add: readonly string[];
  /** Candidates of the pool left out, by name. */
  readonly drop: readonly string[];
}

/**
 * `auto`'s rule per season length, chosen on a validation set made of the training parts of the M3/M4 dev
 * split only (`npm run bench:forecast:validate`, see the README): two windows, the last h values of each
 * training part and the h before them, forecast from what precedes them. The point forecast is the variant
 * (candidate sets, 1-4 origins, MSE/MAE/sMAPE, weightings) with the lowest mean of ½·(sMAPE/sMAPE₀ +
 * MASE/MASE₀) over all the groups and windows (₀ the previous rule), within 1.25 times the previous rule's
 * fitting time: 1/MSE weights over 3 origins, the same for every season length. The interval calibration is
 * chosen per season length, with that point forecast: the lowest mean of ½·(MSIS95/MSIS95₀ + MSIS80/MSIS80₀)
 * over its groups (₀ uncalibrated). Season lengths not listed follow `DEFAULT_AUTO_RULE`.
 */
const POINT_RULE = { origins: 3, rule: 'inverse', metric: 'mse', add: [], drop: [] } as const;
export const AUTO_RULES: ReadonlyMap<number, AutoRule> = new Map<number, AutoRule>([
  // Yearly (and the M3 "other" series): few origins, so the factor leans on a wider center.
  [1, { ...POINT_RULE, calibration: { statistic: 'absolute', prior: 10, center: 1.8 } }],
  [4, { ...POINT_RULE, calibration: { statistic: 'absolute', prior: 100, center: 1.4 } }],
  [12, { ...POINT_RULE, calibration: { statistic: 'absolute', prior: 100, center: 1.1 } }],
  [24, { ...POINT_RULE, calibration: { statistic: 'rms', prior: 5, center: 1.6 } }],
  [52, { ...POINT_RULE, calibration: { statistic: 'absolute', prior: 50, center: 1 } }],
]);

/** The rule for the other season lengths: the same point forecast, the calibration best over all the groups. */
export const DEFAULT_AUTO_RULE: AutoRule = {
  ...POINT_RULE,
  calibration: { statistic: 'absolute', prior: 20, center: 1.4 },
};

/** The rule of a season length (53, a year of weeks too, as 52). */
export function autoRuleFor(seasonLength: number): AutoRule {
  const m = frequencyFromSeasonLength(seasonLength) === 'weekly' ? 52 : seasonLength;
  return AUTO_RULES.get(m) ?? DEFAULT_AUTO_RULE;
}

const THETA_CANDIDATE = engineCandidate('theta', theta);
const OPTIMIZED_THETA_CANDIDATE = engineCandidate('optimized_theta', autoTheta);
const MSTL_CANDIDATE = engineCandidate('mstl', multiSeasonal);

/**
 * The M4 benchmarks as candidates: SES, Holt, the damped trend and their mean (Comb), each on the series
 * seasonally adjusted by classical decomposition when the M4 test finds a season.
 */
export const ADJUSTED_CANDIDATES: readonly Candidate[] = [
  engineCandidate('ses_sa', adjustedSes),
  engineCandidate('holt_sa', adjustedHolt),
  engineCandidate('damped_sa', adjustedDamped),
  engineCandidate('comb_sa', adjustedComb),
];

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

/** The candidates of a rule for a season length: `crossValidationPool`'s, less `drop`, plus `add`. */
export function autoPool(seasonLength: number, rule: AutoRule = autoRuleFor(seasonLength)): Candidate[] {
  const unknown = rule.add.filter((name) => !ADJUSTED_CANDIDATES.some((c) => c.name === name));
  if (unknown.length > 0) throw new RangeError(`unknown candidates: ${unknown.join(', ')}`);
  return [
    ...crossValidationPool(seasonLength).filter((c) => !rule.drop.includes(c.name)),
    ...ADJUSTED_CANDIDATES.filter((c) => rule.add.includes(c.name)),
  ];
}

/** The engines of the season lengths met so far (the pool depends on the season length). */
const validatedEngines = new Map<number, Engine>();

/** The candidates weighted (or selected) by their errors at rolling origins of the series, by `autoRuleFor`. */
const validated: Engine = (y, horizon, options) => {
  const m = options.seasonLength;
  let engine = validatedEngines.get(m);
  if (engine === undefined) {
    engine = crossValidated(autoPool(m), autoRuleFor(m));
    // Season lengths come from requests: keep the common ones only.
    if (validatedEngines.size < 64) validatedEngines.set(m, engine);
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
