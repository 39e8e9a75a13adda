import { smape, mase, naive2 } from '../../src/forecasting/engines/accuracy';
import {
  acf,
  classicalSeasonalIndices,
  isSeasonal,
  linearTrend,
  nelderMead,
  qnorm,
} from '../../src/forecasting/engines/math';

describe('forecasting numerics', () => {
  it('qnorm matches standard normal quantiles (tables)', () => {
    expect(qnorm(0.5)).toBeCloseTo(0, 12);
    expect(qnorm(0.975)).toBeCloseTo(1.959963984540054, 7);
    expect(qnorm(0.9)).toBeCloseTo(1.2815515655446004, 7);
    expect(qnorm(0.1)).toBeCloseTo(-1.2815515655446004, 7);
    expect(qnorm(0.001)).toBeCloseTo(-3.090232306167813, 7);
    expect(qnorm(0)).toBe(-Infinity);
    expect(qnorm(1)).toBe(Infinity);
  });

  it('acf equals the hand-computed values of a short series', () => {
    // y = 1..5: mean 3, deviations -2..2, c0 = 10; lag 1: (-2·-1 + -1·0 + 0·1 + 1·2) = 4 → 0.4;
    // lag 2: (-2·0 + -1·1 + 0·2) = -1 → -0.1.
    const r = acf([1, 2, 3, 4, 5], 2);
    expect(r[0]).toBeCloseTo(0.4, 12);
    expect(r[1]).toBeCloseTo(-0.1, 12);
    expect(acf([3, 3, 3], 1)).toEqual([0]);
  });

  it('the seasonality test finds a period-12 cycle and no cycle in a trend', () => {
    const seasonal = Array.from({ length: 72 }, (_, t) => 100 + 10 * Math.sin((2 * Math.PI * t) / 12));
    expect(isSeasonal(seasonal, 12)).toBe(true);
    expect(
      isSeasonal(
        Array.from({ length: 72 }, (_, t) => t),
        12,
      ),
    ).toBe(false);
    // Too short (n < 3m) or period 1: never seasonal.
    expect(isSeasonal(seasonal.slice(0, 30), 12)).toBe(false);
    expect(isSeasonal(seasonal, 1)).toBe(false);
  });

  it('tests a long cycle beyond the lags R looks at only when asked to', () => {
    // A year of weeks in four years: lag 52 is beyond ⌊10·log10 208⌋ = 23.
    const weekly = Array.from({ length: 208 }, (_, t) => 100 + 10 * Math.sin((2 * Math.PI * t) / 52) + (t % 3));
    expect(isSeasonal(weekly, 52)).toBe(false);
    expect(isSeasonal(weekly, 52, true)).toBe(true);
    expect(
      isSeasonal(
        Array.from({ length: 208 }, (_, t) => t % 5),
        52,
        true,
      ),
    ).toBe(false);
    expect(isSeasonal(weekly.slice(0, 150), 52, true)).toBe(false);
  });

  it('classical multiplicative indices recover a known pattern, normalised to mean 1', () => {
    const pattern = [0.8, 1.0, 1.2, 1.0];
    const y = Array.from({ length: 40 }, (_, t) => 50 * pattern[t % 4]);
    const indices = classicalSeasonalIndices(y, 4);
    indices.forEach((v, i) => expect(v).toBeCloseTo(pattern[i], 10));
    const additive = classicalSeasonalIndices(
      y.map((v, t) => v - 50 * pattern[t % 4] + [-3, 0, 3, 0][t % 4] + 10),
      4,
      'additive',
    );
    additive.forEach((v, i) => expect(v).toBeCloseTo([-3, 0, 3, 0][i], 10));
  });

  it('Nelder-Mead finds the minimum of the Rosenbrock function', () => {
    const result = nelderMead(([x, y]) => (1 - x) ** 2 + 100 * (y - x * x) ** 2, [-1.2, 1], {
      maxIterations: 5000,
      tolerance: 1e-14,
    });
    expect(result.x[0]).toBeCloseTo(1, 3);
    expect(result.x[1]).toBeCloseTo(1, 3);
    // Infinite values act as a barrier: minimise (x-2)^2 subject to x < 1.
    const bounded = nelderMead(([x]) => (x < 1 ? (x - 2) ** 2 : Infinity), [0], {
      maxIterations: 500,
      tolerance: 1e-12,
    });
    expect(bounded.x[0]).toBeLessThan(1);
    expect(bounded.x[0]).toBeGreaterThan(0.99);
  });

  it('linearTrend fits a line exactly', () => {
    expect(linearTrend([5, 7, 9, 11])).toEqual({ intercept: 3, slope: 2 });
    expect(linearTrend([4])).toEqual({ intercept: 4, slope: 0 });
  });

  it('scores sMAPE, MASE and Naive2 exactly as the M4 rules define them', () => {
    // sMAPE of (100, 200) against (110, 180): 200·10/210 and 200·20/380, averaged.
    expect(smape([100, 200], [110, 180])).toBeCloseTo((2000 / 210 + 4000 / 380) / 2, 10);
    expect(smape([0], [0])).toBe(0);
    // MASE with naive scaling: in-sample mean |diff| of [1, 3, 2] = (2 + 1) / 2 = 1.5.
    expect(mase([1, 3, 2], [4, 4], [3, 5], 1)).toBeCloseTo(1 / 1.5, 12);
    // Naive2 on a non-seasonal series is the naive forecast.
    expect(naive2([1, 2, 3], 2, 1)).toEqual([3, 3]);
  });
});
