/**
 * Building blocks of the ETS (error, trend, season) exponential smoothing state space models of Hyndman,
 * Koehler, Ord & Snyder (2008), "Forecasting with Exponential Smoothing: the state space approach", in the
 * formulation of R's `forecast::ets`: the one-step recursion and its likelihood, the parameter space
 * (usual bounds and admissibility), the heuristic initial states, and the h-step forecast mean and
 * variance (analytic, classes 1–3 of the book).
 *
 * Seasonal states are kept indexed by season position: `seasonal[p]` is the factor of the observations
 * at 0-based times t with t % m === p (counted from the first observation), so no shifting is needed.
 */
import { classicalSeasonalIndices, linearTrend } from './math';

export type ErrorType = 'A' | 'M';
export type TrendType = 'N' | 'A';
export type SeasonType = 'N' | 'A' | 'M';

/** One member of the ETS family (multiplicative trends are not part of it, as in ets()'s default search). */
export interface EtsSpec {
  readonly error: ErrorType;
  readonly trend: TrendType;
  readonly damped: boolean;
  readonly season: SeasonType;
}

/** Smoothing parameters; beta, gamma and phi are ignored where the model has no such component. */
export interface EtsParams {
  readonly alpha: number;
  readonly beta: number;
  readonly gamma: number;
  readonly phi: number;
}

/** A state vector: level, slope and the m seasonal factors indexed by season position. */
export interface EtsState {
  readonly level: number;
  readonly slope: number;
  readonly seasonal: Float64Array;
}

/** Usual bounds of ets(): lower/upper limits of alpha, beta, gamma and phi. */
export const LOWER = [1e-4, 1e-4, 1e-4, 0.8] as const;
export const UPPER = [0.9999, 0.9999, 0.9999, 0.98] as const;

/** `ETS(M,Ad,N)`-style label. */
export function specLabel(spec: EtsSpec): string {
  return `ETS(${spec.error},${spec.trend}${spec.damped ? 'd' : ''},${spec.season})`;
}

/** Number of estimated quantities (smoothing parameters and free initial states), as ets() counts them. */
export function parameterCount(spec: EtsSpec, m: number): number {
  let count = 2; // alpha, l0
  if (spec.trend !== 'N') count += 2; // beta, b0
  if (spec.damped) count += 1; // phi
  if (spec.season !== 'N') count += m; // gamma, m - 1 free seasonal states
  return count;
}

const TOL = 1e-10;
const HUGE = 1e10;

/** Scratch space and results of one pass of the recursion. */
export interface Pass {
  /** ets()'s criterion: n·log(Σe²) (+ 2·Σ log|ŷ| for multiplicative errors); Infinity when undefined. */
  lik: number;
  /** Σe² of the one-step errors (relative errors for multiplicative-error models). */
  sse: number;
  level: number;
  slope: number;
  /** Σ log|ŷ_t| (used by multiplicative-error models). */
  logSum: number;
  /** Final seasonal factors by season position (length m). */
  readonly seasonal: Float64Array;
}

export function createPass(m: number): Pass {
  return { lik: Infinity, sse: Infinity, level: 0, slope: 0, logSum: 0, seasonal: new Float64Array(Math.max(1, m)) };
}

/**
 * Runs the state space recursion over y from the given initial state (etscalc of ets()), writing the final
 * state and the likelihood criterion into `out`. `residuals`, when given, receives the one-step errors.
 * Flags: error 1 = A, 2 = M; trend 0 = N, 1 = A; season 0 = N, 1 = A, 2 = M. The state update is the same
 * for both error types; only the criterion differs.
 */
export function runRecursion(
  y: Float64Array,
  m: number,
  error: number,
  trend: number,
  season: number,
  alpha: number,
  beta: number,
  gamma: number,
  phi: number,
  level0: number,
  slope0: number,
  seasonal0: Float64Array,
  out: Pass,
  residuals: Float64Array | null = null,
): number {
  const n = y.length;
  const multiplicativeError = error === 2;
  const phiEff = trend !== 0 ? phi : 0;
  const b0 = trend !== 0 ? slope0 : 0;
  // Σ log|ŷ| is accumulated as a running product, renormalised before it can overflow or underflow.
  let sse: number;
  if (season === 0) sse = passNonSeasonal(y, n, multiplicativeError, alpha, beta, phiEff, level0, b0, out, residuals);
  else {
    const s = out.seasonal;
    for (let p = 0; p < m; p++) s[p] = seasonal0[p];
    sse =
      season === 1
        ? passAdditiveSeason(y, n, m, multiplicativeError, alpha, beta, gamma, phiEff, level0, b0, out, residuals)
        : passMultiplicativeSeason(
            y,
            n,
            m,
            multiplicativeError,
            alpha,
            beta,
            gamma,
            phiEff,
            level0,
            b0,
            out,
            residuals,
          );
  }
  let lik = n * Math.log(sse);
  if (multiplicativeError) lik += 2 * out.logSum;
  if (Number.isNaN(lik)) lik = Infinity;
  else if (lik < -1e10) lik = -1e10; // a perfect fit
  out.sse = sse;
  out.lik = lik;
  return lik;
}

const PRODUCT_HIGH = 1e150;
const PRODUCT_LOW = 1e-150;

function passNonSeasonal(
  y: Float64Array,
  n: number,
  multiplicativeError: boolean,
  alpha: number,
  beta: number,
  phi: number,
  level0: number,
  slope0: number,
  out: Pass,
  residuals: Float64Array | null,
): number {
  let l = level0;
  let b = slope0;
  const betaRatio = beta / alpha;
  let sse = 0;
  let logSum = 0;
  let product = 1;
  for (let t = 0; t < n; t++) {
    const yt = y[t];
    const phib = phi * b;
    const f = l + phib;
    let e = yt - f;
    if (multiplicativeError) {
      e /= f;
      product *= Math.abs(f);
      if (product > PRODUCT_HIGH || product < PRODUCT_LOW) {
        logSum += Math.log(product);
        product = 1;
      }
    }
    if (residuals !== null) residuals[t] = e;
    sse += e * e;
    const lNew = f + alpha * (yt - f);
    b = phib + betaRatio * (lNew - l - phib);
    l = lNew;
  }
  out.level = l;
  out.slope = b;
  out.logSum = logSum + Math.log(product);
  return sse;
}

function passAdditiveSeason(
  y: Float64Array,
  n: number,
  m: number,
  multiplicativeError: boolean,
  alpha: number,
  beta: number,
  gamma: number,
  phi: number,
  level0: number,
  slope0: number,
  out: Pass,
  residuals: Float64Array | null,
): number {
  const s = out.seasonal;
  let l = level0;
  let b = slope0;
  const betaRatio = beta / alpha;
  let sse = 0;
  let logSum = 0;
  let product = 1;
  let pos = 0;
  for (let t = 0; t < n; t++) {
    const yt = y[t];
    const phib = phi * b;
    const q = l + phib;
    const sOld = s[pos];
    const f = q + sOld;
    let e = yt - f;
    if (multiplicativeError) {
      e /= f;
      product *= Math.abs(f);
      if (product > PRODUCT_HIGH || product < PRODUCT_LOW) {
        logSum += Math.log(product);
        product = 1;
      }
    }
    if (residuals !== null) residuals[t] = e;
    sse += e * e;
    const lNew = q + alpha * (yt - sOld - q);
    b = phib + betaRatio * (lNew - l - phib);
    s[pos] = sOld + gamma * (yt - q - sOld);
    if (++pos === m) pos = 0;
    l = lNew;
  }
  out.level = l;
  out.slope = b;
  out.logSum = logSum + Math.log(product);
  return sse;
}

function passMultiplicativeSeason(
  y: Float64Array,
  n: number,
  m: number,
  multiplicativeError: boolean,
  alpha: number,
  beta: number,
  gamma: number,
  phi: number,
  level0: number,
  slope0: number,
  out: Pass,
  residuals: Float64Array | null,
): number {
  const s = out.seasonal;
  let l = level0;
  let b = slope0;
  const betaRatio = beta / alpha;
  let sse = 0;
  let logSum = 0;
  let product = 1;
  let pos = 0;
  for (let t = 0; t < n; t++) {
    const yt = y[t];
    const phib = phi * b;
    const q = l + phib;
    const sOld = s[pos];
    const f = q * sOld;
    let e = yt - f;
    if (multiplicativeError) {
      e /= f;
      product *= Math.abs(f);
      if (product > PRODUCT_HIGH || product < PRODUCT_LOW) {
        logSum += Math.log(product);
        product = 1;
      }
    }
    if (residuals !== null) residuals[t] = e;
    sse += e * e;
    const p = Math.abs(sOld) < TOL ? HUGE : yt / sOld;
    const lNew = q + alpha * (p - q);
    b = phib + betaRatio * (lNew - l - phib);
    const target = Math.abs(q) < TOL ? HUGE : yt / q;
    s[pos] = sOld + gamma * (target - sOld);
    if (++pos === m) pos = 0;
    l = lNew;
  }
  out.level = l;
  out.slope = b;
  out.logSum = logSum + Math.log(product);
  return sse;
}

// ---------------------------------------------------------------------------------------------------------
// Parameter space

/** ets()'s "usual" bounds: lower ≤ alpha ≤ upper, lower ≤ beta ≤ alpha, lower ≤ gamma ≤ 1 − alpha, phi range. */
export function withinUsualBounds(spec: EtsSpec, alpha: number, beta: number, gamma: number, phi: number): boolean {
  if (!(alpha >= LOWER[0] && alpha <= UPPER[0])) return false;
  if (spec.trend !== 'N' && !(beta >= LOWER[1] && beta <= alpha && beta <= UPPER[1])) return false;
  if (spec.damped && !(phi >= LOWER[3] && phi <= UPPER[3])) return false;
  if (spec.season !== 'N' && !(gamma >= LOWER[2] && gamma <= 1 - alpha && gamma <= UPPER[2])) return false;
  return true;
}

/** Reusable buffers of the admissibility test for season length m. */
export interface RootScratch {
  readonly a: Float64Array;
  readonly b: Float64Array;
}

export function createRootScratch(m: number): RootScratch {
  return { a: new Float64Array(m + 2), b: new Float64Array(m + 2) };
}

/**
 * Whether every root of Σ coef[i]·z^i (degree d) lies strictly inside the unit circle: the Schur–Cohn
 * step-down recursion (|a₀| < |a_d|, then the same test on (a_d·A(z) − a₀·A*(z))/z).
 */
function rootsInsideUnitCircle(a: Float64Array, degree: number, b: Float64Array): boolean {
  let cur = a;
  let next = b;
  for (let d = degree; d >= 1; d--) {
    const lead = cur[d];
    const c0 = cur[0];
    if (!(Math.abs(c0) < Math.abs(lead))) return false;
    for (let i = 0; i < d; i++) next[i] = lead * cur[i + 1] - c0 * cur[d - 1 - i];
    const scale = next[d - 1];
    if (scale === 0 || !Number.isFinite(scale)) return false;
    for (let i = 0; i < d; i++) next[i] /= scale;
    const swap = cur;
    cur = next;
    next = swap;
  }
  return true;
}

/**
 * ets()'s admissibility region (Hyndman, Akram & Archibald 2008). For non-seasonal models it is implied by
 * the usual bounds; for seasonal models the roots of
 * z^{m+1} + (α+β−φ)z^m + (α+β−αφ)(z^{m−1}+…+z²) + (α+β−αφ+γ−1)z + φ(1−α−γ)
 * must lie in the closed unit disk. Without a trend (β = 0, φ = 1) z = 1 is always a root; it is divided out
 * exactly and the remaining roots must lie strictly inside.
 */
export function admissible(
  spec: EtsSpec,
  m: number,
  alpha: number,
  betaIn: number,
  gamma: number,
  phiIn: number,
  scratch: RootScratch,
): boolean {
  const phi = spec.damped ? phiIn : 1;
  if (phi < 0 || phi > 1 + 1e-8) return false;
  if (spec.season === 'N' || m <= 1) {
    if (alpha < 1 - 1 / phi || alpha > 1 + 1 / phi) return false;
    if (spec.trend !== 'N' && (betaIn < alpha * (phi - 1) || betaIn > (1 + phi) * (2 - alpha))) return false;
    return true;
  }
  const beta = spec.trend !== 'N' ? betaIn : 0;
  if (gamma < Math.max(1 - 1 / phi - alpha, 0) || gamma > 1 + 1 / phi - alpha) return false;
  if (alpha < 1 - 1 / phi - (gamma * (1 - m + phi + phi * m)) / (2 * phi * m)) return false;
  if (beta < -(1 - phi) * (gamma / m + alpha)) return false;
  const a = scratch.a;
  if (beta === 0 && phi === 1) {
    // (z − 1)·(z^m + α(z^{m−1} + … + z) + α + γ − 1)
    a[m] = 1;
    for (let i = 1; i < m; i++) a[i] = alpha;
    a[0] = alpha + gamma - 1;
    return rootsInsideUnitCircle(a, m, scratch.b);
  }
  a[m + 1] = 1;
  a[m] = alpha + beta - phi;
  for (let i = 2; i < m; i++) a[i] = alpha + beta - alpha * phi;
  a[1] = alpha + beta - alpha * phi + gamma - 1;
  a[0] = phi * (1 - alpha - gamma);
  return rootsInsideUnitCircle(a, m + 1, scratch.b);
}

// ---------------------------------------------------------------------------------------------------------
// Starting values

/** ets()'s starting smoothing parameters (initparam with the usual bounds). */
export function initialParams(spec: EtsSpec, m: number): EtsParams {
  const mm = spec.season === 'N' ? 1 : m;
  let alpha = LOWER[0] + (0.2 * (UPPER[0] - LOWER[0])) / mm;
  if (alpha > 1 || alpha < 0) alpha = LOWER[0] + 2e-3;
  let beta = 0;
  if (spec.trend !== 'N') {
    const upper = Math.min(UPPER[1], alpha);
    beta = LOWER[1] + 0.1 * (upper - LOWER[1]);
    if (beta < 0 || beta > alpha) beta = alpha - 1e-3;
  }
  let gamma = 0;
  if (spec.season !== 'N') {
    const upper = Math.min(UPPER[2], 1 - alpha);
    gamma = LOWER[2] + 0.05 * (upper - LOWER[2]);
    if (gamma < 0 || gamma > 1 - alpha) gamma = 1 - alpha - 1e-3;
  }
  let phi = 1;
  if (spec.damped) {
    phi = LOWER[3] + 0.99 * (UPPER[3] - LOWER[3]);
    if (phi < 0 || phi > 1) phi = UPPER[3] - 1e-3;
  }
  return { alpha, beta, gamma, phi };
}

/** Least squares of y on the given columns (normal equations, Gaussian elimination with pivoting). */
function leastSquares(columns: readonly Float64Array[], y: ArrayLike<number>): number[] {
  const k = columns.length;
  const n = y.length;
  const a: number[][] = [];
  for (let i = 0; i < k; i++) {
    const row = new Array<number>(k + 1).fill(0);
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += columns[i][t] * columns[j][t];
      row[j] = s;
    }
    let s = 0;
    for (let t = 0; t < n; t++) s += columns[i][t] * y[t];
    row[k] = s;
    a.push(row);
  }
  for (let c = 0; c < k; c++) {
    let pivot = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(a[r][c]) > Math.abs(a[pivot][c])) pivot = r;
    [a[c], a[pivot]] = [a[pivot], a[c]];
    const d = a[c][c];
    if (Math.abs(d) < 1e-300) continue;
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const factor = a[r][c] / d;
      if (factor === 0) continue;
      for (let j = c; j <= k; j++) a[r][j] -= factor * a[c][j];
    }
  }
  return a.map((row, i) => (Math.abs(row[i]) < 1e-300 ? 0 : row[k] / row[i]));
}

/**
 * ets()'s heuristic initial states (initstate): seasonal factors from a classical decomposition of the
 * series (a linear-trend-plus-one-harmonic regression when n < 3m), then level (and slope) from the mean
 * (a regression on t = 1..k) of the first k = max(10, 2m) seasonally adjusted values.
 */
export function initialState(y: ArrayLike<number>, spec: EtsSpec, m: number): EtsState {
  const n = y.length;
  const seasonal = new Float64Array(Math.max(1, m));
  let adjusted: ArrayLike<number> = y;
  let period = 1;
  if (spec.season !== 'N') {
    period = m;
    const detrended = new Float64Array(n); // the "seasonal" series of the decomposition
    if (n < 3 * m) {
      const t = new Float64Array(n);
      const one = new Float64Array(n).fill(1);
      const cos = new Float64Array(n);
      const sin = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        t[i] = i + 1;
        cos[i] = Math.cos((2 * Math.PI * (i + 1)) / m);
        sin[i] = Math.sin((2 * Math.PI * (i + 1)) / m);
      }
      const coef = leastSquares(m === 2 ? [one, t, cos] : [one, t, sin, cos], y);
      for (let i = 0; i < n; i++) {
        const trendValue = coef[0] + coef[1] * (i + 1);
        detrended[i] = spec.season === 'A' ? y[i] - trendValue : y[i] / trendValue;
      }
    } else {
      const figure = classicalSeasonalIndices(y, m, spec.season === 'A' ? 'additive' : 'multiplicative');
      for (let i = 0; i < n; i++) detrended[i] = figure[i % m];
    }
    const sa = new Float64Array(n);
    if (spec.season === 'A') {
      for (let p = 1; p < m; p++) seasonal[p] = detrended[p];
      for (let i = 0; i < n; i++) sa[i] = y[i] - detrended[i];
    } else {
      let total = 0;
      for (let p = 1; p < m; p++) {
        seasonal[p] = Math.max(detrended[p], 1e-2);
        total += seasonal[p];
      }
      if (total > m) {
        const divisor = total + 1e-2 * (m - 1);
        for (let p = 1; p < m; p++) seasonal[p] /= divisor;
      }
      for (let i = 0; i < n; i++) sa[i] = y[i] / Math.max(detrended[i], 1e-2);
    }
    completeSeasonal(seasonal, spec.season, m);
    adjusted = sa;
  }
  const k = Math.min(Math.max(10, 2 * period), n);
  const head = Array.from({ length: k }, (_, i) => adjusted[i]);
  if (spec.trend === 'N') {
    let s = 0;
    for (let i = 0; i < k; i++) s += head[i];
    return { level: s / k, slope: 0, seasonal };
  }
  const fit = linearTrend(head);
  let level = fit.intercept;
  let slope = fit.slope;
  if (Math.abs(level + slope) < 1e-8) {
    level *= 1 + 1e-3;
    slope *= 1 - 1e-3;
  }
  return { level, slope, seasonal };
}

/** Sets the factor of season position 0 so that the factors sum to 0 (additive) or m (multiplicative). */
export function completeSeasonal(seasonal: Float64Array, season: SeasonType, m: number): void {
  let total = 0;
  for (let p = 1; p < m; p++) total += seasonal[p];
  seasonal[0] = (season === 'M' ? m : 0) - total;
}

// ---------------------------------------------------------------------------------------------------------
// Forecasts

/** Point forecasts of the state recursion without future errors (etsforecast of ets()). */
export function pointForecasts(spec: EtsSpec, m: number, phi: number, state: EtsState, n: number, horizon: number) {
  const out = new Array<number>(horizon);
  let damp = 0; // φ + φ² + … + φ^h
  let power = 1;
  const ph = spec.damped ? phi : 1;
  for (let h = 1; h <= horizon; h++) {
    power *= ph;
    damp += power;
    let f = state.level + (spec.trend !== 'N' ? damp * state.slope : 0);
    if (spec.season === 'A') f += state.seasonal[(n + h - 1) % m];
    else if (spec.season === 'M') f *= state.seasonal[(n + h - 1) % m];
    out[h - 1] = f;
  }
  return out;
}

/** c_j = α + β(φ + … + φ^j) + γ·[j ≡ 0 mod m], j = 1..count: the linear models' error weights. */
function errorWeights(spec: EtsSpec, m: number, params: EtsParams, count: number): Float64Array {
  const c = new Float64Array(Math.max(0, count));
  const ph = spec.damped ? params.phi : 1;
  let damp = 0;
  let power = 1;
  for (let j = 1; j <= count; j++) {
    power *= ph;
    damp += power;
    let v = params.alpha;
    if (spec.trend !== 'N') v += params.beta * damp;
    if (spec.season !== 'N' && j % m === 0) v += params.gamma;
    c[j - 1] = v;
  }
  return c;
}

export interface ForecastWithVariance {
  readonly mean: number[];
  readonly variance: number[];
}

/**
 * Forecast mean and variance of the h-step-ahead forecast error (the book's chapter 6): class 1 (additive
 * errors, linear models) exactly, class 2 (multiplicative errors, no multiplicative season) and class 3
 * (multiplicative errors and season) with the book's exact moment recursions. For class 3 the mean is the
 * expectation E[y_{n+h}], which adds a small σ² correction to the point forecast beyond one season.
 */
export function forecastMoments(
  spec: EtsSpec,
  m: number,
  params: EtsParams,
  state: EtsState,
  n: number,
  sigma2: number,
  horizon: number,
): ForecastWithVariance {
  if (spec.error === 'M' && spec.season === 'M') return class3(spec, m, params, state, n, sigma2, horizon);
  const mean = pointForecasts(spec, m, params.phi, state, n, horizon);
  const c = errorWeights(spec, m, params, horizon - 1);
  const variance = new Array<number>(horizon);
  if (spec.error === 'A') {
    let cum = 0;
    for (let h = 1; h <= horizon; h++) {
      variance[h - 1] = sigma2 * (1 + cum);
      if (h < horizon) cum += c[h - 1] * c[h - 1];
    }
    return { mean, variance };
  }
  // Class 2: θ_1 = μ_1², θ_j = μ_j² + σ² Σ_{i<j} c_i² θ_{j−i}; v_h = (1 + σ²)θ_h − μ_h².
  const theta = new Float64Array(horizon);
  for (let j = 0; j < horizon; j++) {
    let s = 0;
    for (let i = 1; i <= j; i++) s += c[i - 1] * c[i - 1] * theta[j - i];
    theta[j] = mean[j] * mean[j] + sigma2 * s;
    variance[j] = (1 + sigma2) * theta[j] - mean[j] * mean[j];
  }
  return { mean, variance };
}

/** out = A·P·Bᵀ for k×k row-major matrices (k ≤ 2). */
function sandwich(
  a: readonly number[],
  p: Float64Array,
  offset: number,
  b: readonly number[],
  k: number,
  out: number[],
) {
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      let acc = 0;
      for (let r = 0; r < k; r++) {
        const air = a[i * k + r];
        if (air === 0) continue;
        for (let c = 0; c < k; c++) acc += air * p[offset + r * k + c] * b[j * k + c];
      }
      out[i * k + j] = acc;
    }
  }
}

/**
 * Class 3 (ETS(M,N,M), ETS(M,A,M), ETS(M,Ad,M)): exact forecast mean and variance (the book's chapter 6
 * recursions on M_h = E[x₁x₂ᵀ] and the moments of vec(x₁x₂ᵀ), x₁ = (level, slope), x₂ the seasonal
 * states). Column p of x₁x₂ᵀ, z = x₁·s_p, evolves on its own: z ← (F₁ + εG₁)z at every step, times (1 + γε)
 * at the steps where season position p is used, so its first and second moments are tracked per position
 * (k×k matrices) instead of the (km)² covariance. The damped trend enters as H₁ = (1, φ),
 * F₁ = [[1, φ], [0, φ]], G₁ = [[α, αφ], [β, βφ]].
 */
function class3(
  spec: EtsSpec,
  m: number,
  params: EtsParams,
  state: EtsState,
  n: number,
  sigma2: number,
  horizon: number,
): ForecastWithVariance {
  const k = spec.trend === 'N' ? 1 : 2;
  const kk = k * k;
  const phi = spec.damped ? params.phi : 1;
  const { alpha, beta, gamma } = params;
  const f = k === 1 ? [1] : [1, phi, 0, phi];
  const g = k === 1 ? [alpha] : [alpha, alpha * phi, beta, beta * phi];
  const h1 = k === 1 ? [1] : [1, phi];
  // At the step that uses the column: z ← (B0 + εB1 + ε²B2)z with B0 = F₁, B1 = G₁ + γF₁, B2 = γG₁.
  const b1 = f.map((v, i) => g[i] + gamma * v);
  const b2 = g.map((v) => gamma * v);
  const usedMean = f.map((v, i) => v + sigma2 * b2[i]);
  const x1 = k === 1 ? [state.level] : [state.level, state.slope];
  const mu = new Float64Array(m * k);
  const second = new Float64Array(m * kk); // E[z zᵀ] per season position
  for (let p = 0; p < m; p++) {
    for (let a = 0; a < k; a++) mu[p * k + a] = x1[a] * state.seasonal[p];
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) second[p * kk + a * k + b] = mu[p * k + a] * mu[p * k + b];
  }
  const mean = new Array<number>(horizon);
  const variance = new Array<number>(horizon);
  const t1 = [0, 0, 0, 0];
  const t2 = [0, 0, 0, 0];
  const t3 = [0, 0, 0, 0];
  const t4 = [0, 0, 0, 0];
  const nextMu = [0, 0];
  const s4 = 3 * sigma2 * sigma2;
  for (let step = 0; step < horizon; step++) {
    const pos = (n + step) % m;
    let e = 0;
    let e2 = 0;
    for (let a = 0; a < k; a++) {
      e += h1[a] * mu[pos * k + a];
      for (let b = 0; b < k; b++) e2 += h1[a] * h1[b] * second[pos * kk + a * k + b];
    }
    mean[step] = e;
    variance[step] = (1 + sigma2) * e2 - e * e;
    if (step === horizon - 1) break;
    for (let p = 0; p < m; p++) {
      const off = p * kk;
      const used = p === pos;
      const fm = used ? usedMean : f;
      for (let a = 0; a < k; a++) {
        let acc = 0;
        for (let b = 0; b < k; b++) acc += fm[a * k + b] * mu[p * k + b];
        nextMu[a] = acc;
      }
      for (let a = 0; a < k; a++) mu[p * k + a] = nextMu[a];
      sandwich(f, second, off, f, k, t1);
      if (used) {
        sandwich(b1, second, off, b1, k, t2);
        sandwich(f, second, off, b2, k, t3);
        sandwich(b2, second, off, b2, k, t4);
        for (let i = 0; i < kk; i++) {
          // B0 P B2ᵀ + B2 P B0ᵀ: the second is the transpose of the first.
          const cross = t3[i] + t3[(i % k) * k + Math.floor(i / k)];
          second[off + i] = t1[i] + sigma2 * (t2[i] + cross) + s4 * t4[i];
        }
      } else {
        sandwich(g, second, off, g, k, t2);
        for (let i = 0; i < kk; i++) second[off + i] = t1[i] + sigma2 * t2[i];
      }
    }
  }
  return { mean, variance };
}
