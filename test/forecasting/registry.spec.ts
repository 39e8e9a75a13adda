import { ENGINES, LONG_SEASON, resolveAuto } from '../../src/forecasting/engines/registry';
import { runForecast } from '../../src/forecasting/engines/run';

/** A trending series with a cycle of period m and a little deterministic noise. */
function seasonal(n: number, m: number): number[] {
  let seed = 11;
  const noise = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 2;
  return Array.from({ length: n }, (_, t) => 200 + 0.3 * t + 25 * Math.sin((2 * Math.PI * t) / m) + noise());
}

describe('the auto engine', () => {
  it('sends long seasons with enough history to MSTL and everything else to the ensemble', () => {
    expect(LONG_SEASON).toBe(24);
    expect(resolveAuto(seasonal(24 * 10, 24), 24)).toBe('mstl');
    expect(resolveAuto(seasonal(52 * 3, 52), 52)).toBe('mstl');
    // Two cycles or less of a long season: not enough for a decomposition.
    expect(resolveAuto(seasonal(48, 24), 24)).toBe('ensemble');
    expect(resolveAuto(seasonal(120, 12), 12)).toBe('ensemble');
    expect(resolveAuto(seasonal(30, 1), 1)).toBe('ensemble');
  });

  it('reports the engine and model that served', () => {
    const hourly = runForecast({
      values: seasonal(24 * 10, 24),
      horizon: 48,
      engine: 'auto',
      seasonLength: 24,
      quantiles: [],
    });
    expect(hourly.engine).toBe('mstl');
    expect(hourly.predictions).toHaveLength(48);
    const monthly = runForecast({
      values: seasonal(96, 12),
      horizon: 12,
      engine: 'auto',
      seasonLength: 12,
      quantiles: [],
    });
    expect(monthly.engine).toBe('ensemble');
  });
});

describe('the season of a task', () => {
  it('is detected from the series when the task does not give one, and reported with the outcome', () => {
    const values = seasonal(24 * 10, 24);
    const detected = runForecast({ values, horizon: 24, engine: 'auto', quantiles: [] });
    expect(detected.seasonLength).toBe(24);
    expect(detected.engine).toBe('mstl');
    const given = runForecast({ values, horizon: 24, engine: 'auto', seasonLength: 1, quantiles: [] });
    expect(given.seasonLength).toBe(1);
    expect(given.engine).not.toBe('mstl');
  });
});

describe('the ensemble', () => {
  it('combines ETS, ARIMA, Theta and MSTL on seasonal series, ETS, ARIMA and optimised Theta otherwise', () => {
    const withSeason = ENGINES.ensemble(seasonal(96, 12), 6, { seasonLength: 12 });
    const members = /^Ensemble\((.*)\)$/.exec(withSeason.model)?.[1] ?? '';
    expect(members.split(/, (?=[A-Z])/)).toHaveLength(4);
    expect(members).toMatch(/ETS\(/);
    expect(members).toMatch(/ARIMA\(/);
    const plain = ENGINES.ensemble(seasonal(40, 1), 6, { seasonLength: 1 });
    expect(/^Ensemble\((.*)\)$/.exec(plain.model)?.[1].split(/, (?=[A-Z])/)).toHaveLength(3);
  });

  it('is the step-wise mean of its members', () => {
    const y = seasonal(96, 12);
    const combined = ENGINES.ensemble(y, 6, { seasonLength: 12 });
    const parts = [ENGINES.ets, ENGINES.arima, ENGINES.theta, ENGINES.mstl].map(
      (e) => e(y, 6, { seasonLength: 12 }).mean,
    );
    for (let h = 0; h < 6; h++) {
      expect(combined.mean[h]).toBeCloseTo(parts.reduce((s, p) => s + p[h], 0) / parts.length, 9);
    }
  });
});
