import { intervalScale, validate, weightedForecast, weightsOf } from '../../src/forecasting/engines/cross-validation';
import {
  AUTO_ENGINE,
  AUTO_RULES,
  autoPool,
  autoRuleFor,
  CROSS_VALIDATION,
  crossValidationPool,
  DEFAULT_AUTO_RULE,
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

  it('follows the rule chosen for the season length: 3 origins, 1/MSE, the calibration of its kind', () => {
    const base = ['ets', 'arima', 'theta', 'optimized_theta'];
    expect(autoPool(1).map((c) => c.name)).toEqual(base);
    expect(autoPool(12).map((c) => c.name)).toEqual([...base, 'mstl']);
    expect(autoPool(52).map((c) => c.name)).toEqual([...base, 'mstl', 'theta[52]', 'stl[52]']);
    for (const m of [1, 4, 12, 24, 52, 7]) {
      expect(autoRuleFor(m)).toMatchObject({ origins: 3, rule: 'inverse', metric: 'mse' });
    }
    expect(autoRuleFor(1).calibration).toEqual({ statistic: 'absolute', prior: 10, center: 1.8 });
    // A year of 53 weeks as one of 52; season lengths without a rule of their own (daily) the common one.
    expect(autoRuleFor(53)).toBe(AUTO_RULES.get(52));
    expect(autoRuleFor(7)).toBe(DEFAULT_AUTO_RULE);
    // The M4 benchmarks can join the pool by name, other candidates can leave it.
    const rule = { ...DEFAULT_AUTO_RULE, add: ['comb_sa', 'damped_sa'], drop: ['arima'] };
    expect(autoPool(4, rule).map((c) => c.name)).toEqual([
      'ets',
      'theta',
      'optimized_theta',
      'mstl',
      'damped_sa',
      'comb_sa',
    ]);
    expect(() => autoPool(4, { ...DEFAULT_AUTO_RULE, add: ['nope'] })).toThrow(RangeError);
  });

  it('forecasts from the training part alone: the values after it change nothing', () => {
    for (const [m, n, h] of [
      [1, 40, 6],
      [4, 48, 8],
      [12, 96, 18],
    ]) {
      const series = seasonal(n + h, m);
      const train = series.slice(0, n);
      const other = [...train, ...series.slice(n).map((v) => v * 3)];
      const task = (values: number[]) =>
        runForecast({ values: values.slice(0, n), horizon: h, engine: 'auto', seasonLength: m, quantiles: [0.1, 0.9] });
      expect(task(other)).toEqual(task(series));
      // While the last values of the training part do change it (they are the most recent origin's).
      const changed = [...train.slice(0, n - 1), train[n - 1] * 1.5];
      expect(task(changed).predictions).not.toEqual(task(series).predictions);
    }
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
    const validation = validate(autoPool(12), values, 12, options, 3);
    expect(validation.origins).toBe(3);
    const weights = weightsOf(validation, 'inverse');
    const plain = weightedForecast(validation, weights, 12, 'CV');
    expect(autoRuleFor(12).calibration).toEqual({ statistic: 'absolute', prior: 100, center: 1.1 });
    const scale = intervalScale(validation, weights, { statistic: 'absolute', prior: 100, center: 1.1 });
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
    // A model with the daily season: seasonal ETS, a decomposition, or one adjusted or differenced at 24.
    const daily = /ETS\(\w,\w+,[AM]\)|Decomposition|24\]/;
    expect(detected.model).toMatch(daily);
    const given = runForecast({ values, horizon: 24, engine: 'auto', seasonLength: 1, quantiles: [] });
    expect(given.seasonLength).toBe(1);
    expect(given.model).not.toMatch(daily);
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
