import {
  autoArima,
  autoArimaFit,
  fitArima,
  forecastArima,
  isConstant,
  kpssPValue,
  kpssStatistic,
  ndiffs,
  nsdiffs,
  seasonalStrength,
  stl,
} from '../../src/forecasting/engines/arima';
import {
  KalmanWorkspace,
  armaAutocovariance,
  expandAr,
  expandMa,
  kalmanLikelihood,
  maInvert,
  psiWeights,
  rootsOutside,
  stationaryFirstColumn,
} from '../../src/forecasting/engines/arima-core';
import { InsufficientDataError } from '../../src/forecasting/engines/types';

/** Seeded uniform generator (mulberry32) and Box–Muller normals. */
function rng(seed: number): { uniform: () => number; normal: () => number } {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = (): number => {
    const u = Math.max(uniform(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
  return { uniform, normal };
}

function randomWalk(n: number, seed: number): number[] {
  const { normal } = rng(seed);
  const y = [100];
  for (let t = 1; t < n; t++) y.push(y[t - 1] + normal());
  return y;
}

/** AirPassengers (Box & Jenkins series G, monthly 1949–1960; R's `datasets::AirPassengers`). */
const AIR = [
  112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118, 115, 126, 141, 135, 125, 149, 170, 170, 158, 133, 114,
  140, 145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166, 171, 180, 193, 181, 183, 218, 230, 242, 209, 191,
  172, 194, 196, 196, 236, 235, 229, 243, 264, 272, 237, 211, 180, 201, 204, 188, 235, 227, 234, 264, 302, 293, 259,
  229, 203, 229, 242, 233, 267, 269, 270, 315, 364, 347, 312, 274, 237, 278, 284, 277, 317, 313, 318, 374, 413, 405,
  355, 306, 271, 306, 315, 301, 356, 348, 355, 422, 465, 467, 404, 347, 305, 336, 340, 318, 362, 348, 363, 435, 491,
  505, 404, 359, 310, 337, 360, 342, 406, 396, 420, 472, 548, 559, 463, 407, 362, 405, 417, 391, 419, 461, 472, 535,
  622, 606, 508, 461, 390, 432,
];

/** Mauna Loa CO2, the first 348 months of R's `datasets::co2` (1959–1987), public domain. */
const CO2 =
  `315.58 316.39 316.79 317.82 318.39 318.22 316.68 315.01 314.02 313.55 315.02 315.75 316.52 317.1 317.79 319.22
320.08 319.7 318.27 315.99 314.24 314.05 315.05 316.23 316.92 317.76 318.54 319.49 320.64 319.85 318.7 316.96 315.17
315.47 316.19 317.17 318.12 318.72 319.79 320.68 321.28 320.89 319.79 317.56 316.46 315.59 316.85 317.87 318.87 319.25
320.13 321.49 322.34 321.62 319.85 317.87 316.36 316.24 317.13 318.46 319.57 320.23 320.89 321.54 322.2 321.9 320.42
318.6 316.73 317.15 317.94 318.91 319.73 320.78 321.23 322.49 322.59 322.35 321.61 319.24 318.23 317.76 319.36 319.5
320.35 321.4 322.22 323.45 323.8 323.5 322.16 320.09 318.26 317.66 319.47 320.7 322.06 322.23 322.78 324.1 324.63
323.79 322.34 320.73 319 318.99 320.41 321.68 322.3 322.89 323.59 324.65 325.3 325.15 323.88 321.8 319.99 319.86 320.88
322.36 323.59 324.23 325.34 326.33 327.03 326.24 325.39 323.16 321.87 321.31 322.34 323.74 324.61 325.58 326.55 327.81
327.82 327.53 326.29 324.66 323.12 323.09 324.01 325.1 326.12 326.62 327.16 327.94 329.15 328.79 327.53 325.65 323.6
323.78 325.13 326.26 326.93 327.84 327.96 329.93 330.25 329.24 328.13 326.42 324.97 325.29 326.56 327.73 328.73 329.7
330.46 331.7 332.66 332.22 331.02 329.39 327.58 327.27 328.3 328.81 329.44 330.89 331.62 332.85 333.29 332.44 331.35
329.58 327.58 327.55 328.56 329.73 330.45 330.98 331.63 332.88 333.63 333.53 331.9 330.08 328.59 328.31 329.44 330.64
331.62 332.45 333.36 334.46 334.84 334.29 333.04 330.88 329.23 328.83 330.18 331.5 332.8 333.22 334.54 335.82 336.45
335.97 334.65 332.4 331.28 330.73 332.05 333.54 334.65 335.06 336.32 337.39 337.66 337.56 336.24 334.39 332.43 332.22
333.61 334.78 335.88 336.43 337.61 338.53 339.06 338.92 337.39 335.72 333.64 333.65 335.07 336.53 337.82 338.19 339.89
340.56 341.22 340.92 339.26 337.27 335.66 335.54 336.71 337.79 338.79 340.06 340.93 342.02 342.65 341.8 340.01 337.94
336.17 336.28 337.76 339.05 340.18 341.04 342.16 343.01 343.64 342.91 341.72 339.52 337.75 337.68 339.14 340.37 341.32
342.45 343.05 344.91 345.77 345.3 343.98 342.41 339.89 340.03 341.19 342.87 343.74 344.55 345.28 347 347.37 346.74
345.36 343.19 340.97 341.2 342.76 343.96 344.82 345.82 347.24 348.09 348.66 347.9 346.27 344.21 342.88 342.58 343.99
345.31 345.98 346.72 347.63 349.24 349.83 349.1 347.52 345.43 344.48 343.89 345.29 346.54 347.66 348.07 349.12 350.55
351.34 350.8 349.1 347.54 346.2 346.2 347.44 348.67`
    .split(/\s+/)
    .map(Number);

function expectNonDecreasing(values: readonly number[]): void {
  for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1] * (1 - 1e-12));
}

describe('ARIMA estimation', () => {
  it('recovers the coefficient and mean of a simulated AR(1) and forecasts μ + φ^h (y_n − μ)', () => {
    const { normal } = rng(42);
    const phi = 0.6;
    const mu = 10;
    const y: number[] = [mu];
    for (let t = 1; t < 400; t++) y.push(mu + phi * (y[t - 1] - mu) + normal());
    const fit = fitArima(y, { p: 1, d: 0, q: 0 });
    // Standard errors: φ̂ ≈ √((1−φ²)/n) = 0.04, μ̂ ≈ σ/((1−φ)√n) = 0.125.
    expect(Math.abs(fit.coefficients.ar[0] - phi)).toBeLessThan(0.1);
    expect(Math.abs((fit.coefficients.mean ?? NaN) - mu)).toBeLessThan(0.5);
    expect(fit.sigma2).toBeGreaterThan(0.8);
    expect(fit.sigma2).toBeLessThan(1.25);
    expect(fit.model).toBe('ARIMA(1,0,0) with non-zero mean');
    const { mean, sd } = forecastArima(fit, 10);
    const ph = fit.coefficients.ar[0];
    const m = fit.coefficients.mean ?? NaN;
    let variance = 0;
    for (let h = 1; h <= 10; h++) {
      // For an AR(1) the state is known once y_n is observed: exact closed forms.
      expect(mean[h - 1]).toBeCloseTo(m + ph ** h * (y[399] - m), 8);
      variance += fit.sigma2 * ph ** (2 * (h - 1));
      expect(sd[h - 1]).toBeCloseTo(Math.sqrt(variance), 8);
    }
  });

  it('ARIMA(0,1,1) forecasts equal simple exponential smoothing with α = 1 + θ', () => {
    const { normal } = rng(7);
    const theta = -0.5;
    const y = [50];
    let previous = normal();
    for (let t = 1; t < 300; t++) {
      const e = normal();
      y.push(y[t - 1] + e + theta * previous);
      previous = e;
    }
    const fit = fitArima(y, { p: 0, d: 1, q: 1 });
    const alpha = 1 + fit.coefficients.ma[0];
    expect(Math.abs(fit.coefficients.ma[0] - theta)).toBeLessThan(0.12);
    let level = y[0];
    for (let t = 1; t < y.length; t++) level = alpha * y[t] + (1 - alpha) * level;
    const { mean } = forecastArima(fit, 5);
    // The exact (Kalman) predictor and SES started at y_1 differ by (1 − α)^n: nothing after 300 steps.
    for (const v of mean) expect(v).toBeCloseTo(level, 8);
  });

  it('a random walk has forecast sd σ·√h and σ² = Σ(Δy)²/(n−1)', () => {
    const y = randomWalk(200, 3);
    const fit = fitArima(y, { p: 0, d: 1, q: 0 });
    let ssq = 0;
    for (let t = 1; t < y.length; t++) ssq += (y[t] - y[t - 1]) ** 2;
    // forecast's σ²: Σ residuals² / (N − npar + 1) with N = n − 1 and npar = 1 (σ² itself).
    expect(fit.sigma2).toBeCloseTo(ssq / 199, 10);
    const { mean, sd } = forecastArima(fit, 12);
    mean.forEach((v) => expect(v).toBeCloseTo(y[199], 10));
    sd.forEach((v, i) => expect(v).toBeCloseTo(Math.sqrt(fit.sigma2 * (i + 1)), 10));
  });

  it('a seasonal random walk (0,0,0)(0,1,0)[4] has sd growing with the number of whole seasons ahead', () => {
    const { normal } = rng(11);
    const y: number[] = [10, 20, 30, 15];
    for (let t = 4; t < 80; t++) y.push(y[t - 4] + normal());
    const fit = fitArima(y, { p: 0, d: 0, q: 0 }, { P: 0, D: 1, Q: 0 }, 4);
    const { mean, sd } = forecastArima(fit, 12);
    for (let h = 1; h <= 12; h++) {
      expect(mean[h - 1]).toBeCloseTo(y[80 - 4 + ((h - 1) % 4)], 10);
      expect(sd[h - 1]).toBeCloseTo(Math.sqrt(fit.sigma2 * Math.ceil(h / 4)), 10);
    }
  });

  it('reproduces R: arima(log(AirPassengers), c(0,1,1), seasonal = c(0,1,1))', () => {
    // R's output (also in Box, Jenkins & Reinsel's airline model): ma1 = -0.4018, sma1 = -0.5569,
    // σ² estimated as 0.001348 (= SS/131), log likelihood = 244.7, aic = -483.4.
    const fit = fitArima(
      AIR.map((v) => Math.log(v)),
      { p: 0, d: 1, q: 1 },
      { P: 0, D: 1, Q: 1 },
      12,
    );
    expect(fit.coefficients.ma[0]).toBeCloseTo(-0.4018, 3);
    expect(fit.coefficients.sma[0]).toBeCloseTo(-0.5569, 3);
    expect(fit.loglik).toBeCloseTo(244.7, 1);
    expect(fit.aic).toBeCloseTo(-483.4, 1);
    expect(fit.nobs).toBe(131);
    // Our σ² follows forecast's unbiased convention SS/(N − npar + 1) = SS/129.
    expect((fit.sigma2 * 129) / 131).toBeCloseTo(0.001348, 5);
  });

  it('reproduces R: Arima(AirPassengers, c(2,1,1), seasonal = c(0,1,0))', () => {
    // forecast's documented output: ar1 0.5960, ar2 0.2143, ma1 -0.9819, log likelihood -504.92,
    // AIC 1017.85, AICc 1018.17.
    const fit = fitArima(AIR, { p: 2, d: 1, q: 1 }, { P: 0, D: 1, Q: 0 }, 12);
    expect(fit.coefficients.ar[0]).toBeCloseTo(0.596, 3);
    expect(fit.coefficients.ar[1]).toBeCloseTo(0.2143, 3);
    expect(fit.coefficients.ma[0]).toBeCloseTo(-0.9819, 3);
    expect(fit.loglik).toBeCloseTo(-504.92, 2);
    expect(fit.aicc).toBeCloseTo(1018.17, 2);
  });

  it('throws InsufficientDataError when the series is too short for the model', () => {
    expect(() => fitArima([1, 2], { p: 0, d: 2, q: 0 })).toThrow(InsufficientDataError);
    expect(() => fitArima([1, 2, 3, 4], { p: 3, d: 1, q: 0 })).toThrow(InsufficientDataError);
  });
});

describe('ARIMA order selection (auto.arima)', () => {
  it('selects the airline model for log(AirPassengers) and ARIMA(2,1,1)(0,1,0)[12] for the raw series', () => {
    // auto.arima's choices with its defaults for n = 144 ≤ 150, m = 12 (exact-likelihood search):
    // the Box–Jenkins airline model on the logs; ARIMA(2,1,1)(0,1,0)[12] (AICc 1018.17) on the raw data,
    // as printed by recent versions of forecast.
    const logged = autoArimaFit(
      AIR.map((v) => Math.log(v)),
      12,
      { approximation: false },
    ).fit;
    expect(logged.model).toBe('ARIMA(0,1,1)(0,1,1)[12]');
    const raw = autoArimaFit(AIR, 12, { approximation: false }).fit;
    expect(raw.model).toBe('ARIMA(2,1,1)(0,1,0)[12]');
    expect(raw.aicc).toBeCloseTo(1018.17, 1);
    // The default (CSS search for n·m > 300) keeps the differencing orders.
    const fast = autoArimaFit(AIR, 12).fit;
    expect([fast.order.d, fast.seasonalOrder.D]).toEqual([1, 1]);
  });

  it('chooses D = 1 for AirPassengers (seasonal strength > 0.64) and d = 1 after that', () => {
    expect(seasonalStrength(AIR, 12)).toBeGreaterThan(0.64);
    expect(nsdiffs(AIR, 12)).toBe(1);
    const seasonallyDifferenced = AIR.slice(12).map((v, i) => v - AIR[i]);
    expect(ndiffs(seasonallyDifferenced)).toBe(1);
  });

  it('finds d = 1 for a random walk and d = 0 for white noise', () => {
    expect(ndiffs(randomWalk(300, 5))).toBe(1);
    const { normal } = rng(9);
    expect(ndiffs(Array.from({ length: 300 }, () => normal()))).toBe(0);
    const fit = autoArimaFit(randomWalk(300, 5), 1).fit;
    expect(fit.order.d).toBe(1);
  });

  it('detects a seasonal unit root in a simulated ARIMA(0,1,1)(0,1,1)[12]', () => {
    const { normal } = rng(21);
    const e = Array.from({ length: 160 }, () => normal());
    const w = e.map((v, t) => v - 0.4 * (e[t - 1] ?? 0) - 0.6 * (e[t - 12] ?? 0) + 0.24 * (e[t - 13] ?? 0));
    const y: number[] = [];
    for (let t = 0; t < w.length; t++) {
      const a = t >= 1 ? y[t - 1] : 0;
      const b = t >= 12 ? y[t - 12] : 0;
      const c = t >= 13 ? y[t - 13] : 0;
      y.push(w[t] + a + b - c + 10 * Math.sin((2 * Math.PI * t) / 12));
    }
    const fit = autoArimaFit(y.slice(20), 12).fit;
    expect(fit.seasonalOrder.D).toBe(1);
    expect(fit.model).toMatch(/^ARIMA\(\d,\d,\d\)\(\d,1,\d\)\[12\]/);
  });
});

describe('unit-root tests and decomposition', () => {
  it('KPSS statistic equals hand-computed values', () => {
    // y = 1..10, lags ⌊3√10/13⌋ = 0: the partial sums of the deviations −4.5..4.5 are −4.5, −8, −10.5,
    // −12, −12.5, −12, −10.5, −8, −4.5, 0, so ΣS² = 833.25; σ̂² = 82.5/10; η = 833.25/100/8.25 = 1.01.
    expect(kpssStatistic([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toBeCloseTo(1.01, 12);
    // ±1 alternating, n = 8, one lag: ΣS² = 4, lag-1 autocovariance sum −7 with Bartlett weight 1/2:
    // denominator 1 + (2/8)(−3.5) = 0.125, so η = (4/64)/0.125 = 0.5.
    expect(kpssStatistic([1, -1, 1, -1, 1, -1, 1, -1], 1)).toBeCloseTo(0.5, 12);
  });

  it('KPSS p-values interpolate the Kwiatkowski et al. (1992) table, clamped to [0.01, 0.1]', () => {
    expect(kpssPValue(0.2)).toBe(0.1);
    expect(kpssPValue(0.347)).toBeCloseTo(0.1, 12);
    expect(kpssPValue(0.463)).toBeCloseTo(0.05, 12);
    expect(kpssPValue((0.463 + 0.574) / 2)).toBeCloseTo(0.0375, 12);
    expect(kpssPValue(0.739)).toBeCloseTo(0.01, 12);
    expect(kpssPValue(5)).toBe(0.01);
  });

  it('STL reproduces the reference Fortran implementation on the CO2 series', () => {
    // Expected values: netlib stl (stlez, non-robust: ns = 35, degree 1, nt = 19, nl = 13, jumps
    // 4/2/2, two inner passes) on these 348 values, as tabulated in statsmodels' STL test results.
    const fit = stl(CO2, 12, {
      seasonalWindow: 35,
      seasonalDegree: 1,
      trendWindow: 19,
      trendDegree: 1,
      lowPassWindow: 13,
      inner: 2,
    });
    const expected: Array<[number, number, number]> = [
      [0, -0.10538205005252366, 315.53927465710586],
      [1, 0.51348716437112041, 315.63588232635198],
      [9, -2.9244761018013006, 316.41598225875362],
      [100, 2.8136514088613889, 321.75475281395001],
      [141, -3.1195012685396901, 325.8227457454239],
    ];
    for (const [i, seasonal, trend] of expected) {
      expect(fit.seasonal[i]).toBeCloseTo(seasonal, 9);
      expect(fit.trend[i]).toBeCloseTo(trend, 9);
    }
    for (let i = 0; i < CO2.length; i++) {
      expect(fit.seasonal[i] + fit.trend[i] + fit.remainder[i]).toBeCloseTo(CO2[i], 9);
    }
  });

  it('seasonal strength separates a clean cycle from noise; nsdiffs needs more than two periods', () => {
    const pattern = [3, -1, -4, 2];
    const cyc = Array.from({ length: 40 }, (_, t) => 0.5 * t + 10 + pattern[t % 4]);
    expect(seasonalStrength(cyc, 4)).toBeGreaterThan(0.99);
    expect(nsdiffs(cyc, 4)).toBe(1);
    const { normal } = rng(4);
    const noise = Array.from({ length: 60 }, () => normal());
    expect(seasonalStrength(noise, 12)).toBeLessThan(0.64);
    expect(nsdiffs(noise, 12)).toBe(0);
    expect(nsdiffs(cyc.slice(0, 8), 4)).toBe(0);
    expect(Number.isNaN(seasonalStrength(cyc.slice(0, 8), 4))).toBe(true);
  });

  it('isConstant uses a relative tolerance', () => {
    expect(isConstant([5, 5, 5 + 1e-12])).toBe(true);
    expect(isConstant([5, 5, 5.001])).toBe(false);
    expect(isConstant([0, 0, 0])).toBe(true);
    expect(isConstant([1e-13, 2e-13, 3e-13])).toBe(false);
    // Rounding noise relative to the undifferenced data's scale counts as constant.
    expect(isConstant([1e-4, -1e-4, 0], 1e12)).toBe(true);
  });
});

describe('ARIMA numerical core', () => {
  it('autocovariances match the closed forms of AR(1), MA(1) and ARMA(1,1)', () => {
    const out = new Float64Array(4);
    expect(armaAutocovariance([0.7], [], 3, out)).toBe(true);
    [1, 0.7, 0.49, 0.343].forEach((r, k) => expect(out[k]).toBeCloseTo(r / (1 - 0.49), 12));
    expect(armaAutocovariance([], [0.4], 3, out)).toBe(true);
    expect(Array.from(out)).toEqual([1.16, 0.4, 0, 0].map((v) => expect.closeTo(v, 12) as number));
    // Brockwell & Davis, example 3.2.1: γ(0) = (1 + 2φθ + θ²)/(1 − φ²), γ(1) = (1 + φθ)(φ + θ)/(1 − φ²).
    const phi = 0.5;
    const theta = 0.3;
    expect(armaAutocovariance([phi], [theta], 3, out)).toBe(true);
    expect(out[0]).toBeCloseTo((1 + 2 * phi * theta + theta ** 2) / (1 - phi ** 2), 12);
    expect(out[1]).toBeCloseTo(((1 + phi * theta) * (phi + theta)) / (1 - phi ** 2), 12);
    expect(out[2]).toBeCloseTo(phi * out[1], 12);
    expect(armaAutocovariance([1.1], [], 2, out)).toBe(false);
  });

  it('the O(r) Kalman filter gives the exact Gaussian likelihood of a seasonal ARMA', () => {
    // Direct evaluation: w ~ N(0, Γ) with Γ_ij = γ(|i−j|); ssq = w'Γ⁻¹w and Σ log F = log det Γ
    // (Cholesky), for (1 − 0.5B)(1 − 0.3B⁴) w = (1 + 0.4B)(1 − 0.5B⁴) e.
    const phiFull = expandAr([0.5], [0.3], 4);
    const thetaFull = expandMa([0.4], [-0.5], 4);
    const n = 40;
    const { normal } = rng(5);
    const w = Float64Array.from({ length: n }, () => normal());
    const r = Math.max(phiFull.length, thetaFull.length + 1);
    const ws = new KalmanWorkspace(r);
    ws.load(phiFull);
    expect(stationaryFirstColumn(phiFull, thetaFull, r, ws.P0col)).toBe(true);
    const res = kalmanLikelihood(w, ws, null);
    const gamma = new Float64Array(n);
    armaAutocovariance(phiFull, thetaFull, n - 1, gamma);
    const L = new Float64Array(n * n);
    let logDet = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        let s = gamma[i - j];
        for (let k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
        if (i === j) {
          L[i * n + i] = Math.sqrt(s);
          logDet += 2 * Math.log(L[i * n + i]);
        } else L[i * n + j] = s / L[j * n + j];
      }
    }
    const z = new Float64Array(n);
    let quad = 0;
    for (let i = 0; i < n; i++) {
      let s = w[i];
      for (let k = 0; k < i; k++) s -= L[i * n + k] * z[k];
      z[i] = s / L[i * n + i];
      quad += z[i] * z[i];
    }
    expect(res).not.toBeNull();
    expect(res?.ssq).toBeCloseTo(quad, 9);
    expect(res?.sumLog).toBeCloseTo(logDet, 9);
  });

  it('stationarity / invertibility checks and MA root reflection', () => {
    // AR(2) stationarity triangle: φ1 + φ2 < 1, φ2 − φ1 < 1, |φ2| < 1.
    expect(rootsOutside([0.5, 0.3])).toBe(true);
    expect(rootsOutside([0.5, 0.6])).toBe(false);
    expect(rootsOutside([-0.5, -1.1])).toBe(false);
    expect(rootsOutside([0.995])).toBe(true);
    expect(rootsOutside([0.995], 1.01)).toBe(false);
    // 1 − 2.5z + z² = (1 − 2z)(1 − z/2): the root 1/2 is reflected to 2, giving (1 − z/2)².
    const inv = maInvert([-2.5, 1]);
    expect(inv[0]).toBeCloseTo(-1, 10);
    expect(inv[1]).toBeCloseTo(0.25, 10);
    expect(maInvert([2])).toEqual([0.5]);
    expect(maInvert([0.3])).toEqual([0.3]);
    // Psi-weights of (1 − 0.5B)x = (1 + 0.4B)e: ψ_j = 0.9·0.5^{j−1}.
    const psi = psiWeights([0.5], [0.4], 4);
    expect(Array.from(psi)).toEqual([1, 0.9, 0.45, 0.225].map((v) => expect.closeTo(v, 12) as number));
  });
});

describe('autoArima engine', () => {
  it('returns finite forecasts and non-decreasing positive sd for horizons 1 and 1000', () => {
    const series = [AIR, randomWalk(120, 8), AIR.map((v) => Math.log(v))];
    for (const y of series) {
      for (const [h, m] of [
        [1, 12],
        [1000, 12],
        [24, 1],
      ]) {
        const f = autoArima(y, h, { seasonLength: m });
        expect(f.mean).toHaveLength(h);
        expect(f.sd).toHaveLength(h);
        expect(f.mean.every(Number.isFinite)).toBe(true);
        expect(f.sd.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
        expectNonDecreasing(f.sd);
        expect(f.model).toMatch(/^ARIMA\(\d,\d,\d\)/);
      }
    }
  });

  it('is deterministic', () => {
    const y = randomWalk(150, 12).map((v, t) => v + 5 * Math.sin((2 * Math.PI * t) / 7));
    const a = autoArima(y, 14, { seasonLength: 7 });
    const b = autoArima(y, 14, { seasonLength: 7 });
    expect(b).toEqual(a);
  });

  it('is equivariant to scaling (1e12) and sign', () => {
    const y = AIR.slice(0, 96);
    const base = autoArima(y, 12, { seasonLength: 12 });
    const big = autoArima(
      y.map((v) => v * 1e12),
      12,
      { seasonLength: 12 },
    );
    const negative = autoArima(
      y.map((v) => -v),
      12,
      { seasonLength: 12 },
    );
    expect(big.model).toBe(base.model);
    expect(negative.model).toBe(base.model);
    base.mean.forEach((v, i) => {
      expect(big.mean[i] / 1e12).toBeCloseTo(v, 6);
      expect(-negative.mean[i]).toBeCloseTo(v, 6);
      expect(big.sd[i] / 1e12).toBeCloseTo(base.sd[i], 6);
    });
  });

  it('handles degenerate series', () => {
    expect(() => autoArima([5], 3, { seasonLength: 1 })).toThrow(InsufficientDataError);
    expect(() => autoArima([1, NaN, 3], 3, { seasonLength: 1 })).toThrow(InsufficientDataError);
    // Constant and all-zero data: the value itself, no spread (auto.arima's fixed-mean model).
    const constant = autoArima(new Array<number>(30).fill(42), 5, { seasonLength: 12 });
    expect(constant.model).toBe('ARIMA(0,0,0) with non-zero mean');
    expect(constant.mean).toEqual(new Array<number>(5).fill(42));
    expect(constant.sd).toEqual(new Array<number>(5).fill(0));
    expect(autoArima(new Array<number>(10).fill(0), 2, { seasonLength: 1 }).mean).toEqual([0, 0]);
    // Two and three observations still get a model.
    for (const y of [
      [5, 7],
      [5, 7, 6],
    ]) {
      const f = autoArima(y, 4, { seasonLength: 12 });
      expect(f.mean.every(Number.isFinite)).toBe(true);
      expect(f.sd.every((v) => v > 0)).toBe(true);
    }
    // Exactly linear data: drift model, the line continued.
    const line = autoArima(
      Array.from({ length: 20 }, (_, t) => 3 - 2 * t),
      3,
      { seasonLength: 1 },
    );
    expect(line.model).toBe('ARIMA(0,1,0) with drift');
    line.mean.forEach((v, i) => expect(v).toBeCloseTo(3 - 2 * (20 + i), 8));
    // Exactly periodic data: the last season repeated.
    const periodic = autoArima(
      Array.from({ length: 24 }, (_, t) => [1, 5, 3, 8][t % 4]),
      8,
      { seasonLength: 4 },
    );
    periodic.mean.forEach((v, i) => expect(v).toBeCloseTo([1, 5, 3, 8][i % 4], 8));
    // Negative values and a non-integer / invalid period.
    const negative = autoArima(
      randomWalk(60, 2).map((v) => v - 500),
      6,
      { seasonLength: 0 },
    );
    expect(negative.mean.every((v) => Number.isFinite(v) && v < 0)).toBe(true);
    expect(autoArima(randomWalk(60, 2), 3, { seasonLength: Number.NaN }).model).toMatch(/^ARIMA\(\d,\d,\d\)/);
  });
});
