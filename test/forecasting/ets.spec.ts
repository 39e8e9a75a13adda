import {
  EtsSpec,
  R_ETS_OPTIONS,
  autoEts,
  candidateSpecs,
  dampedTrend,
  fitEts,
  fitEtsFamily,
  forecastEts,
  holt,
  holtWintersAdditive,
  holtWintersMultiplicative,
  selectEts,
  ses,
} from '../../src/forecasting/engines/ets';
import {
  admissible,
  createPass,
  createRootScratch,
  forecastMoments,
  runRecursion,
} from '../../src/forecasting/engines/ets-core';
import { InsufficientDataError } from '../../src/forecasting/engines/types';

/** Monthly international airline passengers 1949–1960 (thousands), Box & Jenkins' series G (R: AirPassengers). */
const AIR = [
  112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118, 115, 126, 141, 135, 125, 149, 170, 170, 158, 133, 114,
  140, 145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166, 171, 180, 193, 181, 183, 218, 230, 242, 209, 191,
  172, 194, 196, 196, 236, 235, 229, 243, 264, 272, 237, 211, 180, 201, 204, 188, 235, 227, 234, 264, 302, 293, 259,
  229, 203, 229, 242, 233, 267, 269, 270, 315, 364, 347, 312, 274, 237, 278, 284, 277, 317, 313, 318, 374, 413, 405,
  355, 306, 271, 306, 315, 301, 356, 348, 355, 422, 465, 467, 404, 347, 305, 336, 340, 318, 362, 348, 363, 435, 491,
  505, 404, 359, 310, 337, 360, 342, 406, 396, 420, 472, 548, 559, 463, 407, 362, 405, 417, 391, 419, 461, 472, 535,
  622, 606, 508, 461, 390, 432,
];

const spec = (error: 'A' | 'M', trend: 'N' | 'A', damped: boolean, season: 'N' | 'A' | 'M'): EtsSpec => ({
  error,
  trend,
  damped,
  season,
});

/** Seeded PRNG (mulberry32) and standard normal draws (Box–Muller). */
function normalSource(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

function isNonDecreasing(values: readonly number[], slack = 1e-9): boolean {
  return values.every((v, i) => i === 0 || v >= values[i - 1] * (1 - slack));
}

function expectFinite(values: readonly number[]): void {
  for (const v of values) expect(Number.isFinite(v)).toBe(true);
}

describe('ETS recursion (hand-computed)', () => {
  it('SES with a fixed alpha follows l_t = l_{t-1} + α e_t', () => {
    // y = 10, 12, 11, 13 from l0 = 10 with α = 0.5: ŷ = 10, 10, 11, 11; e = 0, 2, 0, 2; l4 = 12.
    const pass = createPass(1);
    const residuals = new Float64Array(4);
    const lik = runRecursion(
      Float64Array.from([10, 12, 11, 13]),
      1,
      1,
      0,
      0,
      0.5,
      0,
      0,
      1,
      10,
      0,
      new Float64Array(1),
      pass,
      residuals,
    );
    expect(Array.from(residuals)).toEqual([0, 2, 0, 2]);
    expect(pass.level).toBe(12);
    expect(pass.sse).toBe(8);
    expect(lik).toBeCloseTo(4 * Math.log(8), 12);
    // Class 1 variance of ETS(A,N,N): σ²(1 + (h − 1)α²); the point forecast stays at the last level.
    const moments = forecastMoments(
      spec('A', 'N', false, 'N'),
      1,
      { alpha: 0.5, beta: 0, gamma: 0, phi: 1 },
      { level: 12, slope: 0, seasonal: new Float64Array(1) },
      4,
      2,
      4,
    );
    expect(moments.mean).toEqual([12, 12, 12, 12]);
    expect(moments.variance).toEqual([2, 2.5, 3, 3.5]);
  });

  it("Holt's method: level and slope updates", () => {
    // l0 = 0, b0 = 1, α = 0.5, β = 0.25, y = 1, 3, 4:
    // ŷ = 1, 2, 3.75; e = 0, 1, 0.25; l = 1, 2.5, 3.875; b = 1, 1.25, 1.3125.
    const pass = createPass(1);
    const residuals = new Float64Array(3);
    runRecursion(Float64Array.from([1, 3, 4]), 1, 1, 1, 0, 0.5, 0.25, 0, 1, 0, 1, new Float64Array(1), pass, residuals);
    expect(Array.from(residuals)).toEqual([0, 1, 0.25]);
    expect(pass.level).toBe(3.875);
    expect(pass.slope).toBe(1.3125);
    const moments = forecastMoments(
      spec('A', 'A', false, 'N'),
      1,
      { alpha: 0.5, beta: 0.25, gamma: 0, phi: 1 },
      { level: 3.875, slope: 1.3125, seasonal: new Float64Array(1) },
      3,
      1,
      3,
    );
    expect(moments.mean).toEqual([5.1875, 6.5, 7.8125]);
    // c_j = α + jβ: var = 1, 1 + 0.75², 1 + 0.75² + 1².
    expect(moments.variance).toEqual([1, 1.5625, 2.5625]);
  });

  it('multiplicative error and season (relative errors, Σlog|ŷ| term)', () => {
    // m = 2, seasonal factors (0.5, 1.5), l0 = 20, α = 0.5, γ = 0.1, y = 10, 20, 12:
    // ŷ = 10, 30, 8⅓; relative errors 0, −⅓, 0.44; levels 20, 16⅔, 20⅓.
    const pass = createPass(2);
    const residuals = new Float64Array(3);
    const lik = runRecursion(
      Float64Array.from([10, 20, 12]),
      2,
      2,
      0,
      2,
      0.5,
      0,
      0.1,
      1,
      20,
      0,
      Float64Array.from([0.5, 1.5]),
      pass,
      residuals,
    );
    expect(residuals[0]).toBeCloseTo(0, 14);
    expect(residuals[1]).toBeCloseTo(-1 / 3, 14);
    expect(residuals[2]).toBeCloseTo(0.44, 14);
    expect(pass.level).toBeCloseTo(20 + 1 / 3, 12);
    expect(pass.seasonal[0]).toBeCloseTo(0.522, 12);
    expect(pass.seasonal[1]).toBeCloseTo(1.45, 12);
    const expected = 3 * Math.log(1 / 9 + 0.44 ** 2) + 2 * (Math.log(10) + Math.log(30) + Math.log(25 / 3));
    expect(lik).toBeCloseTo(expected, 12);
  });
});

describe('admissible parameter space', () => {
  /** Largest root modulus of Σ c_i z^i by Durand–Kerner iteration (independent of the Schur–Cohn test). */
  function maxRootModulus(coef: number[]): number {
    const d = coef.length - 1;
    const lead = coef[d];
    const re: number[] = [];
    const im: number[] = [];
    for (let k = 0; k < d; k++) {
      re.push(0.9 * Math.cos((2 * Math.PI * k) / d + 0.4));
      im.push(0.9 * Math.sin((2 * Math.PI * k) / d + 0.4));
    }
    for (let iter = 0; iter < 2000; iter++) {
      let moved = 0;
      for (let k = 0; k < d; k++) {
        // p(z_k) / lead by Horner, divided by Π (z_k − z_j).
        let pr = coef[d] / lead;
        let pi = 0;
        for (let i = d - 1; i >= 0; i--) {
          const r = pr * re[k] - pi * im[k] + coef[i] / lead;
          pi = pr * im[k] + pi * re[k];
          pr = r;
        }
        let qr = 1;
        let qi = 0;
        for (let j = 0; j < d; j++) {
          if (j === k) continue;
          const dr = re[k] - re[j];
          const di = im[k] - im[j];
          const r = qr * dr - qi * di;
          qi = qr * di + qi * dr;
          qr = r;
        }
        const den = qr * qr + qi * qi;
        const sr = (pr * qr + pi * qi) / den;
        const si = (pi * qr - pr * qi) / den;
        re[k] -= sr;
        im[k] -= si;
        moved = Math.max(moved, Math.hypot(sr, si));
      }
      if (moved < 1e-14) break;
    }
    return Math.max(...re.map((r, k) => Math.hypot(r, im[k])));
  }

  it('agrees with the characteristic-equation roots (ets(): max |root| ≤ 1)', () => {
    const draw = normalSource(7);
    const unit = () => 0.5 + 0.5 * Math.tanh(draw());
    let admissibleCount = 0;
    let total = 0;
    for (let trial = 0; trial < 300; trial++) {
      const m = [2, 4, 7, 12][trial % 4];
      const damped = trial % 3 !== 0;
      const trend = trial % 5 !== 0;
      const alpha = unit();
      const beta = trend ? unit() * alpha : 0;
      const gamma = unit() * (1 - alpha) * 1.6; // partly outside the usual region on purpose
      const phi = damped ? 0.8 + 0.2 * unit() : 1;
      const s = spec('A', trend ? 'A' : 'N', damped && trend, 'A');
      const ph = s.damped ? phi : 1;
      const b = trend ? beta : 0;
      const coef = [ph * (1 - alpha - gamma), alpha + b - alpha * ph + gamma - 1];
      for (let i = 2; i < m; i++) coef.push(alpha + b - alpha * ph);
      coef.push(alpha + b - ph, 1);
      // Same easy linear tests as ets(), then the roots.
      const easy =
        gamma >= Math.max(1 - 1 / ph - alpha, 0) &&
        gamma <= 1 + 1 / ph - alpha &&
        alpha >= 1 - 1 / ph - (gamma * (1 - m + ph + ph * m)) / (2 * ph * m) &&
        b >= -(1 - ph) * (gamma / m + alpha);
      const modulus = maxRootModulus(coef);
      if (Math.abs(modulus - 1) < 1e-6) continue; // too close to the boundary to call
      const expected = easy && modulus <= 1 + 1e-10;
      expect(admissible(s, m, alpha, beta, gamma, phi, createRootScratch(m))).toBe(expected);
      if (expected) admissibleCount++;
      total++;
    }
    // Both outcomes must have been exercised.
    expect(admissibleCount).toBeGreaterThan(20);
    expect(total - admissibleCount).toBeGreaterThan(20);
  });

  it('accepts seasonal models without trend (their unit root z = 1 is structural)', () => {
    expect(admissible(spec('A', 'N', false, 'A'), 12, 0.3, 0, 0.1, 1, createRootScratch(12))).toBe(true);
    expect(admissible(spec('M', 'N', false, 'M'), 4, 0.9, 0, 0.05, 1, createRootScratch(4))).toBe(true);
  });
});

describe('forecast variance (Monte Carlo check of the analytic formulas)', () => {
  /** Simulates the model in the book's error-correction form and returns the mean and sd per horizon. */
  function simulate(
    s: EtsSpec,
    m: number,
    p: { alpha: number; beta: number; gamma: number; phi: number },
    level: number,
    slope: number,
    seasonal: number[], // by season position; the first forecast uses position n % m
    n: number,
    sigma: number,
    horizon: number,
    paths: number,
  ) {
    const draw = normalSource(12345);
    const sum = new Float64Array(horizon);
    const sumSq = new Float64Array(horizon);
    const phi = s.damped ? p.phi : 1;
    for (let path = 0; path < paths; path++) {
      let l = level;
      let b = slope;
      const seas = seasonal.slice();
      for (let h = 0; h < horizon; h++) {
        const pos = (n + h) % m;
        const q = l + (s.trend === 'A' ? phi * b : 0);
        const sOld = s.season === 'N' ? 0 : seas[pos];
        const mu = s.season === 'M' ? q * sOld : q + sOld;
        const eps = sigma * draw();
        const y = s.error === 'A' ? mu + eps : mu * (1 + eps);
        sum[h] += y;
        sumSq[h] += y * y;
        if (s.season === 'M') {
          l = q * (1 + p.alpha * eps);
          b = phi * b + p.beta * q * eps;
          seas[pos] = sOld * (1 + p.gamma * eps);
        } else {
          const e = s.error === 'A' ? eps : mu * eps;
          l = q + p.alpha * e;
          b = phi * b + p.beta * e;
          if (s.season === 'A') seas[pos] = sOld + p.gamma * e;
        }
      }
    }
    const mean = Array.from(sum, (v) => v / paths);
    const sd = Array.from(sumSq, (v, h) => Math.sqrt(v / paths - mean[h] ** 2));
    return { mean, sd };
  }

  const cases: [string, EtsSpec, number, number][] = [
    ['class 1: ETS(A,Ad,A)', spec('A', 'A', true, 'A'), 4, 5],
    ['class 2: ETS(M,Ad,N)', spec('M', 'A', true, 'N'), 1, 0.08],
    ['class 2: ETS(M,A,A)', spec('M', 'A', false, 'A'), 4, 0.08],
    ['class 3: ETS(M,Ad,M)', spec('M', 'A', true, 'M'), 4, 0.08],
    ['class 3: ETS(M,N,M)', spec('M', 'N', false, 'M'), 3, 0.1],
  ];
  it.each(cases)('%s', (_name, s, m, sigma) => {
    const params = { alpha: 0.3, beta: 0.1, gamma: 0.2, phi: 0.9 };
    const seasonal =
      s.season === 'M' ? [0.8, 1.3, 0.9, 1.0].slice(0, m) : s.season === 'A' ? [-10, 15, -5, 0].slice(0, m) : [0];
    if (s.season === 'M') {
      const total = seasonal.reduce((a, v) => a + v, 0);
      for (let i = 0; i < m; i++) seasonal[i] *= m / total;
    }
    const state = { level: 100, slope: s.trend === 'A' ? 2 : 0, seasonal: Float64Array.from(seasonal) };
    const horizon = 3 * m + 2;
    const n = 10;
    const analytic = forecastMoments(s, m, params, state, n, sigma * sigma, horizon);
    const mc = simulate(s, m, params, state.level, state.slope, seasonal, n, sigma, horizon, 40000);
    for (let h = 0; h < horizon; h++) {
      const sd = Math.sqrt(analytic.variance[h]);
      expect(Math.abs(analytic.mean[h] - mc.mean[h])).toBeLessThan(4 * (sd / Math.sqrt(40000)) + 1e-9);
      expect(Math.abs(sd / mc.sd[h] - 1)).toBeLessThan(0.03);
    }
  });
});

describe('AirPassengers', () => {
  it('reproduces R ets(AirPassengers) exactly under R_ETS_OPTIONS', () => {
    // Published output of forecast::ets(AirPassengers) (forecast 8.x):
    // ETS(M,Ad,M); alpha = 0.7096, beta = 0.0204, gamma = 1e-04, phi = 0.98; l = 120.9939, b = 1.7705,
    // s = 0.8944 0.7993 0.9217 1.0592 1.2203 1.2318 1.1105 0.9786 0.9804 1.011 0.8869 0.9059;
    // sigma: 0.0392; AIC 1395.166, BIC 1448.623.
    const fit = selectEts(AIR, 12, R_ETS_OPTIONS);
    expect(fit).not.toBeNull();
    if (fit === null) return;
    expect(fit.label).toBe('ETS(M,Ad,M)');
    expect(fit.params.alpha).toBeCloseTo(0.7096, 4);
    expect(fit.params.beta).toBeCloseTo(0.0204, 4);
    expect(fit.params.gamma).toBeCloseTo(1e-4, 4);
    expect(fit.params.phi).toBeCloseTo(0.98, 4);
    expect(fit.initial.level).toBeCloseTo(120.9939, 4);
    expect(fit.initial.slope).toBeCloseTo(1.7705, 4);
    // R lists s1 (newest, December) … s12 (January); this state is indexed by season position.
    const printed = [0.8944, 0.7993, 0.9217, 1.0592, 1.2203, 1.2318, 1.1105, 0.9786, 0.9804, 1.011, 0.8869, 0.9059];
    printed.forEach((v, i) => expect(fit.initial.seasonal[11 - i]).toBeCloseTo(v, 4));
    expect(Math.sqrt(fit.sigma2)).toBeCloseTo(0.0392, 4);
    expect(fit.aic).toBeCloseTo(1395.166, 3);
    expect(fit.bic).toBeCloseTo(1448.623, 3);
    expect(fit.aicc).toBeCloseTo(fit.aic + (2 * 18 * 19) / (144 - 18 - 1), 9);
    // σ² = Σe² / (n − np) with np = 17 (4 smoothing parameters, l, b and 11 free seasonal states).
    expect(fit.parameters).toBe(17);
    expect(fit.residuals.reduce((acc, e) => acc + e * e, 0) / (144 - 17)).toBeCloseTo(fit.sigma2, 14);
  });

  it('default engine: a multiplicative seasonal model with the summer peak and a widening interval', () => {
    const fc = autoEts(AIR, 24, { seasonLength: 12 });
    expect(fc.model).toMatch(/^ETS\(M,(N|A|Ad),M\)$/);
    expect(fc.mean).toHaveLength(24);
    expectFinite(fc.mean);
    const year = fc.mean.slice(0, 12);
    expect([6, 7]).toContain(year.indexOf(Math.max(...year))); // July or August
    expect(year.indexOf(Math.min(...year))).toBe(10); // November
    for (const v of fc.mean) {
      expect(v).toBeGreaterThan(350);
      expect(v).toBeLessThan(750);
    }
    // Multiplicative errors: the sd scales with the level, its ratio to the mean grows with the horizon.
    expect(isNonDecreasing(fc.sd.map((sd, i) => sd / fc.mean[i]))).toBe(true);
    expect(fc.sd[0]).toBeGreaterThan(0);
  });

  it('exposes every candidate with its AICc, best first', () => {
    const family = fitEtsFamily(AIR, 12);
    expect(forecastEts(family[0], 24)).toEqual(autoEts(AIR, 24, { seasonLength: 12 }));
    expect(family).toHaveLength(15);
    for (let i = 1; i < family.length; i++) expect(family[i].aicc).toBeGreaterThanOrEqual(family[i - 1].aicc);
    expect(family.some((f) => f.spec.error === 'A' && f.spec.season === 'M')).toBe(false);
  });
});

describe('model family and restrictions', () => {
  const positive = AIR.slice(0, 48);
  it('follows ets(): 15 models for positive seasonal data, no (A,·,M)', () => {
    expect(candidateSpecs(positive, 12)).toHaveLength(15);
    expect(candidateSpecs(positive, 1)).toHaveLength(6);
    expect(candidateSpecs(positive, 52)).toHaveLength(6); // m > 24: non-seasonal
    expect(candidateSpecs(positive.slice(0, 12), 12)).toHaveLength(6); // n ≤ m: non-seasonal
  });

  it('uses additive models only when the data are not strictly positive', () => {
    const withZero = positive.map((v, i) => (i === 5 ? 0 : v));
    const specs = candidateSpecs(withZero, 12);
    expect(specs).toHaveLength(6);
    expect(specs.every((s) => s.error === 'A' && s.season !== 'M')).toBe(true);
  });

  it('skips models with more parameters than the data allow (np ≥ n − 1)', () => {
    // ETS(A,Ad,A) with m = 12 has 2 + 2 + 1 + 12 = 17 parameters.
    expect(fitEts(AIR.slice(0, 18), spec('A', 'A', true, 'A'), 12)).toBeNull();
    expect(fitEts(AIR.slice(0, 19), spec('A', 'A', true, 'A'), 12)).not.toBeNull();
  });

  it('returns a local optimum of the likelihood', () => {
    const fit = fitEts(AIR.slice(0, 60), spec('A', 'A', true, 'N'), 1, R_ETS_OPTIONS);
    expect(fit).not.toBeNull();
    if (fit === null) return;
    const y = Float64Array.from(AIR.slice(0, 60));
    const pass = createPass(1);
    const { alpha, beta, phi } = fit.params;
    const at = (a: number, b: number, p: number) =>
      runRecursion(y, 1, 1, 1, 0, a, b, 0, p, fit.initial.level, fit.initial.slope, new Float64Array(1), pass);
    const best = at(alpha, beta, phi);
    expect(best).toBeCloseTo(fit.lik, 9);
    for (const [da, db, dp] of [
      [0.01, 0, 0],
      [-0.01, 0, 0],
      [0, 0.005, 0],
      [0, -0.005, 0],
      [0, 0, 0.005],
      [0, 0, -0.005],
    ]) {
      const a = alpha + da;
      const b = beta + db;
      const p = phi + dp;
      if (b > a || b < 1e-4 || a > 0.9999 || p > 0.98 || p < 0.8) continue;
      expect(at(a, b, p)).toBeGreaterThanOrEqual(best - 1e-6);
    }
  });
});

describe('engines on degenerate inputs', () => {
  const engines = { autoEts, ses, holt, dampedTrend, holtWintersAdditive, holtWintersMultiplicative };

  it.each(Object.entries(engines))('%s: constant series give a flat forecast with zero spread', (_name, engine) => {
    const fc = engine(new Array<number>(40).fill(7.5), 5, { seasonLength: 4 });
    expect(fc.mean).toEqual([7.5, 7.5, 7.5, 7.5, 7.5]);
    expect(fc.sd).toEqual([0, 0, 0, 0, 0]);
  });

  it.each(Object.entries(engines))('%s: all zeros', (_name, engine) => {
    const fc = engine(new Array<number>(30).fill(0), 3, { seasonLength: 4 });
    expect(fc.mean).toEqual([0, 0, 0]);
  });

  it.each(Object.entries(engines))('%s: length 1 and 2 are too short', (_name, engine) => {
    expect(() => engine([5, 6], 3, { seasonLength: 1 })).toThrow(InsufficientDataError);
    expect(() => engine([3.2, 4], 3, { seasonLength: 4 })).toThrow(InsufficientDataError);
  });

  it('a length-1 series is constant: flat forecast', () => {
    expect(autoEts([42], 2, { seasonLength: 1 }).mean).toEqual([42, 42]);
  });

  it('seasonal engines need two full seasons', () => {
    expect(() => holtWintersAdditive(AIR.slice(0, 23), 12, { seasonLength: 12 })).toThrow(InsufficientDataError);
    expect(() => holtWintersMultiplicative(AIR.slice(0, 30), 12, { seasonLength: 1 })).toThrow(InsufficientDataError);
    expect(() => holtWintersMultiplicative(AIR.slice(0, 30), 12, { seasonLength: 48 })).toThrow(InsufficientDataError);
    expect(holtWintersAdditive(AIR.slice(0, 24), 12, { seasonLength: 12 }).model).toBe('ETS(A,A,A)');
  });

  it('very short series fall back to SES/Holt (ets() small-sample rule)', () => {
    const fc = autoEts([10, 12, 11, 13, 12], 4, { seasonLength: 12 });
    expect(fc.model).toMatch(/^ETS\(A,(N|A),N\)$/);
    expectFinite(fc.mean);
    expectFinite(fc.sd);
    expect(ses([10, 12, 11, 13], 2, { seasonLength: 1 }).model).toBe('ETS(A,N,N)');
    expect(holt([10, 12, 11, 13, 15], 2, { seasonLength: 1 }).model).toBe('ETS(A,A,N)');
  });

  it('negative values: additive models only; multiplicative Holt–Winters refuses', () => {
    const shifted = AIR.map((v) => v - 300);
    const fc = autoEts(shifted, 12, { seasonLength: 12 });
    expect(fc.model.startsWith('ETS(A,')).toBe(true);
    expectFinite(fc.mean);
    expect(() => holtWintersMultiplicative(shifted, 12, { seasonLength: 12 })).toThrow(InsufficientDataError);
  });

  it('huge values: scale-equivariant forecasts', () => {
    const base = autoEts(AIR, 18, { seasonLength: 12 });
    const big = autoEts(
      AIR.map((v) => v * 1e12),
      18,
      { seasonLength: 12 },
    );
    expect(big.model).toBe(base.model);
    big.mean.forEach((v, i) => expect(v / 1e12).toBeCloseTo(base.mean[i], 6));
    big.sd.forEach((v, i) => expect(v / 1e12).toBeCloseTo(base.sd[i], 6));
  });

  it('is deterministic', () => {
    const a = autoEts(AIR.slice(0, 100), 12, { seasonLength: 12 });
    const b = autoEts(AIR.slice(0, 100), 12, { seasonLength: 12 });
    expect(b).toEqual(a);
  });

  it.each(Object.entries(engines))('%s: horizons 1 and 1000', (name, engine) => {
    const one = engine(AIR, 1, { seasonLength: 12 });
    expect(one.mean).toHaveLength(1);
    expect(one.sd[0]).toBeGreaterThan(0);
    const long = engine(AIR, 1000, { seasonLength: 12 });
    expect(long.mean).toHaveLength(1000);
    expect(long.sd).toHaveLength(1000);
    expectFinite(long.mean);
    expectFinite(long.sd);
    expect(long.mean[0]).toBeCloseTo(one.mean[0], 9);
    if (name === 'ses' || name === 'holt' || name === 'dampedTrend' || name === 'holtWintersAdditive') {
      // Additive errors: the variance accumulates, sd never decreases.
      expect(isNonDecreasing(long.sd)).toBe(true);
    }
  });

  it('trend engines extrapolate a linear trend and damp it', () => {
    const line = Array.from({ length: 30 }, (_, i) => 100 + 3 * i + (i % 2 === 0 ? 0.5 : -0.5));
    const h = holt(line, 10, { seasonLength: 1 });
    expect(h.mean[9] - h.mean[0]).toBeCloseTo(27, 0);
    const d = dampedTrend(line, 50, { seasonLength: 1 });
    const steps = d.mean.slice(1).map((v, i) => v - d.mean[i]);
    expect(steps[0]).toBeGreaterThan(0);
    expect(isNonDecreasing(steps.map((s) => -s))).toBe(true); // increments shrink
    expect(ses(line, 3, { seasonLength: 1 }).mean[0]).toBeGreaterThan(180);
  });
});
