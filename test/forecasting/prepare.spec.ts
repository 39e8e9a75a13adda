import { combine } from '../../src/forecasting/engines/ensemble';
import { detectSeasonLength, givenSeasonLength, imputeMissing } from '../../src/forecasting/engines/prepare';
import { InsufficientDataError, type Engine } from '../../src/forecasting/engines/types';
import { chunkByPoints } from '../../src/forecasting/forecast-pool';

describe('series preparation', () => {
  it('interpolates interior gaps linearly and carries the ends', () => {
    expect(imputeMissing([1, null, 3])).toEqual({ values: [1, 2, 3], imputed: 1 });
    expect(imputeMissing([0, null, null, 6])).toEqual({ values: [0, 2, 4, 6], imputed: 2 });
    expect(imputeMissing([null, null, 5, null, 9, null])).toEqual({ values: [5, 5, 5, 7, 9, 9], imputed: 4 });
    expect(imputeMissing([4])).toEqual({ values: [4], imputed: 0 });
    expect(imputeMissing([null, null])).toBeUndefined();
  });

  it('takes the season from the request, then the frequency, then the data', () => {
    const cycle = Array.from({ length: 96 }, (_, t) => 10 + Math.sin((2 * Math.PI * t) / 12) + 0.01 * t);
    expect(givenSeasonLength(7, 'hourly')).toBe(7);
    expect(givenSeasonLength(undefined, 'hourly')).toBe(24);
    expect(givenSeasonLength(undefined, 'quarterly')).toBe(4);
    expect(givenSeasonLength()).toBeUndefined();
    expect(detectSeasonLength(cycle)).toBe(12);
  });

  it('detects common periods and nothing in noise-free trends or short series', () => {
    let seed = 7;
    const noise = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 8;
    const daily = Array.from(
      { length: 24 * 14 },
      (_, t) => 100 + 0.1 * t + 20 * Math.sin((2 * Math.PI * t) / 24) + noise(),
    );
    expect(detectSeasonLength(daily)).toBe(24);
    const weekly = Array.from({ length: 70 }, (_, t) => [5, 6, 7, 6, 5, 1, 1][t % 7] + t * 0.1);
    expect(detectSeasonLength(weekly)).toBe(7);
    expect(detectSeasonLength(Array.from({ length: 50 }, (_, t) => 3 * t + 1))).toBe(1);
    expect(detectSeasonLength([1, 2, 3, 4, 5])).toBe(1);
    expect(detectSeasonLength(Array(40).fill(2))).toBe(1);
  });
});

describe('combinations', () => {
  const flat =
    (level: number, sd: number): Engine =>
    (_y, horizon) => ({ mean: Array(horizon).fill(level), sd: Array(horizon).fill(sd), model: `Flat(${level})` });
  const tooShort: Engine = () => {
    throw new InsufficientDataError('needs more data');
  };

  it('averages the members that can fit, step by step', () => {
    const engine = combine([
      { name: 'a', engine: flat(10, 1) },
      { name: 'b', engine: tooShort },
      { name: 'c', engine: flat(20, 3) },
    ]);
    expect(engine([1, 2], 2, { seasonLength: 1 })).toEqual({
      mean: [15, 15],
      sd: [2, 2],
      model: 'Ensemble(Flat(10), Flat(20))',
    });
  });

  it('needs one member at least', () => {
    expect(() => combine([{ name: 'b', engine: tooShort }])([1], 1, { seasonLength: 1 })).toThrow(
      InsufficientDataError,
    );
  });
});

describe('batch chunking for the worker pool', () => {
  const task = (n: number) => ({
    values: Array(n).fill(1),
    horizon: 1,
    engine: 'naive' as const,
    seasonLength: 1,
    quantiles: [],
  });

  it('splits into contiguous chunks of similar total length, covering every task once', () => {
    const tasks = [100, 100, 100, 100, 400, 100, 100].map(task);
    const chunks = chunkByPoints(tasks, 4);
    expect(chunks.flat()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(chunks.length).toBeLessThanOrEqual(4);
    expect(chunkByPoints([task(5)], 4)).toEqual([[0]]);
    expect(chunkByPoints([], 4)).toEqual([]);
  });
});
