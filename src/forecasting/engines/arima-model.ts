/**
 * Estimation of one seasonal ARIMA(p,d,q)(P,D,Q)[m] model with optional constant (a mean when
 * d + D = 0, a drift when d + D = 1), following R's `stats::arima` as `forecast::Arima` calls it:
 *
 * - "CSS": minimise the conditional sum of squares of the differenced series (R's `ARIMA_CSS`);
 * - "ML": maximise the exact Gaussian likelihood of the differenced series (Kalman filter from the
 *   stationary state covariance: the limit of R's diffuse-prior filter on the undifferenced series);
 * - "CSS-ML" (default): CSS estimates, rejected when their AR parts are not stationary, then ML.
 *
 * Both criteria are sums of squares (the concentrated exact likelihood is ‖v/√F‖²·(ΠF)^{1/N}), so both
 * are minimised by a Levenberg–Marquardt method instead of R's BFGS: far fewer evaluations, and for
 * CSS an analytic Jacobian. Parametrisation as R: in ML the AR blocks are mapped onto the stationary
 * region through partial autocorrelations and the MA blocks are free (reflected back into the
 * invertible region, which leaves the likelihood unchanged); in CSS the AR blocks are free, and the MA
 * blocks are kept invertible through partial autocorrelations (outside that region CSS residuals
 * explode; R's unconstrained search ends at the same optimum or at a model it rejects anyway).
 * Information criteria and σ² follow `forecast:::myarima` (npar counts σ², σ² = Σ residuals² /
 * (N − npar + 1)), including its rejection of models whose AR or MA polynomial has a root within 1.01
 * of the unit circle.
 *
 * All of this works on a scaled copy of the series (x = (y − centre)/scale) for numerical robustness;
 * the caller converts back.
 */
import {
  KalmanWorkspace,
  LeastSquaresProblem,
  applyDifferencing,
  cssResiduals,
  differencingCoefficients,
  expandAr,
  expandMa,
  fromPartialAutocorrelations,
  kalmanLikelihood,
  levenbergMarquardt,
  maInvert,
  rootsOutside,
  stationaryFirstColumn,
  structuralLags,
  toPartialAutocorrelations,
} from './arima-core';

export type ArimaMethod = 'CSS-ML' | 'ML' | 'CSS';
export type InformationCriterion = 'aicc' | 'aic' | 'bic';

export interface ArimaSpec {
  readonly p: number;
  readonly d: number;
  readonly q: number;
  readonly P: number;
  readonly D: number;
  readonly Q: number;
  /** Seasonal period (1 when there is no seasonal part). */
  readonly m: number;
  /** Mean (d + D = 0) or drift (d + D = 1) term; ignored when d + D ≥ 2. */
  readonly constant: boolean;
}

/** One fitted model on the scaled series. */
export interface SpecFit {
  readonly spec: ArimaSpec;
  readonly method: ArimaMethod;
  /** ar(p), ma(q), sar(P), sma(Q), then the constant (scaled units) when present. */
  readonly params: Float64Array;
  /** Residual variance Σ e² / (N − npar + 1), scaled units. */
  readonly sigma2: number;
  readonly loglik: number;
  readonly aic: number;
  readonly aicc: number;
  readonly bic: number;
  /** Number of estimated parameters including σ². */
  readonly npar: number;
  /** Observations after differencing. */
  readonly nobs: number;
  /** Passes `auto.arima`'s admissibility check (all AR and MA roots of modulus ≥ 1.01). */
  readonly admissible: boolean;
}

/** True when the model has a constant term that is actually estimated. */
export function hasConstant(spec: ArimaSpec): boolean {
  return spec.constant && spec.d + spec.D <= 1;
}

/** Number of ARMA + regression coefficients. */
export function coefficientCount(spec: ArimaSpec): number {
  return spec.p + spec.q + spec.P + spec.Q + (hasConstant(spec) ? 1 : 0);
}

/** The polynomials and data of one model, with reusable buffers for repeated evaluations. */
export class ArimaProblem {
  readonly spec: ArimaSpec;
  readonly k: number;
  /** Differenced (scaled) series before removing the constant. */
  readonly w0: Float64Array;
  readonly nobs: number;
  /** Change of the differenced series per unit of the constant (1 for a mean or a lag-1 drift, m for a seasonal drift). */
  readonly regressorStep: number;
  readonly ncond: number;
  readonly arLags: Int32Array;
  readonly maLags: Int32Array;
  readonly phiFull: Float64Array;
  readonly thetaFull: Float64Array;
  readonly stateDim: number;
  readonly w: Float64Array;
  private readonly phi: Float64Array;
  private readonly theta: Float64Array;
  private readonly sphi: Float64Array;
  private readonly stheta: Float64Array;
  /** CSS residuals of the last `css` call (zero before `ncond`). */
  readonly e: Float64Array;
  private workspace: KalmanWorkspace | null = null;
  /** Constant removed from `w` by the last `load` (NaN before the first). */
  private loadedShift = NaN;

  constructor(x: Float64Array, spec: ArimaSpec) {
    this.spec = spec;
    this.k = coefficientCount(spec);
    const delta = differencingCoefficients(spec.d, spec.D, spec.m);
    this.w0 = applyDifferencing(x, delta);
    this.nobs = this.w0.length;
    this.regressorStep = spec.D === 1 && spec.d === 0 ? spec.m : 1;
    this.ncond = spec.p + spec.m * spec.P;
    this.arLags = structuralLags(spec.p, spec.P, spec.m);
    this.maLags = structuralLags(spec.q, spec.Q, spec.m);
    this.phiFull = new Float64Array(spec.p + spec.m * spec.P);
    this.thetaFull = new Float64Array(spec.q + spec.m * spec.Q);
    this.stateDim = Math.max(this.phiFull.length, this.thetaFull.length + 1);
    this.w = new Float64Array(this.nobs);
    this.phi = new Float64Array(spec.p);
    this.theta = new Float64Array(spec.q);
    this.sphi = new Float64Array(spec.P);
    this.stheta = new Float64Array(spec.Q);
    this.e = new Float64Array(this.nobs);
  }

  /** Loads parameters: fills the expanded polynomials and the de-meaned differenced series. */
  load(params: ArrayLike<number>): void {
    const { p, q, P, Q, m } = this.spec;
    for (let i = 0; i < p; i++) this.phi[i] = params[i];
    for (let i = 0; i < q; i++) this.theta[i] = params[p + i];
    for (let i = 0; i < P; i++) this.sphi[i] = params[p + q + i];
    for (let i = 0; i < Q; i++) this.stheta[i] = params[p + q + P + i];
    expandAr(this.phi, this.sphi, m, this.phiFull);
    expandMa(this.theta, this.stheta, m, this.thetaFull);
    const shift = hasConstant(this.spec) ? params[this.k - 1] * this.regressorStep : 0;
    if (shift !== this.loadedShift) {
      for (let t = 0; t < this.nobs; t++) this.w[t] = this.w0[t] - shift;
      this.loadedShift = shift;
    }
  }

  /**
   * Natural parameters from the optimiser's: AR blocks (φ, Φ) and/or MA blocks (θ, Θ) given as
   * unconstrained values mapped onto the stationary / invertible region (as R's `transform.pars`).
   */
  natural(u: ArrayLike<number>, out: Float64Array, arTransformed: boolean, maTransformed: boolean): void {
    const { p, q, P, Q } = this.spec;
    for (let i = 0; i < this.k; i++) out[i] = u[i];
    if (arTransformed) {
      fromPartialAutocorrelations(u, 0, p, out, 0);
      fromPartialAutocorrelations(u, p + q, P, out, p + q);
    }
    if (maTransformed) {
      fromPartialAutocorrelations(u, p, q, out, p, true);
      fromPartialAutocorrelations(u, p + q + P, Q, out, p + q + P, true);
    }
  }

  /**
   * Whether a reparametrised AR or MA block has a partial autocorrelation beyond ±0.9999, i.e. the
   * optimiser is heading for a unit root: such a model fails the 1.01 root check whatever the exact
   * end point, so its estimation can stop there.
   */
  nearBoundary(u: ArrayLike<number>, arTransformed: boolean, maTransformed: boolean): boolean {
    const { p, q, P, Q } = this.spec;
    const limit = 4.95;
    const check = (from: number, count: number): boolean => {
      for (let i = from; i < from + count; i++) if (Math.abs(u[i]) > limit) return true;
      return false;
    };
    if (arTransformed && (check(0, p) || check(p + q, P))) return true;
    if (maTransformed && (check(p, q) || check(p + q + P, Q))) return true;
    return false;
  }

  /** Inverse of `natural`. */
  unconstrained(params: ArrayLike<number>, arTransformed: boolean, maTransformed: boolean): Float64Array {
    const { p, q, P, Q } = this.spec;
    const u = Float64Array.from(params);
    if (arTransformed) {
      toPartialAutocorrelations(params, 0, p, u, 0);
      toPartialAutocorrelations(params, p + q, P, u, p + q);
    }
    if (maTransformed) {
      toPartialAutocorrelations(params, p, q, u, p, true);
      toPartialAutocorrelations(params, p + q + P, Q, u, p + q + P, true);
    }
    return u;
  }

  /** Non-seasonal and seasonal AR parts are both stationary (for the parameters last loaded). */
  arStationary(): boolean {
    return rootsOutside(this.phi) && rootsOutside(this.sphi);
  }

  /** CSS residuals for the loaded parameters; returns their sum of squares. */
  css(out: Float64Array | null): number {
    return cssResiduals(this.w, this.ncond, this.arLags, this.phiFull, this.maLags, this.thetaFull, this.e, out);
  }

  kalman(): KalmanWorkspace {
    if (this.workspace === null) this.workspace = new KalmanWorkspace(this.stateDim);
    return this.workspace;
  }

  /**
   * Exact likelihood pieces for the loaded parameters (null when the AR part is not stationary), with
   * the standardised innovations written to `resid` and the one-step-ahead state left in the workspace.
   */
  exact(resid: Float64Array | null): { ssq: number; sumLog: number } | null {
    if (!this.arStationary()) return null;
    const ws = this.kalman();
    ws.load(this.phiFull);
    if (!stationaryFirstColumn(this.phiFull, this.thetaFull, this.stateDim, ws.P0col)) return null;
    return kalmanLikelihood(this.w, ws, resid);
  }

  /** Starting values: zero ARMA coefficients, the constant from least squares on the differenced series. */
  initialParams(): Float64Array {
    const x0 = new Float64Array(this.k);
    if (hasConstant(this.spec) && this.nobs > 0) {
      let s = 0;
      for (let t = 0; t < this.nobs; t++) s += this.w0[t];
      x0[this.k - 1] = s / this.nobs / this.regressorStep;
    }
    return x0;
  }

  /** Finite-difference steps for the Jacobian. */
  steps(x: ArrayLike<number>): Float64Array {
    const h = new Float64Array(this.k);
    for (let i = 0; i < this.k; i++) h[i] = 1e-6 * Math.max(1, Math.abs(x[i]));
    if (hasConstant(this.spec)) {
      let s = 0;
      let mu = 0;
      for (let t = 0; t < this.nobs; t++) mu += this.w0[t];
      mu /= Math.max(1, this.nobs);
      for (let t = 0; t < this.nobs; t++) s += (this.w0[t] - mu) ** 2;
      const sd = Math.sqrt(s / Math.max(1, this.nobs - 1)) / this.regressorStep;
      const last = this.k - 1;
      h[last] = 1e-6 * Math.max(Math.abs(x[last]), sd > 0 ? sd : 1);
    }
    return h;
  }
}

/**
 * CSS as least squares: AR coefficients unconstrained (as R), MA kept invertible by reparametrisation.
 * The Jacobian is analytic: every derivative of e_t is the MA filter 1/θ*(B) applied to a known input,
 * and the derivatives with respect to θ_i (Θ_j) are exact shifts of the one for θ_1 (Θ_1).
 */
class CssProblem implements LeastSquaresProblem {
  readonly size: number;
  private readonly params: Float64Array;
  private readonly z: Float64Array;
  private readonly s1: Float64Array;
  private readonly s2: Float64Array;
  private readonly dMa: Float64Array;
  private readonly dSma: Float64Array;
  private readonly nat: Float64Array;
  /** Parameters of the last residual evaluation (the model's buffers hold its residuals). */
  private readonly last: Float64Array;
  private lastValid = false;
  constructor(private readonly model: ArimaProblem) {
    this.size = model.nobs - model.ncond;
    this.last = new Float64Array(model.k);
    this.params = new Float64Array(model.k);
    const n = model.nobs;
    this.z = new Float64Array(n);
    this.s1 = new Float64Array(n);
    this.s2 = new Float64Array(n);
    this.dMa = new Float64Array(Math.max(0, this.size));
    this.dSma = new Float64Array(Math.max(0, this.size));
    this.nat = new Float64Array(model.k);
  }

  residuals(u: Float64Array, out: Float64Array): boolean {
    this.model.natural(u, this.params, false, true);
    this.model.load(this.params);
    const ssq = this.model.css(out);
    this.last.set(u);
    this.lastValid = Number.isFinite(ssq);
    return this.lastValid;
  }

  /** dest[off + t − ncond] = (1/θ*(B)) z over t ≥ ncond, with the CSS truncation. */
  private filter(dest: Float64Array, off: number): void {
    const { ncond, maLags, thetaFull, nobs } = this.model;
    const z = this.z;
    const nm = maLags.length;
    for (let t = ncond; t < nobs; t++) {
      let v = z[t];
      const limit = t - ncond;
      for (let k = 0; k < nm; k++) {
        const lag = maLags[k];
        if (lag > limit) break;
        v -= thetaFull[lag - 1] * dest[off + limit - lag];
      }
      dest[off + limit] = v;
    }
  }

  jacobian(u: Float64Array, r: Float64Array, J: Float64Array): boolean {
    const model = this.model;
    const { p, q, P, Q, m } = model.spec;
    const size = this.size;
    const n = model.nobs;
    const nc = model.ncond;
    let current = this.lastValid;
    for (let i = 0; i < u.length && current; i++) if (this.last[i] !== u[i]) current = false;
    // The optimiser asks for the Jacobian at its current point, normally the last one evaluated.
    if (!current && !this.residuals(u, r)) return false;
    const { w, e, phiFull } = model;
    const par = this.params;
    const z = this.z;
    if (p > 0) {
      // ∂e/∂φ_i = −(1/θ*)(Φ(B^m) w)_{t−i}
      const s1 = this.s1;
      for (let t = m * P; t < n; t++) {
        let v = w[t];
        for (let j = 1; j <= P; j++) v -= par[p + q + j - 1] * w[t - j * m];
        s1[t] = v;
      }
      for (let i = 1; i <= p; i++) {
        for (let t = nc; t < n; t++) z[t] = -s1[t - i];
        this.filter(J, (i - 1) * size);
      }
    }
    if (P > 0) {
      // ∂e/∂Φ_j = −(1/θ*)(φ(B) w)_{t−jm}
      const s2 = this.s2;
      for (let t = p; t < n; t++) {
        let v = w[t];
        for (let i = 1; i <= p; i++) v -= par[i - 1] * w[t - i];
        s2[t] = v;
      }
      for (let j = 1; j <= P; j++) {
        for (let t = nc; t < n; t++) z[t] = -s2[t - j * m];
        this.filter(J, (p + q + j - 1) * size);
      }
    }
    if (hasConstant(model.spec)) {
      let a1 = 1;
      for (let kk = 0; kk < phiFull.length; kk++) a1 -= phiFull[kk];
      const c = -model.regressorStep * a1;
      for (let t = nc; t < n; t++) z[t] = c;
      this.filter(J, (model.k - 1) * size);
    }
    const block = (
      start: number,
      count: number,
      lag: number,
      other: number,
      otherCount: number,
      otherLag: number,
      d: Float64Array,
    ): void => {
      // ∂e/∂c_1 = −(1/θ*)(other(B^otherLag) e)_{t−lag}; ∂e/∂c_i is its shift by (i−1)·lag.
      for (let t = nc; t < n; t++) {
        let v = t - lag >= 0 ? e[t - lag] : 0;
        for (let j = 1; j <= otherCount; j++) {
          const idx = t - lag - j * otherLag;
          if (idx >= 0) v += par[other + j - 1] * e[idx];
        }
        z[t] = -v;
      }
      this.filter(d, 0);
      // Chain rule through the partial-autocorrelation map: ∂θ_l/∂u_c by differences of that small map.
      const h = 1e-7;
      const nat = this.nat;
      for (let c = 0; c < count; c++) {
        const saved = u[start + c];
        u[start + c] = saved + h;
        fromPartialAutocorrelations(u, start, count, nat, 0, true);
        u[start + c] = saved;
        const col = (start + c) * size;
        J.fill(0, col, col + size);
        for (let l = 0; l < count; l++) {
          const dl = (nat[l] - par[start + l]) / h;
          if (dl === 0) continue;
          const shift = l * lag;
          for (let i = shift; i < size; i++) J[col + i] += dl * d[i - shift];
        }
      }
    };
    if (q > 0) block(p, q, 1, p + q + P, Q, m, this.dMa);
    if (Q > 0) block(p + q + P, Q, m, p, q, 1, this.dSma);
    return true;
  }
}

/**
 * The concentrated exact likelihood as least squares: ‖v/√F‖²·(ΠF)^{1/N} = ‖(v/√F)·(ΠF)^{1/2N}‖².
 * As in R, the AR blocks are reparametrised onto the stationary region and the MA coefficients are
 * free: the likelihood of an MA polynomial equals that of its root-reflected (invertible) version, so
 * whenever a step leaves the invertible region the MA blocks are reflected back (same objective).
 */
class ExactProblem implements LeastSquaresProblem {
  readonly size: number;
  private readonly params: Float64Array;
  constructor(private readonly model: ArimaProblem) {
    this.size = model.nobs;
    this.params = new Float64Array(model.k);
  }
  residuals(u: Float64Array, out: Float64Array): boolean {
    this.model.natural(u, this.params, true, false);
    this.model.load(this.params);
    const res = this.model.exact(out);
    if (res === null) return false;
    const factor = Math.exp((0.5 * res.sumLog) / this.size);
    if (!Number.isFinite(factor)) return false;
    for (let i = 0; i < this.size; i++) out[i] *= factor;
    return Number.isFinite(res.ssq);
  }
  normalize(u: Float64Array): boolean {
    const { p, q, P, Q } = this.model.spec;
    let changed = false;
    const reflect = (start: number, count: number): void => {
      if (count === 0) return;
      const block = Array.from(u.subarray(start, start + count));
      if (rootsOutside(block, 1, true)) return;
      const inv = maInvert(block);
      for (let i = 0; i < count; i++) u[start + i] = inv[i];
      changed = true;
    };
    reflect(p, q);
    reflect(p + q + P, Q);
    return changed;
  }
}

/** Replaces the MA parts of a parameter vector by their invertible versions. */
function invertMa(spec: ArimaSpec, params: Float64Array): void {
  const { p, q, P, Q } = spec;
  if (q > 0) {
    const inv = maInvert(Array.from(params.subarray(p, p + q)));
    for (let i = 0; i < q; i++) params[p + i] = inv[i];
  }
  if (Q > 0) {
    const start = p + q + P;
    const inv = maInvert(Array.from(params.subarray(start, start + Q)));
    for (let i = 0; i < Q; i++) params[start + i] = inv[i];
  }
}

export interface FitSpecOptions {
  readonly method: ArimaMethod;
  readonly ic: InformationCriterion;
  readonly maxIterations?: number;
  readonly cssTolerance?: number;
  readonly mlTolerance?: number;
  /** Starting values (natural parameters) instead of zeros. */
  readonly init?: Float64Array;
  /** With "CSS-ML": `init` already holds the CSS estimates, go straight to the likelihood stage. */
  readonly skipCss?: boolean;
}

/**
 * Carries the coefficients of a fitted model over to a neighbouring specification (shared lags keep
 * their values, new ones start at zero, a new constant at its least-squares value).
 */
export function mapParams(
  from: ArimaSpec,
  params: ArrayLike<number>,
  to: ArimaSpec,
  initial: Float64Array,
  keepConstant = true,
): Float64Array {
  const out = Float64Array.from(initial);
  const copy = (fromStart: number, fromCount: number, toStart: number, toCount: number): void => {
    for (let i = 0; i < Math.min(fromCount, toCount); i++) out[toStart + i] = params[fromStart + i];
  };
  copy(0, from.p, 0, to.p);
  copy(from.p, from.q, to.p, to.q);
  copy(from.p + from.q, from.P, to.p + to.q, to.P);
  copy(from.p + from.q + from.P, from.Q, to.p + to.q + to.P, to.Q);
  if (keepConstant && hasConstant(from) && hasConstant(to)) out[out.length - 1] = params[coefficientCount(from) - 1];
  return out;
}

/** Information criteria of `forecast:::myarima` from −2·loglik (or its CSS stand-in). */
function criteria(minus2loglik: number, npar: number, nobs: number): { aic: number; aicc: number; bic: number } {
  const aic = minus2loglik + 2 * npar;
  const bic = aic + npar * (Math.log(nobs) - 2);
  const den = nobs - npar - 1;
  const aicc = den > 0 ? aic + (2 * npar * (npar + 1)) / den : Infinity;
  return { aic, aicc, bic };
}

/**
 * Fits one model to the scaled series x. Returns null when it cannot be fitted at all (too few
 * observations, non-stationary CSS estimates before ML, failed likelihood), like R's `try-error`.
 */
export function fitSpec(x: Float64Array, spec: ArimaSpec, options: FitSpecOptions): SpecFit | null {
  const model = new ArimaProblem(x, spec);
  const N = model.nobs;
  const k = model.k;
  const npar = k + 1;
  if (N <= 0) return null;
  const maxIterations = options.maxIterations ?? 50;
  let params = options.init !== undefined ? Float64Array.from(options.init) : model.initialParams();
  let ssqCss = NaN;
  const useCss = options.method === 'CSS' || (options.method === 'CSS-ML' && options.skipCss !== true);
  if (useCss) {
    invertMa(spec, params);
    const problem = new CssProblem(model);
    if (problem.size <= 0) return null;
    const u0 = model.unconstrained(params, false, true);
    const res = levenbergMarquardt(problem, u0, model.steps(u0), {
      maxIterations,
      tolerance: options.cssTolerance ?? 1e-9,
      stop: (u) => model.nearBoundary(u, false, true),
    });
    if (res === null) return null;
    params = new Float64Array(k);
    model.natural(res.x, params, false, true);
    ssqCss = res.value;
  }
  model.load(params);
  // R's CSS-ML refuses to start the likelihood stage from non-stationary CSS estimates.
  if (options.method === 'CSS-ML' && !model.arStationary()) return null;
  let fit: { sigma2: number; loglik: number; minus2: number };
  if (options.method === 'CSS') {
    const sigma2Css = ssqCss / (N - model.ncond);
    if (!(sigma2Css > 0)) return null;
    fit = { sigma2: ssqCss / Math.max(1, N - npar + 1), loglik: NaN, minus2: N * Math.log(sigma2Css) };
  } else {
    invertMa(spec, params);
    const problem = new ExactProblem(model);
    const u0 = model.unconstrained(params, true, false);
    const res = levenbergMarquardt(problem, u0, model.steps(u0), {
      maxIterations,
      tolerance: options.mlTolerance ?? 1e-8,
      stop: (u) => model.nearBoundary(u, true, false),
    });
    if (res === null) return null;
    params = new Float64Array(k);
    model.natural(res.x, params, true, false);
    invertMa(spec, params);
    model.load(params);
    const lik = model.exact(null);
    if (lik === null || !(lik.ssq > 0)) return null;
    const loglik = -0.5 * (N * Math.log(lik.ssq / N) + lik.sumLog + N + N * Math.log(2 * Math.PI));
    fit = { sigma2: lik.ssq / Math.max(1, N - npar + 1), loglik, minus2: -2 * loglik };
  }
  if (!Number.isFinite(fit.minus2)) return null;
  const { aic, aicc, bic } = criteria(fit.minus2, npar, N);
  model.load(params);
  let admissible = true;
  if (spec.p + spec.P > 0 && !rootsOutside(model.phiFull, 1.01)) admissible = false;
  if (admissible && spec.q + spec.Q > 0 && !rootsOutside(model.thetaFull, 1.01, true)) admissible = false;
  return {
    spec,
    method: options.method,
    params,
    sigma2: fit.sigma2,
    loglik: fit.loglik,
    aic,
    aicc,
    bic,
    npar,
    nobs: N,
    admissible,
  };
}

/** The selection criterion of a fit: Infinity when the model is not admissible. */
export function criterion(fit: SpecFit | null, ic: InformationCriterion): number {
  if (fit === null || !fit.admissible) return Infinity;
  const v = ic === 'aic' ? fit.aic : ic === 'bic' ? fit.bic : fit.aicc;
  return Number.isNaN(v) ? Infinity : v;
}
