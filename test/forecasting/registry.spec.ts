import { intervalScale, validate, weightedForecast, weightsOf } from '../../src/forecasting/engines/cross-validation';
import {
  AUTO_ENGINE,
  CROSS_VALIDATION,
  crossValidationPool,
  ENGINES,
  longCycle,
} from '../../src/forecasting/engines/registry';
import { runForecast } from '../../src/forecasting/engines/run';

/** A trending series with a cycle of period m and a little deterministic noise. */
function seasonal(n: number, m: number): number[] {
  let seed = 11;
  const noise = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 2;
  return Array.from({ length: n }, (_, t) => 200 + 0.3 * t + 25 * Math.sin((2 * Math.PI * t) / m) + noise());
}

describe('the auto engine', () => {
  it('is the cross-validated weighting of every automatic family, for every series', () => {
    expect(AUTO_ENGINE).toBe('cross_validated');
    expect(crossValidationPool(12).map((c) => c.name)).toEqual(['ets', 'arima', 'theta', 'optimized_theta', 'mstl']);
    // Without a season, MSTL would be Theta once more.
    expect(crossValidationPool(1).map((c) => c.name)).toEqual(['ets', 'arima', 'theta', 'optimized_theta']);
  });

  it('adds candidates for the week of hourly data and the year of weekly data', () => {
    const base = ['ets', 'arima', 'theta', 'optimized_theta', 'mstl'];
    expect(longCycle(24)).toBe(168);
    expect(longCycle(52)).toBe(52);
    expect(longCycle(12)).toBeUndefined();
    expect(crossValidationPool(24).map((c) => c.name)).toEqual([...base, 'theta[168]', 'stl[24,168]']);
    expect(crossValidationPool(52).map((c) => c.name)).toEqual([...base, 'theta[52]', 'stl[52]']);
    expect(crossValidationPool(52, 'theta').map((c) => c.name)).toEqual([...base, 'theta[52]']);
    expect(crossValidationPool(24, 'none').map((c) => c.name)).toEqual(base);
  });

  it('weights them into the forecast of a series with a weekly cycle of hours', () => {
    let seed = 5;
    const noise = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 4;
    const values = Array.from(
      { length: 24 * 7 * 5 },
      (_, t) => (Math.floor(t / 24) % 7 >= 5 ? 60 : 100) + 20 * Math.sin((2 * Math.PI * t) / 24) + noise(),
    );
    const outcome = runForecast({ values, horizon: 48, engine: 'auto', seasonLength: 24, quantiles: [] });
    expect(outcome.model).toMatch(/Theta\[M168\] \d\.\d\d/);
    expect(outcome.model).toMatch(/Decomposition\(24,168.*\d\.\d\d/);
  });

  it('scales the spread of the weighted candidates by their errors at the origins', () => {
    expect(CROSS_VALIDATION).toEqual({
      origins: 2,
      rule: 'inverse',
      calibration: { statistic: 'absolute', prior: 50 },
    });
    const values = seasonal(96, 12);
    const options = { seasonLength: 12 };
    const validation = validate(crossValidationPool(12), values, 12, options, 2);
    const weights = weightsOf(validation, 'inverse');
    const plain = weightedForecast(validation, weights, 12, 'CV');
    const scale = intervalScale(validation, weights, { statistic: 'absolute', prior: 50 });
    expect(scale).not.toBeCloseTo(1, 2);
    const auto = ENGINES.auto(values, 12, options);
    expect(auto.mean).toEqual(plain.mean);
    auto.sd.forEach((s, i) => expect(s).toBeCloseTo(plain.sd[i] * scale, 9));
  });

  it('reports the engine and the weighted models that served', () => {
    for (const [m, n, h] of [
      [24, 24 * 10, 48],
      [12, 96, 12],
      [1, 30, 6],
    ]) {
      const outcome = runForecast({
        values: seasonal(n, m),
        horizon: h,
        engine: 'auto',
        seasonLength: m,
        quantiles: [],
      });
      expect(outcome.engine).toBe('cross_validated');
      expect(outcome.predictions).toHaveLength(h);
      expect(outcome.model).toMatch(/^CV\(.*\d\.\d\d\)$/);
      const weights = [...outcome.model.matchAll(/ (\d\.\d\d)(?=, [A-Z]|\)$)/g)].map((w) => Number(w[1]));
      expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 1);
    }
  });

  it('forecasts series too short for any origin with the candidates that fit, equally weighted', () => {
    const one = runForecast({ values: [5], horizon: 3, engine: 'auto', seasonLength: 1, quantiles: [] });
    expect([one.engine, one.predictions]).toEqual(['cross_validated', [5, 5, 5]]);
    const short = runForecast({ values: [5, 6, 7, 6, 8], horizon: 3, engine: 'auto', seasonLength: 1, quantiles: [] });
    expect(short.engine).toBe('cross_validated');
    expect(short.model).toMatch(/^CV\(ETS\(.* 0\.33, ARIMA\(.* 0\.33, Theta 0\.33\)$/);
  });
});

describe('the season of a task', () => {
  it('is detected from the series when the task does not give one, and reported with the outcome', () => {
    const values = seasonal(24 * 10, 24);
    const detected = runForecast({ values, horizon: 24, engine: 'auto', quantiles: [] });
    expect(detected.seasonLength).toBe(24);
    expect(detected.model).toMatch(/Decomposition|MSTL|Validated/);
    const given = runForecast({ values, horizon: 24, engine: 'auto', seasonLength: 1, quantiles: [] });
    expect(given.seasonLength).toBe(1);
    expect(given.model).not.toMatch(/Decomposition|MSTL|Validated/);
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
