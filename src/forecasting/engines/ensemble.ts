/**
 * Forecast combinations: the members' point forecasts averaged step by step (combinations of
 * statistical methods were the best pure-statistics entries of M4). Members that cannot fit the
 * series are left out; the combination needs at least one.
 */
import { InsufficientDataError, type Engine, type EngineForecast } from './types';

export interface Member {
  readonly name: string;
  readonly engine: Engine;
}

export function combine(members: readonly Member[], label = 'Ensemble'): Engine {
  return (y, horizon, options) => {
    const fits: { name: string; forecast: EngineForecast }[] = [];
    for (const member of members) {
      try {
        const forecast = member.engine(y, horizon, options);
        if (forecast.mean.every(Number.isFinite) && forecast.sd.every(Number.isFinite))
          fits.push({ name: member.name, forecast });
      } catch (error) {
        if (!(error instanceof InsufficientDataError)) throw error;
      }
    }
    if (fits.length === 0) throw new InsufficientDataError('no member of the combination can fit this series');
    const mean = new Array<number>(horizon).fill(0);
    const sd = new Array<number>(horizon).fill(0);
    for (const { forecast } of fits) {
      for (let i = 0; i < horizon; i++) {
        mean[i] += forecast.mean[i] / fits.length;
        // Averaging the members' spreads (errors of combined members are strongly correlated).
        sd[i] += forecast.sd[i] / fits.length;
      }
    }
    return { mean, sd, model: `${label}(${fits.map((f) => f.forecast.model).join(', ')})` };
  };
}
