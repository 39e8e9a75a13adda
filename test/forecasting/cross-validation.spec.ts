import {
  arimaCandidate,
  type Candidate,
  crossValidated,
  engineCandidate,
  etsCandidate,
  validate,
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
});
