import {
  arimaCandidate,
  type Candidate,
  crossValidated,
  engineCandidate,
  etsCandidate,
  foldError,
  intervalScale,
  measuredBy,
  periodThetaCandidate,
  restrictValidation,
  validate,
  type Validation,
  weightsOf,
} from '../../src/forecasting/engines/cross-validation';
import { autoArima } from '../../src/forecasting/engines/arima';
import { autoEts } from '../../src/forecasting/engines/ets';
import { InsufficientDataError, type Engine } from '../../src/forecasting/engines/types';
import { expectWellFormed, lcg } from './helpers';

/** The last value, carried forward. */
const lastValue: Engine = (y, horizon) => ({
  mean: new Array<number>(horizon).fill(y[y.length - 1]),
  sd: new Array<number>(horizon).fill(1),
  model: 'Last',
});

/** The mean of the whole past. */
const pastMean: Engine = (y, horizon) => ({
  mean: new Array<number>(horizon).fill(y.reduce((s, v) => s + v, 0) / y.length),
  sd: new Array<number>(horizon).fill(3),
  model: 'Mean',
});

/** Always `value`, whatever the series. */
const constant =
  (value: number, sd = 1): Engine =>
  (_y, horizon) => ({
    mean: new Array<number>(horizon).fill(value),
    sd: new Array<number>(horizon).fill(sd),
    model: `Const${value}`,
  });

const candidates: Candidate[] = [engineCandidate('last', lastValue), engineCandidate('mean', pastMean)];

/** A random walk: tomorrow is today plus noise, so the last value beats the mean of the past. */
function randomWalk(n: number): number[] {
  const random = lcg(7);
  const y = [100];
  for (let t = 1; t < n; t++) y.push(y[t - 1] + (random() - 0.5) * 10);
  return y;
}

/** Noise around a fixed level: the mean of the past beats the last value. */
function noise(n: number): number[] {
  const random = lcg(3);
  return Array.from({ length: n }, () => 100 + (random() - 0.5) * 40);
}

describe('selection and weighting by rolling-origin cross-validation', () => {
  it("picks the engine that forecast better on the series' own past", () => {
    const select = crossValidated(candidates, { rule: 'select' });
    const walk = randomWalk(60);
    expect(select(walk, 6, { seasonLength: 1 })).toMatchObject({
      mean: lastValue(walk, 6, { seasonLength: 1 }).mean,
      model: 'CV(Last 1.00)',
    });
    const level = noise(60);
    expect(select(level, 6, { seasonLength: 1 })).toMatchObject({
      mean: pastMean(level, 6, { seasonLength: 1 }).mean,
      model: 'CV(Mean 1.00)',
    });
  });

  it('weights by the inverse mean squared error over the origins', () => {
    // Every origin of a constant series at 10: the candidate at 9 misses by 1 (squared 1), the one at 12 by 2 (4).
    const pool = [engineCandidate('low', constant(9, 1)), engineCandidate('high', constant(12, 4))];
    const y = new Array<number>(40).fill(10);
    const validation = validate(pool, y, 5, { seasonLength: 1 }, 2);
    expect(validation).toMatchObject({ names: ['low', 'high'], errors: [1, 4], origins: 2 });
    expect(weightsOf(validation, 'inverse')).toEqual([0.8, 0.2]);
    expect(weightsOf(validation, 'select')).toEqual([1, 0]);
    const out = crossValidated(pool)(y, 5, { seasonLength: 1 });
    // 9·0.8 + 12·0.2 = 9.6; the spreads are weighted alike: 1·0.8 + 4·0.2 = 1.6.
    out.mean.forEach((v) => expect(v).toBeCloseTo(9.6, 12));
    out.sd.forEach((v) => expect(v).toBeCloseTo(1.6, 12));
    expect(out.model).toBe('CV(Const9 0.80, Const12 0.20)');
    // The mean over origins: misses of 1 then 3 (squared 1, 9) average 5 against the other's 4.
    const drifting: Engine = (yy, horizon) => constant(yy.length === 35 ? 9 : 13)(yy, horizon, { seasonLength: 1 });
    const mixed = validate([engineCandidate('drifting', drifting), pool[1]], y, 5, { seasonLength: 1 }, 2);
    expect(mixed.errors).toEqual([5, 4]);
  });

  it('weights by the inverse mean absolute error or sMAPE when asked', () => {
    expect(foldError([10, 10], [9, 12], 'mse')).toBe(2.5);
    expect(foldError([10, 10], [9, 12], 'mae')).toBe(1.5);
    expect(foldError([10, 0], [9, 0], 'smape')).toBeCloseTo(200 / 19 / 2, 12);
    expect(foldError([10], [Infinity], 'mae')).toBe(Infinity);
    const pool = [engineCandidate('low', constant(9, 1)), engineCandidate('high', constant(12, 4))];
    const y = new Array<number>(40).fill(10);
    const validation = validate(pool, y, 5, { seasonLength: 1 }, 2);
    expect(measuredBy(validation, 'mse')).toBe(validation);
    // Misses of 1 and 2: MAE weights 2/3 and 1/3.
    const mae = measuredBy(validation, 'mae');
    expect(mae.errors).toEqual([1, 2]);
    expect(weightsOf(mae, 'inverse')).toEqual([2 / 3, 1 / 3]);
    // sMAPE 200/19 and 400/22: weights ∝ 19/200 and 22/400.
    const smape = measuredBy(validation, 'smape');
    smape.errors.forEach((e, k) => expect(e).toBeCloseTo([200 / 19, 400 / 22][k], 12));
    const [low] = weightsOf(smape, 'inverse');
    expect(low).toBeCloseTo(0.095 / (0.095 + 0.055), 12);
    // The engine measures as told: 9·2/3 + 12/3 = 10.
    crossValidated(pool, { metric: 'mae' })(y, 5, { seasonLength: 1 }).mean.forEach((v) =>
      expect(v).toBeCloseTo(10, 12),
    );
    // The folds' errors follow the measure too (and select the same candidate here).
    expect(mae.folds.map((f) => f.errors)).toEqual([
      [1, 2],
      [1, 2],
    ]);
    expect(weightsOf(smape, 'select')).toEqual([1, 0]);
  });

  it('refits each candidate only on the data before each origin, a horizon apart', () => {
    const seen: number[][] = [];
    const spy: Engine = (y, horizon) => {
      seen.push([y.length, horizon]);
      return lastValue(y, horizon, { seasonLength: 1 });
    };
    validate([engineCandidate('spy', spy)], randomWalk(50), 8, { seasonLength: 1 }, 3);
    expect(seen).toEqual([
      [50, 8],
      [42, 8],
      [34, 8],
      [26, 8],
    ]);
    // A short series: the validation length is at most a quarter of it, and no origin leaves under 10 points.
    seen.length = 0;
    validate([engineCandidate('spy', spy)], randomWalk(20), 8, { seasonLength: 1 }, 3);
    expect(seen).toEqual([
      [20, 8],
      [15, 5],
      [10, 5],
    ]);
  });

  it('rules out a candidate that cannot forecast from an origin; equal weights when no origin can be used', () => {
    const picky: Engine = (y, horizon) => {
      if (y.length < 40) throw new InsufficientDataError('too short');
      return constant(10)(y, horizon, { seasonLength: 1 });
    };
    const pool = [engineCandidate('picky', picky), engineCandidate('low', constant(9))];
    const y = new Array<number>(40).fill(10);
    const validation = validate(pool, y, 5, { seasonLength: 1 }, 2);
    expect(validation.errors).toEqual([Infinity, 1]);
    expect(weightsOf(validation, 'inverse')).toEqual([0, 1]);
    expect(weightsOf(validation, 'select')).toEqual([0, 1]);
    const short = validate(pool.slice(1), [1, 2, 3, 4, 5, 6], 5, { seasonLength: 1 }, 2);
    expect(short.origins).toBe(0);
    expect(weightsOf(validate(candidates, [1, 2, 3, 4, 5, 6], 5, { seasonLength: 1 }, 2), 'inverse')).toEqual([
      0.5, 0.5,
    ]);
    expect(() => crossValidated([engineCandidate('picky', picky)])([1, 2], 3, { seasonLength: 1 })).toThrow(
      InsufficientDataError,
    );
  });

  it('keeps the model ETS and ARIMA selected on the whole series when refitting them at an origin', () => {
    const random = lcg(5);
    const y = Array.from({ length: 96 }, (_, t) => 200 + t + 30 * Math.sin((2 * Math.PI * t) / 12) + random() * 4);
    const options = { seasonLength: 12 };
    // On the first 40 values alone the searches would choose other models.
    const prefix = y.slice(0, 40);
    const ets = etsCandidate.fit(y, 12, options);
    expectWellFormed(ets.forecast, 12);
    expect(autoEts(prefix, 12, options).model).not.toBe(ets.forecast.model);
    expect(ets.refit(prefix, 12).model).toBe(ets.forecast.model);
    const arima = arimaCandidate.fit(y, 12, options);
    expectWellFormed(arima.forecast, 12);
    expect(autoArima(prefix, 12, options).model).not.toBe(arima.forecast.model);
    expect(arima.refit(prefix, 12).model).toBe(arima.forecast.model);
    // Their forecasts are those of the engines.
    expect(ets.forecast).toEqual(autoEts(y, 12, options));
    expect(arima.forecast).toEqual(autoArima(y, 12, options));
  });

  it('weights equally, shrinks 1/MSE weights toward equal ones, and leaves out the worst candidates', () => {
    const errors = (e: number[], origins = 2): Validation => ({
      names: e.map((_, k) => `c${k}`),
      forecasts: [],
      errors: e,
      origins,
      folds: [],
    });
    // 1/MSE of errors 1, 2, 4: 4/7, 2/7, 1/7.
    const v = errors([1, 2, 4]);
    expect(weightsOf(v, { rule: 'equal' })).toEqual([1 / 3, 1 / 3, 1 / 3]);
    const shrunk = weightsOf(v, { rule: 'inverse', shrinkage: 0.5 });
    [0.5 * (4 / 7) + 1 / 6, 0.5 * (2 / 7) + 1 / 6, 0.5 * (1 / 7) + 1 / 6].forEach((w, k) =>
      expect(shrunk[k]).toBeCloseTo(w, 12),
    );
    expect(weightsOf(v, { trim: 1 })).toEqual([2 / 3, 1 / 3, 0]);
    expect(weightsOf(v, { rule: 'equal', trim: 1 })).toEqual([0.5, 0.5, 0]);
    // At least two are kept, a ruled-out candidate is already out, and ties drop the later one.
    expect(weightsOf(v, { rule: 'equal', trim: 5 })).toEqual([0.5, 0.5, 0]);
    expect(weightsOf(errors([1, Infinity, 4]), { rule: 'equal', trim: 1 })).toEqual([0.5, 0, 0.5]);
    expect(weightsOf(errors([2, 2, 2]), { rule: 'equal', trim: 1 })).toEqual([0.5, 0.5, 0]);
    // Shrinkage only among the candidates kept; equal weights for all without origins.
    expect(weightsOf(errors([1, Infinity]), { shrinkage: 0.5 })).toEqual([1, 0]);
    expect(weightsOf(errors([1, 2, 4], 0), { trim: 1, shrinkage: 0.5 })).toEqual([1 / 3, 1 / 3, 1 / 3]);
  });

  it('derives the validation of fewer candidates and origins from a larger one, as if made alone', () => {
    const picky: Engine = (y, horizon) => {
      if (y.length < 40) throw new InsufficientDataError('too short');
      return lastValue(y, horizon, { seasonLength: 1 });
    };
    const pool = [
      engineCandidate('mean', pastMean),
      engineCandidate('picky', picky),
      engineCandidate('last', lastValue),
      engineCandidate('low', constant(90)),
    ];
    const y = randomWalk(48);
    const full = validate(pool, y, 4, { seasonLength: 1 }, 3);
    expect(full.origins).toBe(3);
    for (const [keep, origins] of [
      [[0, 1, 2, 3], 3],
      [[0, 2], 2],
      [[1], 3],
      [[3, 1], 1],
    ] as const) {
      const alone = validate(
        keep.map((k) => pool[k]),
        y,
        4,
        { seasonLength: 1 },
        origins,
      );
      expect(restrictValidation(full, keep, origins)).toEqual(alone);
    }
    // 'picky' cannot forecast from the third origin (36 values before it): alone, that origin is not used.
    expect(restrictValidation(full, [1], 3).origins).toBe(2);
  });

  it('calibrates the intervals on the standardised errors of the combination at the origins', () => {
    // One candidate at 9 with sd 1 on a constant series at 10: every error is 1 sd.
    const y = new Array<number>(40).fill(10);
    const pool = [engineCandidate('low', constant(9, 1))];
    const v = validate(pool, y, 5, { seasonLength: 1 }, 2);
    expect(intervalScale(v, [1], { statistic: 'rms', prior: 0 })).toBeCloseTo(1, 12);
    expect(intervalScale(v, [1], { statistic: 'absolute', prior: 0 })).toBeCloseTo(Math.sqrt(Math.PI / 2), 12);
    // Errors of 3 sds: the rms factor is 3; with κ = 10 pseudo-observations against the 10 steps, √((90 + 10)/20).
    const far = validate([engineCandidate('far', constant(7, 1))], y, 5, { seasonLength: 1 }, 2);
    expect(intervalScale(far, [1], { statistic: 'rms', prior: 0 })).toBeCloseTo(3, 12);
    expect(intervalScale(far, [1], { statistic: 'rms', prior: 10 })).toBeCloseTo(Math.sqrt(5), 12);
    expect(intervalScale(far, [1], { statistic: 'absolute', prior: 10 })).toBeCloseTo(
      (10 * 3 * Math.sqrt(Math.PI / 2) + 10) / 20,
      12,
    );
    // The combination's error and sd: at 9·0.5 + 12·0.5 = 10.5 with sd (1 + 4)/2 = 2.5, z = 0.2.
    const pair = validate(
      [engineCandidate('low', constant(9, 1)), engineCandidate('high', constant(12, 4))],
      y,
      5,
      { seasonLength: 1 },
      2,
    );
    expect(intervalScale(pair, [0.5, 0.5], { statistic: 'rms', prior: 0 })).toBeCloseTo(0.25, 12);
    // Bounded to [1/4, 4]; 1 when nothing can be measured (no origin, or only zero sds).
    expect(intervalScale(pair, [0.5, 0.5], { statistic: 'absolute', prior: 0 })).toBeCloseTo(
      0.2 * Math.sqrt(Math.PI / 2),
      12,
    );
    expect(
      intervalScale(validate([engineCandidate('x', constant(-100, 1))], y, 5, { seasonLength: 1 }, 2), [1], {
        statistic: 'rms',
        prior: 0,
      }),
    ).toBe(4);
    expect(
      intervalScale(validate(pool, [1, 2, 3], 5, { seasonLength: 1 }, 2), [1], { statistic: 'rms', prior: 0 }),
    ).toBe(1);
    const sure = validate([engineCandidate('sure', constant(9, 0))], y, 5, { seasonLength: 1 }, 2);
    expect(intervalScale(sure, [1], { statistic: 'rms', prior: 0 })).toBe(1);
    // The engine scales the sds by it and leaves the means alone.
    const calibrated = crossValidated([engineCandidate('far', constant(7, 1))], {
      calibration: { statistic: 'rms', prior: 10 },
    })(y, 5, { seasonLength: 1 });
    expect(calibrated.mean).toEqual([7, 7, 7, 7, 7]);
    calibrated.sd.forEach((s) => expect(s).toBeCloseTo(Math.sqrt(5), 12));
  });

  it('pulls the interval factor toward a given center instead of 1 when asked', () => {
    const y = new Array<number>(40).fill(10);
    // Errors of 3 sds at 10 steps, κ = 10 pseudo-observations of factor 2: √((90 + 10·4)/20).
    const far = validate([engineCandidate('far', constant(7, 1))], y, 5, { seasonLength: 1 }, 2);
    expect(intervalScale(far, [1], { statistic: 'rms', prior: 10, center: 2 })).toBeCloseTo(Math.sqrt(6.5), 12);
    expect(intervalScale(far, [1], { statistic: 'absolute', prior: 10, center: 1.5 })).toBeCloseTo(
      (10 * 3 * Math.sqrt(Math.PI / 2) + 15) / 20,
      12,
    );
    // Center 1 is the factor without it.
    expect(intervalScale(far, [1], { statistic: 'rms', prior: 10, center: 1 })).toBe(
      intervalScale(far, [1], { statistic: 'rms', prior: 10 }),
    );
    // A series too short for any origin gets the center itself (within the bounds).
    const short = validate([engineCandidate('low', constant(9, 1))], [1, 2, 3], 5, { seasonLength: 1 }, 2);
    expect(intervalScale(short, [1], { statistic: 'absolute', prior: 5, center: 1.4 })).toBeCloseTo(1.4, 12);
    expect(intervalScale(short, [1], { statistic: 'absolute', prior: 5, center: 9 })).toBe(4);
    const wide = crossValidated([engineCandidate('low', constant(9, 2))], {
      calibration: { statistic: 'absolute', prior: 5, center: 1.4 },
    })([1, 2, 3], 4, { seasonLength: 1 });
    wide.sd.forEach((s) => expect(s).toBeCloseTo(2.8, 12));
  });

  it('adds Theta at a long cycle only when the series shows that cycle, and keeps the adjustment at the origins', () => {
    const random = lcg(13);
    const week = (t: number): number => (Math.floor((t % 168) / 24) >= 5 ? 0.6 : 1.1);
    const y = Array.from({ length: 168 * 4 }, (_, t) => 100 * week(t) * (1 + 0.02 * (random() - 0.5)));
    const candidate = periodThetaCandidate(168);
    expect(candidate.name).toBe('theta[168]');
    const fit = candidate.fit(y, 48, { seasonLength: 24 });
    expect(fit.forecast.model).toBe('Theta[M168]');
    // 400 values: fewer than three cycles for the test, but the refit keeps the adjustment.
    expect(fit.refit(y.slice(0, 400), 48).model).toBe('Theta[M168]');
    const flat = Array.from({ length: 168 * 4 }, () => 100 + random());
    expect(() => candidate.fit(flat, 48, { seasonLength: 24 })).toThrow(InsufficientDataError);
  });
});
