import { belowShare, mase, msis, seasonalNaiveScale } from '../../src/forecasting/engines/accuracy';

describe('interval and quantile scores', () => {
  // In-sample naive errors |2−1|, |4−2|, |7−4| = 1, 2, 3: scale 2.
  const train = [1, 2, 4, 7];
  const actual = [5, 10, 3];

  it('scales by the in-sample mean absolute error of the seasonal naive forecast, as MASE does', () => {
    expect(seasonalNaiveScale(train, 1)).toBe(2);
    // Lag 2: |4−1|, |7−2| = 3, 5.
    expect(seasonalNaiveScale(train, 2)).toBe(4);
    expect(mase(train, actual, [5, 8, 4], 1)).toBeCloseTo((0 + 2 + 1) / 3 / 2, 12);
  });

  it('computes MSIS as M4 defined it: width, plus 2/a times each miss, scaled', () => {
    const lower = [4, 4, 4];
    const upper = [6, 8, 6];
    // Inside: width 2. Above by 2: width 4 + 40·2. Below by 1: width 2 + 40·1. Mean 128/3, over the scale 2.
    expect(msis(train, actual, lower, upper, 1)).toBeCloseTo(128 / 3 / 2, 12);
    // An 80 % interval (a = 0.2) charges 2/0.2 = 10 per unit missed: (2 + 24 + 12)/3/2.
    expect(msis(train, actual, lower, upper, 1, 0.2)).toBeCloseTo(38 / 3 / 2, 12);
    // Every value inside: only the widths count.
    expect(msis(train, actual, [0, 0, 0], [10, 10, 10], 1)).toBeCloseTo(10 / 2, 12);
  });

  it('counts the share of values at or below a quantile forecast', () => {
    expect(belowShare(actual, [5, 9, 2])).toBeCloseTo(1 / 3, 12);
    expect(belowShare(actual, [6, 10, 3])).toBe(1);
    expect(belowShare(actual, [0, 0, 0])).toBe(0);
  });
});
