/**
 * Non-seasonal engines on the classically seasonally adjusted series, as the M4 organisers' statistical
 * benchmarks (SES, Holt, Damped and their mean, Comb): when the M4 90 % autocorrelation test finds
 * seasonality at the season length, the series is divided by the indices of a classical multiplicative
 * decomposition (additive when the data are not all positive), the engine forecasts the adjusted series
 * (season length 1) and mean and sd are re-seasonalised with the last season's indices. Without seasonality
 * the engine forecasts the series itself.
 */
import { seasonPeriod } from './baseline';
import { dampedTrend, holt, ses } from './ets';
import { reseasonalise, seasonallyAdjust } from './theta';
import type { Engine, EngineForecast } from './types';

/** `engine` on the seasonally adjusted series (see the module's description). */
export function seasonallyAdjusted(engine: Engine): Engine {
  return (y, horizon, options) => {
    const adjustment = seasonallyAdjust(Float64Array.from(y), seasonPeriod(options.seasonLength));
    const base = engine(Array.from(adjustment.adjusted), horizon, { seasonLength: 1 });
    return reseasonalise(adjustment, y.length, base.mean, base.sd, 1, base.model);
  };
}

/** The mean of the members' forecasts, means and sds, step by step (all members must fit). */
function meanOf(members: readonly Engine[], label: string): Engine {
  return (y, horizon, options) => {
    const forecasts: EngineForecast[] = members.map((member) => member(y, horizon, options));
    const mean = new Array<number>(horizon).fill(0);
    const sd = new Array<number>(horizon).fill(0);
    for (const f of forecasts) {
      for (let i = 0; i < horizon; i++) {
        mean[i] += f.mean[i] / forecasts.length;
        sd[i] += f.sd[i] / forecasts.length;
      }
    }
    return { mean, sd, model: label };
  };
}

/** SES on the seasonally adjusted series (M4's `SES` benchmark). */
export const adjustedSes: Engine = seasonallyAdjusted(ses);
/** Holt's linear trend on the seasonally adjusted series (M4's `Holt`). */
export const adjustedHolt: Engine = seasonallyAdjusted(holt);
/** The additive damped trend, ETS(A,Ad,N), on the seasonally adjusted series (M4's `Damped`). */
export const adjustedDamped: Engine = seasonallyAdjusted(dampedTrend);
/** The mean of SES, Holt and the damped trend on the seasonally adjusted series (M4's `Comb` benchmark). */
export const adjustedComb: Engine = seasonallyAdjusted(meanOf([ses, holt, dampedTrend], 'Comb(SES, Holt, Damped)'));
