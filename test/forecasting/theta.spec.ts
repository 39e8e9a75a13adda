import { linearTrend } from '../../src/forecasting/engines/math';
import {
  autoTheta,
  dynamicOptimizedTheta,
  dynamicStandardThetaModel,
  fitTheta,
  optimizedTheta,
  periodTheta,
  standardThetaModel,
  theta,
} from '../../src/forecasting/engines/theta';
import { InsufficientDataError, type Engine } from '../../src/forecasting/engines/types';
import { expectWellFormed, lcg } from './helpers';

const engines: Record<string, Engine> = {
  theta,
  optimizedTheta,
  dynamicOptimizedTheta,
  autoTheta,
  standardThetaModel,
  dynamicStandardThetaModel,
};

/** A trending series with noise, rounded to 2 decimals (generated once with lcg(1)). */
const TRENDING = [
  17, 18.59, 23.13, 22.15, 23.4, 22.31, 22.08, 26.67, 27.48, 29.81, 27.3, 28.92, 31.59, 27.61, 28.52, 32.18, 33.83,
  30.65, 33.7, 32.6, 35.5, 37.92, 38.13, 40.98,
];

/**
 * R's thetaf written out directly from its definition, with the SES fit found by exhaustive search: for each α on a
 * 1e-5 grid over [1e-4, 0.9999] the initial level minimising the SSE is the least-squares solution (errors are
 * linear in it), and the α with the smallest SSE wins.
 */
function thetafByExhaustiveSearch(y: readonly number[], h: number): { mean: number[]; sd: number[] } {
  const n = y.length;
  const run = (alpha: number, level0: number): { sse: number; level: number } => {
    let level = level0;
    let sse = 0;
    for (const v of y) {
      const e = v - level;
      sse += e * e;
      level += alpha * e;
    }
    return { sse, level };
  };
  let best = { alpha: 0, level0: 0, sse: Infinity };
  for (let alpha = 1e-4; alpha <= 0.9999 + 1e-12; alpha += 1e-5) {
    // e_t(l0) = e_t(0) − (1 − α)^{t−1}·l0.
    let level = 0;
    let c = 1;
    let scu = 0;
    let scc = 0;
    for (const v of y) {
      const e = v - level;
      scu += c * e;
      scc += c * c;
      level += alpha * e;
      c *= 1 - alpha;
    }
    const level0 = scu / scc;
    const { sse } = run(alpha, level0);
    if (sse < best.sse) best = { alpha, level0, sse };
  }
  const { level } = run(best.alpha, best.level0);
  const b = linearTrend(y).slope;
  const a = best.alpha;
  const sigma = Math.sqrt(best.sse / (n - 2));
  return {
    mean: Array.from({ length: h }, (_, i) => level + (b / 2) * (i + (1 - (1 - a) ** n) / a)),
    sd: Array.from({ length: h }, (_, i) => sigma * Math.sqrt(1 + i * a * a)),
  };
}

describe('theta engines', () => {
  it('theta on a straight line: SES with drift at half the slope (Hyndman & Billah 2003)', () => {
    // y = 2t + 5, t = 1..20. The SES SSE decreases in α (the steady-state error on a line is b/α), so α sits at
    // R's upper bound 0.9999, ℓ_n = y_n − b(1 − α)/α, and ŷ_{n+h} = ℓ_n + (b/2)(h − 1 + 1/α)
    // = 45 + (h − 1) + 0.9998/0.9999. All errors but the first (absorbed by ℓ_0) are b/α, so
    // σ² = 19·(2/0.9999)²/18 and sd_h = σ·√(1 + (h − 1)·α²).
    const y = Array.from({ length: 20 }, (_, i) => 2 * (i + 1) + 5);
    const out = theta(y, 5, { seasonLength: 1 });
    const alpha = 0.9999;
    const sigma = Math.sqrt((19 * (2 / alpha) ** 2) / 18);
    out.mean.forEach((v, i) => expect(v).toBeCloseTo(45 + i + 0.9998 / 0.9999, 6));
    out.sd.forEach((v, i) => expect(v).toBeCloseTo(sigma * Math.sqrt(1 + i * alpha * alpha), 3));
    expect(out.model).toBe('Theta');
  });

  it.each([
    ['optimizedTheta', optimizedTheta],
    ['dynamicOptimizedTheta', dynamicOptimizedTheta],
    ['autoTheta', autoTheta],
  ] as const)('%s reproduces a straight line exactly (θ → ∞ carries the whole trend)', (_, engine) => {
    const y = Array.from({ length: 20 }, (_, i) => 2 * (i + 1) + 5);
    const out = engine(y, 10, { seasonLength: 1 });
    out.mean.forEach((v, i) => expect(v).toBeCloseTo(2 * (21 + i) + 5, 6));
    out.sd.forEach((v) => expect(v).toBeLessThan(1e-6));
  });

  it('theta equals thetaf computed from its definition by exhaustive search', () => {
    const expected = thetafByExhaustiveSearch(TRENDING, 8);
    const out = theta(TRENDING, 8, { seasonLength: 1 });
    out.mean.forEach((v, i) => expect(v).toBeCloseTo(expected.mean[i], 4));
    out.sd.forEach((v, i) => expect(v).toBeCloseTo(expected.sd[i], 4));
    // The values themselves (pins the implementation; thetaf's formula applied to this series).
    expect(out.mean[0]).toBeCloseTo(41.0672, 3);
    expect(out.mean[7] - out.mean[6]).toBeCloseTo(linearTrend(TRENDING).slope / 2, 10);
  });

  it('OTM forecasts follow the closed form of Fiorucci et al. (2016) for the fitted parameters', () => {
    // Ŷ_{n+h} = ℓ_n + (1 − 1/θ)·[(1 − α)^n·A_n + ((h − 1) + (1 − (1 − α)^{n+1})/α)·B_n], A_n and B_n the
    // least-squares line of y on t = 1..n, ℓ_i = α·y_i + (1 − α)·ℓ_{i−1} from the fitted initial level.
    const fit = fitTheta(TRENDING, 'OTM', 6);
    const { alpha, theta: th, level0 } = fit;
    let level = level0;
    for (const v of TRENDING) level = alpha * v + (1 - alpha) * level;
    const { intercept, slope } = linearTrend(TRENDING);
    const n = TRENDING.length;
    for (let h = 1; h <= 6; h++) {
      const expected =
        level + (1 - 1 / th) * ((1 - alpha) ** n * intercept + (h - 1 + (1 - (1 - alpha) ** (n + 1)) / alpha) * slope);
      expect(fit.mean[h - 1]).toBeCloseTo(expected, 8);
    }
    expect(alpha).toBeGreaterThanOrEqual(0.1);
    expect(alpha).toBeLessThanOrEqual(0.99);
    expect(th).toBeGreaterThanOrEqual(1);
  });

  it('the optimised models fit at least as well as the standard ones, and autoTheta picks the best', () => {
    const rand = lcg(17);
    const y = Array.from({ length: 60 }, (_, t) => 100 + 0.5 * t + 0.01 * t * t + 8 * (rand() - 0.5));
    const stm = fitTheta(y, 'STM', 12);
    const otm = fitTheta(y, 'OTM', 12);
    const dstm = fitTheta(y, 'DSTM', 12);
    const dotm = fitTheta(y, 'DOTM', 12);
    expect(stm.theta).toBe(2);
    expect(otm.sse).toBeLessThanOrEqual(stm.sse * (1 + 1e-9));
    expect(dotm.sse).toBeLessThanOrEqual(dstm.sse * (1 + 1e-9));
    const best = otm.sse <= dotm.sse ? otm : dotm;
    const out = autoTheta(y, 12, { seasonLength: 1 });
    expect(out.model).toBe(best.type);
    out.mean.forEach((v, i) => expect(v).toBeCloseTo(best.mean[i], 9));
  });

  it('dynamic models update the trend line online: on a straight line it equals the full-sample line', () => {
    // DSTM differs from STM only in using the regression line of the data so far (A_{t−1}, B_{t−1}) instead of
    // the full-sample one. On an exactly linear history both lines coincide from the second observation on,
    // before the first fitted error, so the two fits and their one-step forecasts are the same.
    const y = Array.from({ length: 30 }, (_, i) => 3 * i - 4);
    const dstm = fitTheta(y, 'DSTM', 1);
    const stm = fitTheta(y, 'STM', 1);
    expect(dstm.mean[0]).toBeCloseTo(stm.mean[0], 6);
  });

  it('seasonal series: adjusts multiplicatively and forecasts the seasonal pattern back', () => {
    const pattern = [0.7, 0.8, 1.0, 1.2, 1.4, 1.3, 1.1, 0.9, 0.85, 0.9, 1.0, 0.85];
    const rand = lcg(23);
    const n = 96;
    const y = Array.from({ length: n }, (_, t) => (200 + t) * pattern[t % 12] * (1 + 0.01 * (rand() - 0.5)));
    for (const [name, engine] of Object.entries(engines)) {
      const out = engine(y, 24, { seasonLength: 12 });
      expect(out.model).toMatch(/\[M12\]$/);
      // Ratios of consecutive forecasts follow the seasonal pattern (the adjusted forecast is smooth).
      for (let i = 1; i < 24; i++) {
        const ratio = out.mean[i] / out.mean[i - 1];
        const truth = pattern[(n + i) % 12] / pattern[(n + i - 1) % 12];
        expect({ name, i, error: Math.abs(ratio / truth - 1) < 0.02 }).toEqual({ name, i, error: true });
      }
      // Level: one season ahead, within 3 % of the noiseless continuation.
      for (let i = 0; i < 12; i++) {
        const truth = (200 + n + i) * pattern[(n + i) % 12];
        expect({ name, i, close: Math.abs(out.mean[i] / truth - 1) < 0.03 }).toEqual({ name, i, close: true });
      }
    }
    // Without a season length the pattern is ignored.
    expect(theta(y, 12, { seasonLength: 1 }).model).toBe('Theta');
  });

  it('periodTheta adjusts at the period it is given, whatever the season length and the test', () => {
    // A week of hours (168) on top of a day: theta with the season length 24 cannot see the week.
    const rand = lcg(9);
    const week = (t: number): number => (Math.floor((t % 168) / 24) >= 5 ? 0.6 : 1.1);
    const n = 168 * 4;
    const y = Array.from({ length: n }, (_, t) => 100 * week(t) * (1 + 0.02 * (rand() - 0.5)));
    const out = periodTheta(168)(y, 48, { seasonLength: 24 });
    expect(out.model).toBe('Theta[M168]');
    expectWellFormed(out, 48);
    // Monday follows the weekend here: the forecast steps up with the weekly cycle.
    for (let i = 0; i < 48; i++) {
      const truth = 100 * week(n + i);
      expect({ i, close: Math.abs(out.mean[i] / truth - 1) < 0.05 }).toEqual({ i, close: true });
    }
    expect(theta(y, 48, { seasonLength: 24 }).model).not.toMatch(/168/);
    // Adjusted even when the test would not call it seasonal (here: no cycle at all), with two cycles and more.
    expect(periodTheta(12)(TRENDING.concat(TRENDING.map((v) => v + 20)), 3, { seasonLength: 1 }).model).toMatch(
      /\[M12\]$/,
    );
    expect(() => periodTheta(12)(TRENDING, 3, { seasonLength: 1 })).toThrow(InsufficientDataError);
    expect(() => periodTheta(1)(y, 3, { seasonLength: 1 })).toThrow(InsufficientDataError);
  });

  it('seasonal series with non-positive values use an additive adjustment', () => {
    const y = Array.from({ length: 48 }, (_, t) => 10 * Math.sin((2 * Math.PI * t) / 12) + 0.1 * t);
    for (const engine of Object.values(engines)) {
      const out = engine(y, 12, { seasonLength: 12 });
      expect(out.model).toMatch(/\[A12\]$/);
      expectWellFormed(out, 12);
      out.mean.forEach((v, i) =>
        expect(Math.abs(v - (10 * Math.sin((2 * Math.PI * (48 + i)) / 12) + 4.8))).toBeLessThan(2),
      );
    }
  });

  it.each(Object.entries(engines))('%s: a constant series is forecast constant with sd 0', (_, engine) => {
    for (const c of [7, 0, -3, 1e12]) {
      const out = engine(new Array<number>(40).fill(c), 30, { seasonLength: 12 });
      const tolerance = 1e-12 * Math.max(1, Math.abs(c));
      expect(out.mean.filter((v) => Math.abs(v - c) > tolerance)).toEqual([]);
      expect(out.sd.filter((v) => v > tolerance)).toEqual([]);
    }
  });

  it.each(Object.entries(engines))('%s: too short a series raises InsufficientDataError', (_, engine) => {
    const minimum = engine === theta ? 4 : 8;
    expect(() => engine([1], 3, { seasonLength: 1 })).toThrow(InsufficientDataError);
    expect(() => engine([1, 2, 4, 3, 5, 6, 8].slice(0, minimum - 1), 3, { seasonLength: 1 })).toThrow(
      InsufficientDataError,
    );
    expectWellFormed(engine([1, 2, 4, 3, 5, 6, 8, 7].slice(0, minimum), 3, { seasonLength: 1 }), 3);
  });

  it.each(Object.entries(engines))('%s: is equivariant to scale, sign and shift (non-seasonal)', (_, engine) => {
    const base = engine(TRENDING, 10, { seasonLength: 1 });
    const scaled = engine(
      TRENDING.map((v) => v * 1e12),
      10,
      { seasonLength: 1 },
    );
    const negated = engine(
      TRENDING.map((v) => -v),
      10,
      { seasonLength: 1 },
    );
    const shifted = engine(
      TRENDING.map((v) => v + 1000),
      10,
      { seasonLength: 1 },
    );
    base.mean.forEach((v, i) => {
      expect(scaled.mean[i] / 1e12).toBeCloseTo(v, 6);
      expect(negated.mean[i]).toBeCloseTo(-v, 6);
      expect(shifted.mean[i]).toBeCloseTo(v + 1000, 4);
    });
    base.sd.forEach((v, i) => {
      expect(scaled.sd[i] / 1e12).toBeCloseTo(v, 6);
      expect(negated.sd[i]).toBeCloseTo(v, 6);
    });
  });

  it.each(Object.entries(engines))(
    '%s: horizons 1 and 1000, positive non-decreasing sd, deterministic',
    (_, engine) => {
      for (const h of [1, 1000]) {
        const out = engine(TRENDING, h, { seasonLength: 1 });
        expectWellFormed(out, h);
        expect(out.sd[0]).toBeGreaterThan(0);
        expect(out.sd.filter((v, i) => i > 0 && v < out.sd[i - 1])).toEqual([]);
        expect(engine(TRENDING, h, { seasonLength: 1 })).toEqual(out);
      }
    },
  );

  it.each(Object.entries(engines))('%s: zeros, negatives, spikes and extreme magnitudes stay finite', (_, engine) => {
    const rand = lcg(29);
    const inputs: number[][] = [
      new Array<number>(40).fill(0),
      Array.from({ length: 40 }, (_, t) => -500 - 3 * t + 20 * rand()),
      [...new Array<number>(30).fill(0), 1e6, ...new Array<number>(9).fill(0)],
      Array.from({ length: 40 }, (_, t) => 1e300 * (1 + t / 40 + rand())),
      Array.from({ length: 40 }, () => 1e-300 * (1 + rand())),
      Array.from({ length: 60 }, (_, t) => (t % 12 === 0 ? 0 : 10 + (t % 12))),
    ];
    for (const y of inputs) {
      for (const seasonLength of [1, 12]) {
        for (const h of [1, 1000]) expectWellFormed(engine(y, h, { seasonLength }), h);
      }
    }
    // A forecast beyond the float range is refused rather than returned as Infinity.
    const edge = Array.from({ length: 40 }, (_, t) => (t % 2 ? 1 : -1) * 1.7e308);
    try {
      expectWellFormed(engine(edge, 1000, { seasonLength: 1 }), 1000);
    } catch (error) {
      expect(error).toBeInstanceOf(InsufficientDataError);
    }
  });
});
