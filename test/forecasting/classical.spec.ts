import {
  adjustedComb,
  adjustedDamped,
  adjustedHolt,
  adjustedSes,
  seasonallyAdjusted,
} from '../../src/forecasting/engines/classical';
import { dampedTrend, holt, ses } from '../../src/forecasting/engines/ets';
import type { Engine } from '../../src/forecasting/engines/types';
import { expectWellFormed, lcg } from './helpers';

/** Quarterly factors (mean 1) of a multiplicative season. */
const FACTORS = [0.8, 1.1, 1.3, 0.8];

/** A level times the quarter's factor, with a little noise. */
function seasonalLevel(n: number, level = 100): number[] {
  const random = lcg(11);
  return Array.from({ length: n }, (_, t) => level * FACTORS[t % 4] * (1 + (random() - 0.5) * 0.01));
}

/** The last value, carried forward, with sd 1: shows what the wrapped engine was given. */
const lastValue: Engine = (y, horizon) => ({
  mean: new Array<number>(horizon).fill(y[y.length - 1]),
  sd: new Array<number>(horizon).fill(1),
  model: 'Last',
});

describe('engines on the classically seasonally adjusted series (the M4 benchmarks)', () => {
  it('divide a seasonal series by its classical indices and multiply the forecast back', () => {
    const y = seasonalLevel(48);
    const out = seasonallyAdjusted(lastValue)(y, 8, { seasonLength: 4 });
    expect(out.model).toBe('Last[M4]');
    // The adjusted last value is ~100; the forecast carries each quarter's factor (the series ends in Q4).
    out.mean.forEach((v, i) => expect(v / 100).toBeCloseTo(FACTORS[i % 4], 1));
    // The sd is scaled by the same factor.
    out.sd.forEach((s, i) => expect(s / out.mean[i]).toBeCloseTo(1 / 100, 3));
  });

  it('leave a series without a season (by the M4 test) as it is', () => {
    const random = lcg(5);
    const y = Array.from({ length: 40 }, () => 50 + (random() - 0.5) * 10);
    const h = 6;
    expect(adjustedSes(y, h, { seasonLength: 4 })).toEqual(ses(y, h, { seasonLength: 1 }));
    expect(adjustedDamped(y, h, { seasonLength: 1 })).toEqual(dampedTrend(y, h, { seasonLength: 1 }));
    expect(seasonallyAdjusted(lastValue)(y, h, { seasonLength: 4 }).model).toBe('Last');
  });

  it('Holt on a seasonal series with a linear trend continues the trend and the season', () => {
    const n = 60;
    const y = Array.from({ length: n }, (_, t) => (200 + 2 * t) * FACTORS[t % 4]);
    const out = adjustedHolt(y, 8, { seasonLength: 4 });
    expectWellFormed(out, 8);
    out.mean.forEach((v, i) => {
      const t = n + i;
      expect(Math.abs(v - (200 + 2 * t) * FACTORS[t % 4]) / v).toBeLessThan(0.02);
    });
  });

  it('Comb is the step-wise mean of SES, Holt and the damped trend on the adjusted series', () => {
    const y = seasonalLevel(40).map((v, t) => v + t);
    const options = { seasonLength: 4 };
    const parts = [adjustedSes, adjustedHolt, adjustedDamped].map((engine) => engine(y, 8, options));
    const comb = adjustedComb(y, 8, options);
    expect(comb.model).toBe('Comb(SES, Holt, Damped)[M4]');
    comb.mean.forEach((v, i) => expect(v).toBeCloseTo((parts[0].mean[i] + parts[1].mean[i] + parts[2].mean[i]) / 3, 8));
    comb.sd.forEach((s, i) => expect(s).toBeCloseTo((parts[0].sd[i] + parts[1].sd[i] + parts[2].sd[i]) / 3, 8));
    // Without a season it is the mean of the plain engines.
    const plain = Array.from({ length: 30 }, (_, t) => 10 + 0.5 * t + (t % 3));
    const expected = [ses, holt, dampedTrend].map((engine) => engine(plain, 4, { seasonLength: 1 }));
    adjustedComb(plain, 4, { seasonLength: 1 }).mean.forEach((v, i) =>
      expect(v).toBeCloseTo((expected[0].mean[i] + expected[1].mean[i] + expected[2].mean[i]) / 3, 8),
    );
  });
});
