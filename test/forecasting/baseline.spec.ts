import { naive2 as naive2Mean } from '../../src/forecasting/engines/accuracy';
import { drift, naive, naive2, seasonalNaive } from '../../src/forecasting/engines/baseline';
import { classicalSeasonalIndices } from '../../src/forecasting/engines/math';
import type { Engine } from '../../src/forecasting/engines/types';
import { expectWellFormed, lcg } from './helpers';

const engines: Record<string, Engine> = { naive, seasonalNaive, naive2, drift };

function expectArrayClose(actual: readonly number[], expected: readonly number[], digits = 10): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i], digits));
}

describe('baseline engines', () => {
  it('naive repeats the last value with sd = σ√h, σ² the mean squared difference', () => {
    // Differences 1, 2, 3: σ² = (1 + 4 + 9)/3 = 14/3.
    const out = naive([1, 2, 4, 7], 3, { seasonLength: 1 });
    expect(out.mean).toEqual([7, 7, 7]);
    expectArrayClose(
      out.sd,
      [1, 2, 3].map((h) => Math.sqrt((14 / 3) * h)),
    );
    expect(out.model).toBe('Naive');
  });

  it('seasonal naive repeats the last season with sd growing once per completed season', () => {
    // m = 4, every seasonal difference is 2, so σ = 2 and sd_h = 2·√(⌊(h−1)/4⌋ + 1).
    const y = [10, 20, 30, 40, 12, 22, 32, 42, 14];
    const out = seasonalNaive(y, 9, { seasonLength: 4 });
    expect(out.mean).toEqual([22, 32, 42, 14, 22, 32, 42, 14, 22]);
    expectArrayClose(out.sd, [
      2,
      2,
      2,
      2,
      2 * Math.SQRT2,
      2 * Math.SQRT2,
      2 * Math.SQRT2,
      2 * Math.SQRT2,
      2 * Math.sqrt(3),
    ]);
    expect(out.model).toBe('SeasonalNaive[4]');
  });

  it('seasonal naive falls back to naive without a full season of history or with m = 1', () => {
    expect(seasonalNaive([1, 2, 3], 2, { seasonLength: 4 })).toEqual(naive([1, 2, 3], 2, { seasonLength: 4 }));
    expect(seasonalNaive([1, 2, 3, 5], 2, { seasonLength: 1 })).toEqual(naive([1, 2, 3, 5], 2, { seasonLength: 1 }));
  });

  it('naive2 reproduces the M4 Naive2 mean exactly and re-seasonalises its spread', () => {
    const rand = lcg(7);
    const pattern = [0.8, 0.9, 1.3, 1.0, 0.7, 1.1, 1.2, 0.95, 1.05, 0.85, 1.1, 1.05];
    const y = Array.from({ length: 60 }, (_, t) => (100 + t) * pattern[t % 12] * (1 + 0.02 * (rand() - 0.5)));
    const out = naive2(y, 24, { seasonLength: 12 });
    expect(out.model).toBe('Naive2[12]');
    expectArrayClose(out.mean, naive2Mean(y, 24, 12), 9);
    // sd_h = σ·√h·s_h, σ² the mean squared difference of the seasonally adjusted series.
    const indices = classicalSeasonalIndices(y, 12, 'multiplicative');
    const adjusted = y.map((v, t) => v / indices[t % 12]);
    let total = 0;
    for (let t = 1; t < adjusted.length; t++) total += (adjusted[t] - adjusted[t - 1]) ** 2;
    const sigma = Math.sqrt(total / (adjusted.length - 1));
    expectArrayClose(
      out.sd,
      Array.from({ length: 24 }, (_, i) => sigma * Math.sqrt(i + 1) * indices[(60 + i) % 12]),
      9,
    );
  });

  it('naive2 is the naive forecast when the series is not seasonal or not positive', () => {
    const trend = Array.from({ length: 40 }, (_, t) => 10 + t);
    expect(naive2(trend, 5, { seasonLength: 12 }).mean).toEqual(naive(trend, 5, { seasonLength: 12 }).mean);
    // A clear period-12 cycle around zero: seasonal by the test, but a multiplicative decomposition is undefined.
    const signed = Array.from({ length: 48 }, (_, t) => 10 * Math.sin((2 * Math.PI * t) / 12));
    const out = naive2(signed, 12, { seasonLength: 12 });
    expect(out.model).toBe('Naive2');
    expect(out.mean).toEqual(new Array<number>(12).fill(signed[47]));
  });

  it('drift extrapolates the mean difference with the textbook variance', () => {
    // y = 1, 3, 4, 8: b = 7/3; residuals of the differences −1/3, −4/3, 5/3 → Σ = 42/9, σ² = (42/9)/2 = 7/3;
    // sd_h = σ·√(h(1 + h/3)).
    const out = drift([1, 3, 4, 8], 4, { seasonLength: 1 });
    expectArrayClose(
      out.mean,
      [1, 2, 3, 4].map((h) => 8 + (7 / 3) * h),
    );
    expectArrayClose(
      out.sd,
      [1, 2, 3, 4].map((h) => Math.sqrt((7 / 3) * h * (1 + h / 3))),
    );
    expect(out.model).toBe('Drift');
    // Two observations: no residual degree of freedom, σ = |y2 − y1|.
    const two = drift([5, 8], 2, { seasonLength: 1 });
    expectArrayClose(two.mean, [11, 14]);
    expectArrayClose(two.sd, [3 * Math.sqrt(2), 3 * Math.sqrt(6)]);
  });

  it.each(Object.entries(engines))('%s: length 1 gives the observation with sd 0, for h = 1 and 1000', (_, engine) => {
    for (const h of [1, 1000]) {
      for (const seasonLength of [1, 12]) {
        const out = engine([42], h, { seasonLength });
        expectWellFormed(out, h);
        expect(out.mean.every((v) => v === 42)).toBe(true);
        expect(out.sd.every((v) => v === 0)).toBe(true);
      }
    }
  });

  it.each(Object.entries(engines))('%s: degenerate inputs never throw nor produce NaN/Infinity', (_, engine) => {
    const rand = lcg(3);
    const inputs: number[][] = [
      [5, 5],
      new Array<number>(30).fill(7),
      new Array<number>(30).fill(0),
      Array.from({ length: 50 }, (_, t) => -1000 - t + 10 * rand()),
      Array.from({ length: 50 }, (_, t) => 1e12 * (1 + t / 10 + rand())),
      Array.from({ length: 50 }, (_, t) => (t % 2 ? 1 : -1) * 1.7e308),
      Array.from({ length: 50 }, () => 1e-300 * (1 + rand())),
    ];
    for (const y of inputs) {
      for (const h of [1, 1000]) {
        for (const seasonLength of [1, 4, 12, 24]) expectWellFormed(engine(y, h, { seasonLength }), h);
      }
    }
  });

  it.each(Object.entries(engines))('%s: constant series forecast the constant with sd 0', (_, engine) => {
    const out = engine(new Array<number>(36).fill(3.5), 30, { seasonLength: 12 });
    expect(out.mean.every((v) => v === 3.5)).toBe(true);
    expect(out.sd.every((v) => v === 0)).toBe(true);
  });

  it.each(Object.entries(engines))('%s: scales exactly with the data and is deterministic', (_, engine) => {
    const rand = lcg(11);
    const y = Array.from({ length: 48 }, (_, t) => 50 + t + 20 * Math.sin((2 * Math.PI * t) / 12) + 5 * rand());
    const base = engine(y, 20, { seasonLength: 12 });
    const big = engine(
      y.map((v) => v * 1e12),
      20,
      { seasonLength: 12 },
    );
    base.mean.forEach((v, i) => expect(big.mean[i] / 1e12).toBeCloseTo(v, 8));
    base.sd.forEach((v, i) => expect(big.sd[i] / 1e12).toBeCloseTo(v, 8));
    expect(engine(y, 20, { seasonLength: 12 })).toEqual(base);
  });

  it.each([
    ['naive', naive],
    ['seasonalNaive', seasonalNaive],
    ['drift', drift],
  ] as const)('%s: sd is positive and non-decreasing in the horizon', (_, engine) => {
    const rand = lcg(5);
    const y = Array.from({ length: 40 }, (_, t) => t + 10 * rand());
    const out = engine(y, 1000, { seasonLength: 4 });
    expect(out.sd[0]).toBeGreaterThan(0);
    expect(out.sd.filter((v, i) => i > 0 && v < out.sd[i - 1])).toEqual([]);
  });

  it('a zero or invalid horizon gives empty forecasts', () => {
    for (const engine of Object.values(engines)) {
      expect(engine([1, 2, 3], 0, { seasonLength: 1 })).toMatchObject({ mean: [], sd: [] });
    }
  });
});
