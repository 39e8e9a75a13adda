import { InsufficientDataError, type Engine } from '../../src/forecasting/engines/types';
import { mstl, stl } from '../../src/forecasting/engines/mstl';
import { fitHarmonics, harmonicDecomposition, harmonicSeries } from '../../src/forecasting/engines/fourier';
import {
  boxCox,
  combineEngines,
  createMultiSeasonal,
  createMultiSeasonalEngine,
  createSeasonalNaiveEngine,
  createValidatedEngine,
  dampedTrendEngine,
  decomposeSeasonal,
  forecastDecomposition,
  driftEngine,
  guerreroLambda,
  inverseBoxCox,
  multiSeasonal,
  refinePeriod,
  seasonalPeriodsFor,
  sesEngine,
  thetaEngine,
} from '../../src/forecasting/engines/multiseasonal';

/**
 * Monthly Mauna Loa CO2 concentrations 1959–1987 (R's `datasets::co2`, first 348 values; public NOAA data),
 * the series the reference STL test results below were computed on.
 */
const CO2 = [
  315.58, 316.39, 316.79, 317.82, 318.39, 318.22, 316.68, 315.01, 314.02, 313.55, 315.02, 315.75, 316.52, 317.1, 317.79,
  319.22, 320.08, 319.7, 318.27, 315.99, 314.24, 314.05, 315.05, 316.23, 316.92, 317.76, 318.54, 319.49, 320.64, 319.85,
  318.7, 316.96, 315.17, 315.47, 316.19, 317.17, 318.12, 318.72, 319.79, 320.68, 321.28, 320.89, 319.79, 317.56, 316.46,
  315.59, 316.85, 317.87, 318.87, 319.25, 320.13, 321.49, 322.34, 321.62, 319.85, 317.87, 316.36, 316.24, 317.13,
  318.46, 319.57, 320.23, 320.89, 321.54, 322.2, 321.9, 320.42, 318.6, 316.73, 317.15, 317.94, 318.91, 319.73, 320.78,
  321.23, 322.49, 322.59, 322.35, 321.61, 319.24, 318.23, 317.76, 319.36, 319.5, 320.35, 321.4, 322.22, 323.45, 323.8,
  323.5, 322.16, 320.09, 318.26, 317.66, 319.47, 320.7, 322.06, 322.23, 322.78, 324.1, 324.63, 323.79, 322.34, 320.73,
  319, 318.99, 320.41, 321.68, 322.3, 322.89, 323.59, 324.65, 325.3, 325.15, 323.88, 321.8, 319.99, 319.86, 320.88,
  322.36, 323.59, 324.23, 325.34, 326.33, 327.03, 326.24, 325.39, 323.16, 321.87, 321.31, 322.34, 323.74, 324.61,
  325.58, 326.55, 327.81, 327.82, 327.53, 326.29, 324.66, 323.12, 323.09, 324.01, 325.1, 326.12, 326.62, 327.16, 327.94,
  329.15, 328.79, 327.53, 325.65, 323.6, 323.78, 325.13, 326.26, 326.93, 327.84, 327.96, 329.93, 330.25, 329.24, 328.13,
  326.42, 324.97, 325.29, 326.56, 327.73, 328.73, 329.7, 330.46, 331.7, 332.66, 332.22, 331.02, 329.39, 327.58, 327.27,
  328.3, 328.81, 329.44, 330.89, 331.62, 332.85, 333.29, 332.44, 331.35, 329.58, 327.58, 327.55, 328.56, 329.73, 330.45,
  330.98, 331.63, 332.88, 333.63, 333.53, 331.9, 330.08, 328.59, 328.31, 329.44, 330.64, 331.62, 332.45, 333.36, 334.46,
  334.84, 334.29, 333.04, 330.88, 329.23, 328.83, 330.18, 331.5, 332.8, 333.22, 334.54, 335.82, 336.45, 335.97, 334.65,
  332.4, 331.28, 330.73, 332.05, 333.54, 334.65, 335.06, 336.32, 337.39, 337.66, 337.56, 336.24, 334.39, 332.43, 332.22,
  333.61, 334.78, 335.88, 336.43, 337.61, 338.53, 339.06, 338.92, 337.39, 335.72, 333.64, 333.65, 335.07, 336.53,
  337.82, 338.19, 339.89, 340.56, 341.22, 340.92, 339.26, 337.27, 335.66, 335.54, 336.71, 337.79, 338.79, 340.06,
  340.93, 342.02, 342.65, 341.8, 340.01, 337.94, 336.17, 336.28, 337.76, 339.05, 340.18, 341.04, 342.16, 343.01, 343.64,
  342.91, 341.72, 339.52, 337.75, 337.68, 339.14, 340.37, 341.32, 342.45, 343.05, 344.91, 345.77, 345.3, 343.98, 342.41,
  339.89, 340.03, 341.19, 342.87, 343.74, 344.55, 345.28, 347, 347.37, 346.74, 345.36, 343.19, 340.97, 341.2, 342.76,
  343.96, 344.82, 345.82, 347.24, 348.09, 348.66, 347.9, 346.27, 344.21, 342.88, 342.58, 343.99, 345.31, 345.98, 346.72,
  347.63, 349.24, 349.83, 349.1, 347.52, 345.43, 344.48, 343.89, 345.29, 346.54, 347.66, 348.07, 349.12, 350.55, 351.34,
  350.8, 349.1, 347.54, 346.2, 346.2, 347.44, 348.67,
];

const TAU = 2 * Math.PI;
const hourly = (t: number): number => 100 + 0.05 * t + 10 * Math.sin((TAU * t) / 24) + 5 * Math.cos((TAU * t) / 168);
const series = (n: number, f: (t: number) => number): number[] => Array.from({ length: n }, (_, t) => f(t));
const maxAbsError = (forecast: readonly number[], truth: (i: number) => number): number =>
  Math.max(...forecast.map((v, i) => Math.abs(v - truth(i))));

/** A deterministic pseudo-random normal stream (LCG + Box–Muller) for noisy fixtures. */
function noise(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(TAU * uniform());
}

function expectValidForecast(engine: Engine, y: number[], horizon: number, seasonLength: number): void {
  const f = engine(y, horizon, { seasonLength });
  expect(f.mean).toHaveLength(horizon);
  expect(f.sd).toHaveLength(horizon);
  for (const v of [...f.mean, ...f.sd]) expect(Number.isFinite(v)).toBe(true);
  for (const s of f.sd) expect(s).toBeGreaterThan(0);
}

describe('stl', () => {
  it('reproduces the reference Fortran STL on co2 (robust, degree-1 seasonal, 2 outer iterations)', () => {
    // Expected values: statsmodels' tsa/tests/results/stl_test_results.csv, scenario "baseline", produced by
    // the netlib Fortran stl with np=12, ns=35, nt=19, nl=13, isdeg=itdeg=ildeg=1, jumps 4/2/2, ni=1, no=2.
    const fit = stl(CO2, 12, {
      seasonalWindow: 35,
      seasonalDegree: 1,
      trendWindow: 19,
      lowPassWindow: 13,
      inner: 1,
      outer: 2,
    });
    const expected: [number, number, number, number][] = [
      [0, -0.13125464336066284, 315.5519397253235, 0.94748803176461716],
      [93, -3.0192920742255533, 321.38591076938843, 0.18203278005122117],
      [108, -0.096571428364680162, 322.30861264109046, 0.98461478046216344],
      [147, 2.3800185233733959, 326.32393967871712, 0.10460030870706755],
      [347, -0.94898196289088432, 349.70269160292088, 0.98071842215379312],
    ];
    for (const [i, season, trend, weight] of expected) {
      expect(fit.seasonal[i]).toBeCloseTo(season, 9);
      expect(fit.trend[i]).toBeCloseTo(trend, 9);
      expect(fit.weights[i]).toBeCloseTo(weight, 9);
      expect(fit.remainder[i]).toBeCloseTo(CO2[i] - season - trend, 9);
    }
  });

  it('recovers a known trend and seasonal pattern', () => {
    const pattern = [3, 1, -2, -4, -1, 0, 2, 5, 1, -3, -2, 0];
    const y = series(240, (t) => 50 + 0.2 * t + pattern[t % 12]);
    for (const seasonalWindow of ['periodic', 7] as const) {
      // R's default two inner passes get close; more passes converge to the exact split.
      const [rough, converged] = [2, 6].map((inner) => stl(y, 12, { seasonalWindow, inner }));
      for (let t = 24; t < 216; t++) {
        expect(Math.abs(rough.seasonal[t] - pattern[t % 12])).toBeLessThan(0.1);
        expect(Math.abs(rough.trend[t] - 50 - 0.2 * t)).toBeLessThan(0.01);
        expect(Math.abs(converged.seasonal[t] - pattern[t % 12])).toBeLessThan(1e-3);
        expect(Math.abs(converged.trend[t] - 50 - 0.2 * t)).toBeLessThan(1e-3);
      }
    }
    // A periodic fit is exactly periodic.
    const periodic = stl(y, 12);
    for (let t = 12; t < 240; t++) expect(periodic.seasonal[t]).toBeCloseTo(periodic.seasonal[t - 12], 12);
  });

  it('rejects periods it cannot fit', () => {
    expect(() =>
      stl(
        series(24, (t) => t),
        12,
      ),
    ).toThrow(RangeError);
    expect(() =>
      stl(
        series(100, (t) => t),
        1,
      ),
    ).toThrow(RangeError);
    expect(() =>
      stl(
        series(100, (t) => t),
        7.5,
      ),
    ).toThrow(RangeError);
  });
});

describe('mstl', () => {
  it('splits a sum of a 24- and a 168-step cycle plus a trend', () => {
    const n = 168 * 6;
    const y = series(n, hourly);
    const dec = mstl(y, [168, 24]);
    expect(dec.periods).toEqual([24, 168]);
    for (let t = 168; t < n - 168; t++) {
      const seasonal = dec.seasonals[0][t] + dec.seasonals[1][t];
      const truth = 10 * Math.sin((TAU * t) / 24) + 5 * Math.cos((TAU * t) / 168);
      // STL's few backfitting passes leave ~10 % of the weekly amplitude in the trend window.
      expect(Math.abs(seasonal - truth)).toBeLessThan(0.6);
      expect(Math.abs(dec.trend[t] - 100 - 0.05 * t)).toBeLessThan(0.05);
      expect(dec.trend[t] + seasonal + dec.remainder[t]).toBeCloseTo(y[t], 9);
    }
  });

  it('drops periods without more than two cycles', () => {
    const dec = mstl(series(300, hourly), [24, 168]);
    expect(dec.periods).toEqual([24]);
    expect(dec.seasonals).toHaveLength(1);
  });
});

describe('harmonic regression', () => {
  const period = 365.25 / 7;
  const yearly = (t: number): number => 20 * Math.sin((TAU * t) / period) + 8 * Math.cos((2 * TAU * t) / period);

  it('recovers a non-integer period pattern and chooses the number of harmonics by AICc', () => {
    const next = noise(7);
    const y = series(520, (t) => 1000 + 0.5 * t + yearly(t) + 0.5 * next());
    const dec = harmonicDecomposition(y, [period]);
    expect(dec.fits).toHaveLength(1);
    expect(dec.fits[0].harmonics).toBeGreaterThanOrEqual(2);
    expect(dec.fits[0].harmonics).toBeLessThanOrEqual(4);
    for (let t = 0; t < 520; t++) expect(Math.abs(dec.seasonal[t] - yearly(t))).toBeLessThan(1);
    const future = harmonicSeries(dec.fits[0], 520, 104);
    future.forEach((v, i) => expect(Math.abs(v - yearly(520 + i))).toBeLessThan(1));
  });

  it('matches an exact fit on noise-free data and allows no seasonality', () => {
    const z = series(300, yearly);
    const fit = fitHarmonics(z, period, 0, 300, 10, 2);
    expect(fit?.harmonics).toBe(2);
    expect(fit?.coefficients[0]).toBeCloseTo(20, 8);
    expect(fit?.coefficients[3]).toBeCloseTo(8, 8);
    const next = noise(3);
    const white = series(300, () => next());
    expect(fitHarmonics(white, period, 0, 300, 10, undefined, true)).toBeNull();
  });
});

describe('seasonalPeriodsFor', () => {
  it('derives the periods from the season length or the frequency hint', () => {
    expect(seasonalPeriodsFor(24, 960)).toEqual([24, 168]);
    expect(seasonalPeriodsFor(24, 300)).toEqual([24]);
    expect(seasonalPeriodsFor(24, 40)).toEqual([]);
    expect(seasonalPeriodsFor(1, 500, 'weekly')).toEqual([365.25 / 7]);
    expect(seasonalPeriodsFor(52, 500)).toEqual([365.25 / 7]);
    expect(seasonalPeriodsFor(1, 100, 'weekly')).toEqual([]);
    expect(seasonalPeriodsFor(7, 1000)).toEqual([7, 365.25]);
    expect(seasonalPeriodsFor(48, 2000, 'half-hourly')).toEqual([48, 336]);
    expect(seasonalPeriodsFor(12, 100)).toEqual([12]);
    expect(seasonalPeriodsFor(1, 100)).toEqual([]);
  });
});

describe('refinePeriod', () => {
  it('finds a 23-step cycle in data labelled with a 24-step day and keeps a true 24-step day', () => {
    expect(
      refinePeriod(
        series(700, (t) => 50 + 10 * Math.sin((TAU * t) / 23)),
        24,
      ),
    ).toBe(23);
    expect(
      refinePeriod(
        series(700, (t) => 50 + 10 * Math.sin((TAU * t) / 25)),
        24,
      ),
    ).toBe(25);
    expect(refinePeriod(series(700, hourly), 24)).toBe(24);
    expect(refinePeriod([1, 2, 3], 24)).toBe(24);
  });
});

describe('Box–Cox', () => {
  it('round-trips and picks λ by Guerrero', () => {
    for (const lambda of [0, 0.3, 1]) expect(inverseBoxCox(boxCox(42, lambda), lambda)).toBeCloseTo(42, 10);
    expect(inverseBoxCox(-10, 0.5)).toBe(0);
    // Spread proportional to the level → log; constant spread → no transform.
    const multiplicative = series(240, (t) => (10 + t) * (1 + 0.3 * Math.sin((TAU * t) / 12)));
    const additive = series(240, (t) => 100 + t + 5 * Math.sin((TAU * t) / 12));
    expect(guerreroLambda(multiplicative, 12)).toBeLessThan(0.1);
    expect(guerreroLambda(additive, 12)).toBeGreaterThan(0.9);
  });
});

describe('non-seasonal forecasters', () => {
  it('drift matches the hand-computed random walk with drift', () => {
    // y = 1, 2, 4: slope (4 − 1)/2 = 1.5; differences 1, 2 → residuals ∓0.5, σ² = 0.5/1.
    const f = driftEngine([1, 2, 4], 2, { seasonLength: 1 });
    expect(f.mean).toEqual([5.5, 7]);
    expect(f.sd[0]).toBeCloseTo(Math.sqrt(0.5 * 1 * (1 + 1 / 2)), 12);
    expect(f.sd[1]).toBeCloseTo(Math.sqrt(0.5 * 2 * (1 + 2 / 2)), 12);
  });

  it('SES reaches the least-squares optimum over α and the initial level', () => {
    const next = noise(11);
    let level = 10;
    const y = series(60, () => (level += 0.5 * next()) + next());
    const f = sesEngine(y, 3, { seasonLength: 1 });
    // Brute force: for each α on a fine grid, the best initial level by least squares (errors are affine in it).
    let best = Infinity;
    let bestLevel = NaN;
    for (let a = 0.0001; a <= 0.9999; a += 0.0005) {
      const run = (l0: number): [number, number] => {
        let l = l0;
        let sse = 0;
        for (const v of y) {
          sse += (v - l) ** 2;
          l += a * (v - l);
        }
        return [sse, l];
      };
      // sse(l0) is quadratic: minimise from three evaluations.
      const [s0] = run(0);
      const [s1] = run(1);
      const [s2] = run(2);
      const curvature = s0 - 2 * s1 + s2;
      const l0 = 1 - (s2 - s0) / (2 * curvature);
      const [sse, last] = run(l0);
      if (sse < best) {
        best = sse;
        bestLevel = last;
      }
    }
    expect(f.mean[0]).toBeCloseTo(bestLevel, 2);
    expect(f.mean).toEqual([f.mean[0], f.mean[0], f.mean[0]]);
  });

  it('damped trend follows a clean linear trend and its sd grows', () => {
    const y = series(50, (t) => 3 + 2 * t);
    const f = dampedTrendEngine(y, 20, { seasonLength: 1 });
    expect(Math.abs(f.mean[0] - 103)).toBeLessThan(0.1);
    for (let h = 1; h < 20; h++) {
      expect(f.mean[h]).toBeGreaterThan(f.mean[h - 1]);
      expect(f.sd[h]).toBeGreaterThanOrEqual(f.sd[h - 1]);
    }
  });

  it('theta adds half the regression slope to SES', () => {
    // On an exact line SES tracks the data (α → 1, level = last value), so theta adds b/2 per step.
    const y = series(40, (t) => 5 + 3 * t);
    const f = thetaEngine(y, 3, { seasonLength: 1 });
    expect(f.mean[1] - f.mean[0]).toBeCloseTo(1.5, 6);
    expect(f.mean[0]).toBeGreaterThan(y[39]);
  });

  it('seasonal naive repeats the last cycle with stepwise growing sd', () => {
    const y = series(30, (t) => (t % 5) + (t > 20 ? 1 : 0));
    const f = createSeasonalNaiveEngine(5)(y, 12, { seasonLength: 5 });
    expect(f.mean).toEqual([...y.slice(25), ...y.slice(25), ...y.slice(25, 27)]);
    expect(f.sd[5]).toBeCloseTo(f.sd[0] * Math.SQRT2, 12);
    expect(() => createSeasonalNaiveEngine(24)(y, 3, { seasonLength: 24 })).toThrow(InsufficientDataError);
  });
});

describe('createMultiSeasonalEngine', () => {
  it('forecasts a sum of 24- and 168-step cycles plus a trend within a tight tolerance', () => {
    const n = 168 * 5;
    const y = series(n, hourly);
    const engine = createMultiSeasonalEngine({ periods: [24, 168], transform: 'none', adjusted: driftEngine });
    const f = engine(y, 1000, { seasonLength: 24 });
    expect(f.model).toBe('Decomposition(24,168)+Drift');
    // Level ≈ 142 and amplitude 15: within 1 over two days, 2.5 over 1000 steps.
    expect(maxAbsError(f.mean.slice(0, 48), (i) => hourly(n + i))).toBeLessThan(1);
    expect(maxAbsError(f.mean, (i) => hourly(n + i))).toBeLessThan(2.5);
  });

  it('forecasts a 52.18-week cycle by harmonic regression', () => {
    const period = 365.25 / 7;
    const truth = (t: number): number => 1000 + 2 * t + 100 * Math.sin((TAU * t) / period);
    const y = series(520, truth);
    const engine = createMultiSeasonalEngine({ frequency: 'weekly', adjusted: driftEngine, transform: 'none' });
    const f = engine(y, 104, { seasonLength: 1 });
    expect(f.model).toMatch(/^Decomposition\(52\.18:K\d+\)\+Drift$/);
    expect(maxAbsError(f.mean, (i) => truth(520 + i))).toBeLessThan(1);
  });

  it('combines integer and non-integer periods', () => {
    const truth = (t: number): number => 200 + 10 * Math.sin((TAU * t) / 7) + 20 * Math.cos((TAU * t) / 365.25);
    const y = series(1100, truth);
    const f = createMultiSeasonalEngine({ transform: 'none', adjusted: sesEngine })(y, 28, { seasonLength: 7 });
    expect(f.model).toMatch(/^Decomposition\(365\.25:K\d+,7\)\+SES$/);
    expect(maxAbsError(f.mean, (i) => truth(1100 + i))).toBeLessThan(1.5);
  });

  it('keeps the sd of the adjusted-series model, non-decreasing, through the log transform', () => {
    const next = noise(5);
    const y = series(168 * 4, (t) => Math.exp(3 + 0.3 * Math.sin((TAU * t) / 24) + 0.05 * next()));
    for (const adjusted of [sesEngine, thetaEngine, dampedTrendEngine, driftEngine]) {
      const f = createMultiSeasonalEngine({ periods: [24], transform: 'log', adjusted })(y, 72, { seasonLength: 24 });
      expect(f.model).toContain('λ=0.00');
      for (let h = 0; h < 72; h++) {
        expect(f.sd[h]).toBeGreaterThan(0);
        // sd = level × sd(log scale): the log-scale sd never shrinks.
        if (h > 0) expect(f.sd[h] / f.mean[h]).toBeGreaterThanOrEqual(f.sd[h - 1] / f.mean[h - 1] - 1e-12);
      }
    }
  });

  it('is decomposeSeasonal followed by forecastDecomposition', () => {
    const y = series(400, (t) => 20 + t / 50 + Math.sin((TAU * t) / 24));
    const dec = decomposeSeasonal(y, 30, 24, { periods: [24] });
    expect(dec.adjusted).toHaveLength(400);
    expect(dec.future).toHaveLength(30);
    expect(dec.lambda).toBeGreaterThanOrEqual(0);
    expect(dec.lambda).toBeLessThanOrEqual(1);
    const engine = createMultiSeasonalEngine({ periods: [24], adjusted: sesEngine });
    expect(forecastDecomposition(dec, sesEngine, 30)).toEqual(engine(y, 30, { seasonLength: 24 }));
  });

  it('throws InsufficientDataError without two full cycles', () => {
    const engine = createMultiSeasonalEngine();
    expect(() => engine([5], 3, { seasonLength: 24 })).toThrow(InsufficientDataError);
    expect(() => engine(series(48, hourly), 3, { seasonLength: 24 })).toThrow(InsufficientDataError);
    expect(() => engine(series(200, hourly), 3, { seasonLength: 1 })).toThrow(InsufficientDataError);
  });
});

describe('combination and validation', () => {
  const zero: Engine = (_y, horizon) => ({
    mean: new Array<number>(horizon).fill(0),
    sd: new Array<number>(horizon).fill(1),
    model: 'Zero',
  });

  it('averages the members', () => {
    const y = [1, 2, 4, 7, 11];
    const f = combineEngines([zero, driftEngine])(y, 2, { seasonLength: 1 });
    const d = driftEngine(y, 2, { seasonLength: 1 });
    expect(f.mean).toEqual([d.mean[0] / 2, d.mean[1] / 2]);
    expect(f.sd[0]).toBeCloseTo((1 + d.sd[0]) / 2, 12);
    expect(f.model).toBe('Mean(Zero; Drift)');
  });

  it('picks the candidate with the smallest validation error', () => {
    const y = series(200, (t) => 50 + 10 * Math.sin((TAU * t) / 10));
    const f = createValidatedEngine([zero, createSeasonalNaiveEngine(10)])(y, 10, { seasonLength: 10 });
    expect(f.model).toBe('Validated(SeasonalNaive(10))');
    // Failing candidates are skipped, and a series too short to validate uses the first that fits.
    const failing: Engine = () => {
      throw new InsufficientDataError('never fits');
    };
    expect(createValidatedEngine([failing, zero])([1, 2], 5, { seasonLength: 1 }).model).toBe('Validated(Zero)');
    expect(() => createValidatedEngine([failing])(y, 5, { seasonLength: 1 })).toThrow(InsufficientDataError);
  });
});

describe('multiSeasonal (recommended engines)', () => {
  it('forecasts hourly data with daily and weekly cycles', () => {
    const next = noise(1);
    const y = series(168 * 5, (t) => hourly(t) + 0.2 * next());
    const f = multiSeasonal(y, 48, { seasonLength: 24 });
    expect(f.model).toMatch(/^Validated\(/);
    expect(maxAbsError(f.mean, (i) => hourly(168 * 5 + i))).toBeLessThan(2.5);
  });

  it('follows the observed cycle of "hourly" data that repeats every 23 steps', () => {
    const truth = (t: number): number => 50 + 10 * Math.sin((TAU * t) / 23);
    const f = multiSeasonal(series(700, truth), 48, { seasonLength: 24 });
    expect(f.model).toContain('23');
    expect(maxAbsError(f.mean, (i) => truth(700 + i))).toBeLessThan(0.01);
  });

  it('forecasts weekly data with a yearly cycle and needs two years', () => {
    const period = 365.25 / 7;
    const truth = (t: number): number => 1000 + 2 * t + 100 * Math.sin((TAU * t) / period);
    const engine = createMultiSeasonal('weekly');
    const f = engine(series(520, truth), 13, { seasonLength: 1 });
    expect(f.model).toMatch(/^Mean\(Damped; Decomposition\(52\.18/);
    // The damped members under-extrapolate the exact trend a little.
    expect(maxAbsError(f.mean, (i) => truth(520 + i))).toBeLessThan(20);
    expect(multiSeasonal(series(520, truth), 13, { seasonLength: 52 }).model).toBe(f.model);
    expect(() => engine(series(100, truth), 13, { seasonLength: 1 })).toThrow(InsufficientDataError);
  });

  it('uses the plain decomposition for monthly data', () => {
    const truth = (t: number): number => 100 + t + 10 * Math.sin((TAU * t) / 12);
    const f = multiSeasonal(series(120, truth), 18, { seasonLength: 12 });
    expect(f.model).toMatch(/^Decomposition\(12(,λ=[\d.]+)?\)\+Theta$/);
    expect(createMultiSeasonal('monthly')(series(120, truth), 18, { seasonLength: 12 })).toEqual(f);
  });

  it('handles degenerate inputs without NaN', () => {
    expect(() => multiSeasonal([7], 5, { seasonLength: 24 })).toThrow(InsufficientDataError);
    expect(() => multiSeasonal(series(40, hourly), 5, { seasonLength: 24 })).toThrow(InsufficientDataError);
    expect(() => multiSeasonal(series(500, hourly), 5, { seasonLength: 1 })).toThrow(InsufficientDataError);

    const constant = new Array<number>(400).fill(42);
    const c = multiSeasonal(constant, 30, { seasonLength: 24 });
    c.mean.forEach((v) => expect(v).toBeCloseTo(42, 8));
    expectValidForecast(multiSeasonal, constant, 30, 24);

    const zeros = new Array<number>(400).fill(0);
    multiSeasonal(zeros, 10, { seasonLength: 24 }).mean.forEach((v) => expect(v).toBe(0));
    expectValidForecast(multiSeasonal, zeros, 10, 24);

    const huge = series(400, (t) => 1e12 * (1 + 0.1 * Math.sin((TAU * t) / 24)));
    const fh = multiSeasonal(huge, 24, { seasonLength: 24 });
    expect(maxAbsError(fh.mean, (i) => huge[376 + i]) / 1e12).toBeLessThan(1e-6);
    expectValidForecast(multiSeasonal, huge, 24, 24);

    const negative = series(400, (t) => -hourly(t));
    const fn = multiSeasonal(negative, 24, { seasonLength: 24 });
    expect(maxAbsError(fn.mean, (i) => -hourly(400 + i))).toBeLessThan(2.5);
    expectValidForecast(multiSeasonal, negative, 24, 24);

    const weekly = createMultiSeasonal('weekly');
    expectValidForecast(weekly, new Array<number>(300).fill(3), 13, 1);
    expectValidForecast(
      weekly,
      series(300, (t) => (t % 52 === 0 ? 0 : 5)),
      13,
      1,
    );
  });

  it('is deterministic and supports horizons 1 and 1000', () => {
    const next = noise(9);
    const y = series(168 * 4, (t) => hourly(t) + next());
    const a = multiSeasonal(y, 1000, { seasonLength: 24 });
    const b = multiSeasonal(y, 1000, { seasonLength: 24 });
    expect(a).toEqual(b);
    const one = multiSeasonal(y, 1, { seasonLength: 24 });
    expect(one.mean).toHaveLength(1);
    expectValidForecast(multiSeasonal, y, 1000, 24);
    expectValidForecast(
      createMultiSeasonal('weekly'),
      series(300, (t) => 10 + Math.sin(t / 8) + 0.1 * next()),
      1000,
      1,
    );
  });
});
