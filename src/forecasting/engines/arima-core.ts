/**
 * Numerical core of the ARIMA engine: polynomial algebra of multiplicative seasonal ARMA models,
 * stationarity / invertibility checks, the conditional-sum-of-squares and exact Gaussian (Kalman
 * filter) likelihoods of a differenced series, psi-weights, and a small Levenberg–Marquardt
 * least-squares optimiser. Pure functions on typed arrays, no allocation inside the hot loops.
 *
 * Conventions: an AR polynomial is stored as the coefficients c of x_t = Σ_{k≥1} c[k-1]·x_{t-k} + …,
 * i.e. 1 − Σ c_k B^k; an MA polynomial as the coefficients c of 1 + Σ c_k B^k (R's `arima` conventions).
 */

/** Reusable scratch buffers (grown on demand) for the per-evaluation computations below. */
const scratch: {
  rows: Float64Array;
  work: Float64Array;
  tmp: Float64Array;
  gammaX: Float64Array;
  gamma: Float64Array;
  psi: Float64Array;
  maLag: Int32Array;
  maCoef: Float64Array;
} = {
  rows: new Float64Array(64),
  work: new Float64Array(16),
  tmp: new Float64Array(16),
  gammaX: new Float64Array(64),
  gamma: new Float64Array(32),
  psi: new Float64Array(32),
  maLag: new Int32Array(32),
  maCoef: new Float64Array(32),
};

function grow(buffer: Float64Array, size: number): Float64Array {
  return buffer.length >= size ? buffer : new Float64Array(Math.max(size, 2 * buffer.length));
}

/** Coefficients of φ(B)·Φ(B^m) in the AR convention (length p + m·P), as R's `ARIMA_transPars`. */
export function expandAr(phi: ArrayLike<number>, sphi: ArrayLike<number>, m: number, out?: Float64Array): Float64Array {
  const p = phi.length;
  const sp = sphi.length;
  const c = out ?? new Float64Array(p + m * sp);
  c.fill(0);
  for (let i = 0; i < p; i++) c[i] = phi[i];
  for (let j = 0; j < sp; j++) {
    c[(j + 1) * m - 1] += sphi[j];
    for (let i = 0; i < p; i++) c[(j + 1) * m + i] -= phi[i] * sphi[j];
  }
  return c;
}

/** Coefficients of θ(B)·Θ(B^m) in the MA convention (length q + m·Q). */
export function expandMa(
  theta: ArrayLike<number>,
  stheta: ArrayLike<number>,
  m: number,
  out?: Float64Array,
): Float64Array {
  const q = theta.length;
  const sq = stheta.length;
  const c = out ?? new Float64Array(q + m * sq);
  c.fill(0);
  for (let i = 0; i < q; i++) c[i] = theta[i];
  for (let j = 0; j < sq; j++) {
    c[(j + 1) * m - 1] += stheta[j];
    for (let i = 0; i < q; i++) c[(j + 1) * m + i] += theta[i] * stheta[j];
  }
  return c;
}

/** Lags (1-based) at which φ(B)Φ(B^m) (or θ(B)Θ(B^m)) can have a non-zero coefficient. */
export function structuralLags(order: number, seasonalOrder: number, m: number): Int32Array {
  const len = order + m * seasonalOrder;
  const mark = new Uint8Array(len + 1);
  for (let i = 1; i <= order; i++) mark[i] = 1;
  for (let j = 1; j <= seasonalOrder; j++) {
    mark[j * m] = 1;
    for (let i = 1; i <= order; i++) mark[j * m + i] = 1;
  }
  const lags: number[] = [];
  for (let k = 1; k <= len; k++) if (mark[k]) lags.push(k);
  return Int32Array.from(lags);
}

/** Product of two polynomials given with their constant term (a[0], b[0]). */
export function polyMultiply(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length + b.length - 1);
  for (let i = 0; i < a.length; i++) {
    if (a[i] === 0) continue;
    for (let j = 0; j < b.length; j++) out[i + j] += a[i] * b[j];
  }
  return out;
}

/**
 * Differencing operator (1−B)^d (1−B^m)^D in the AR convention (R's `Delta`): x_t = Σ δ_k x_{t-k} + w_t.
 */
export function differencingCoefficients(d: number, seasonalD: number, m: number): Float64Array {
  let poly: Float64Array = Float64Array.of(1);
  for (let i = 0; i < d; i++) poly = polyMultiply(poly, [1, -1]);
  for (let i = 0; i < seasonalD; i++) {
    const s = new Float64Array(m + 1);
    s[0] = 1;
    s[m] = -1;
    poly = polyMultiply(poly, s);
  }
  const delta = new Float64Array(poly.length - 1);
  for (let k = 1; k < poly.length; k++) delta[k - 1] = -poly[k];
  return delta;
}

/** w_t = x_t − Σ δ_k x_{t−k} for t ≥ len(δ): the differenced series (length n − len(δ)). */
export function applyDifferencing(x: ArrayLike<number>, delta: ArrayLike<number>): Float64Array {
  const nd = delta.length;
  const n = x.length;
  const out = new Float64Array(Math.max(0, n - nd));
  for (let t = nd; t < n; t++) {
    let v = x[t];
    for (let k = 1; k <= nd; k++) v -= delta[k - 1] * x[t - k];
    out[t - nd] = v;
  }
  return out;
}

/**
 * True when every root of 1 − Σ a_k z^k lies strictly outside the circle |z| = radius (Schur–Cohn
 * step-down: the polynomial scaled by radius is stationary iff all its partial autocorrelations are
 * inside (−1, 1)). With radius 1 this is R's `arCheck`; with radius 1.01 it is `auto.arima`'s
 * "minimum root ≥ 1.01" test. For an MA polynomial 1 + Σ θ_k z^k pass a_k = −θ_k.
 */
export function rootsOutside(a: ArrayLike<number>, radius = 1, negate = false): boolean {
  let p = a.length;
  while (p > 0 && a[p - 1] === 0) p--;
  if (p === 0) return true;
  scratch.work = grow(scratch.work, p);
  scratch.tmp = grow(scratch.tmp, p);
  const { work, tmp } = scratch;
  let scale = 1;
  for (let k = 0; k < p; k++) {
    scale *= radius;
    work[k] = (negate ? -a[k] : a[k]) * scale;
  }
  for (let k = p; k >= 1; k--) {
    const kappa = work[k - 1];
    if (!(Math.abs(kappa) < 1)) return false;
    if (k === 1) break;
    const denom = 1 - kappa * kappa;
    for (let j = 0; j < k - 1; j++) tmp[j] = work[j];
    for (let j = 1; j <= k - 1; j++) work[j - 1] = (tmp[j - 1] + kappa * tmp[k - j - 1]) / denom;
  }
  return true;
}

/**
 * R's `partrans`: maps unconstrained values u to the coefficients of a stationary AR polynomial
 * (partial autocorrelations tanh(u), then the Durbin–Levinson recursion). `negate` gives the
 * coefficients of an invertible MA polynomial 1 + Σ θ_k z^k instead (θ = −a).
 */
export function fromPartialAutocorrelations(
  u: ArrayLike<number>,
  offset: number,
  count: number,
  out: Float64Array,
  outOffset: number,
  negate = false,
): void {
  if (count === 0) return;
  scratch.work = grow(scratch.work, count);
  scratch.tmp = grow(scratch.tmp, count);
  const { work: a, tmp: work } = scratch;
  for (let j = 0; j < count; j++) a[j] = Math.tanh(u[offset + j]);
  for (let j = 1; j < count; j++) {
    const kappa = a[j];
    for (let i = 0; i < j; i++) work[i] = a[i] - kappa * a[j - i - 1];
    for (let i = 0; i < j; i++) a[i] = work[i];
  }
  for (let j = 0; j < count; j++) out[outOffset + j] = negate ? -a[j] : a[j];
}

/**
 * Inverse of `fromPartialAutocorrelations` (R's `invpartrans`): partial autocorrelations by the
 * step-down recursion, clamped to ±(1 − 1e-8) so that boundary values stay finite, then atanh.
 */
export function toPartialAutocorrelations(
  coefs: ArrayLike<number>,
  offset: number,
  count: number,
  out: Float64Array,
  outOffset: number,
  negate = false,
): void {
  if (count === 0) return;
  const work = new Float64Array(count);
  const tmp = new Float64Array(count);
  for (let j = 0; j < count; j++) work[j] = negate ? -coefs[offset + j] : coefs[offset + j];
  const pacf = new Float64Array(count);
  const limit = 1 - 1e-8;
  for (let k = count; k >= 1; k--) {
    let kappa = work[k - 1];
    if (!Number.isFinite(kappa)) kappa = 0;
    kappa = Math.max(-limit, Math.min(limit, kappa));
    pacf[k - 1] = kappa;
    if (k === 1) break;
    const denom = 1 - kappa * kappa;
    for (let j = 0; j < k - 1; j++) tmp[j] = work[j];
    for (let j = 1; j <= k - 1; j++) work[j - 1] = (tmp[j - 1] + kappa * tmp[k - j - 1]) / denom;
  }
  for (let j = 0; j < count; j++) out[outOffset + j] = Math.atanh(pacf[j]);
}

/**
 * Complex roots of c[0] + c[1] z + … + c[deg] z^deg (c[deg] ≠ 0) by the Durand–Kerner iteration.
 * Returned as parallel arrays of real and imaginary parts.
 */
export function polyRoots(c: ArrayLike<number>): { re: Float64Array; im: Float64Array } {
  const deg = c.length - 1;
  const re = new Float64Array(deg);
  const im = new Float64Array(deg);
  if (deg < 1) return { re, im };
  const lead = c[deg];
  const a = new Float64Array(deg + 1);
  for (let k = 0; k <= deg; k++) a[k] = c[k] / lead;
  // Cauchy bound for the starting circle.
  let bound = 0;
  for (let k = 0; k < deg; k++) bound = Math.max(bound, Math.abs(a[k]));
  const radius = 1 + bound;
  for (let k = 0; k < deg; k++) {
    const angle = (2 * Math.PI * k) / deg + 0.4;
    re[k] = radius * Math.cos(angle);
    im[k] = radius * Math.sin(angle);
  }
  for (let iter = 0; iter < 1000; iter++) {
    let change = 0;
    for (let k = 0; k < deg; k++) {
      // p(z_k) by Horner.
      let pr = 1;
      let pi = 0;
      for (let j = deg - 1; j >= 0; j--) {
        const nr = pr * re[k] - pi * im[k] + a[j];
        pi = pr * im[k] + pi * re[k];
        pr = nr;
      }
      // Π_{j≠k} (z_k − z_j)
      let dr = 1;
      let di = 0;
      for (let j = 0; j < deg; j++) {
        if (j === k) continue;
        const xr = re[k] - re[j];
        const xi = im[k] - im[j];
        const nr = dr * xr - di * xi;
        di = dr * xi + di * xr;
        dr = nr;
      }
      const den = dr * dr + di * di;
      if (den === 0) {
        re[k] += 1e-8;
        continue;
      }
      const qr = (pr * dr + pi * di) / den;
      const qi = (pi * dr - pr * di) / den;
      re[k] -= qr;
      im[k] -= qi;
      change = Math.max(change, Math.hypot(qr, qi) / Math.max(1, Math.hypot(re[k], im[k])));
    }
    if (change < 1e-14) break;
  }
  return { re, im };
}

/**
 * R's `maInvert`: reflects the roots of 1 + Σ θ_k z^k that lie inside the unit circle, giving the
 * invertible MA polynomial with the same autocorrelations.
 */
export function maInvert(ma: readonly number[]): number[] {
  const q = ma.length;
  let q0 = q;
  while (q0 > 0 && ma[q0 - 1] === 0) q0--;
  if (q0 === 0) return ma.slice();
  const coeffs = [1, ...ma.slice(0, q0)];
  const { re, im } = polyRoots(coeffs);
  let inside = false;
  for (let k = 0; k < q0; k++) if (Math.hypot(re[k], im[k]) < 1) inside = true;
  if (!inside) return ma.slice();
  if (q0 === 1) return [1 / ma[0], ...new Array<number>(q - 1).fill(0)];
  for (let k = 0; k < q0; k++) {
    const mod2 = re[k] * re[k] + im[k] * im[k];
    if (mod2 < 1) {
      re[k] = re[k] / mod2;
      im[k] = -im[k] / mod2;
    }
  }
  // Rebuild Π (1 − z / r_k) with complex arithmetic.
  let xr = [1];
  let xi = [0];
  for (let k = 0; k < q0; k++) {
    const mod2 = re[k] * re[k] + im[k] * im[k];
    const ir = re[k] / mod2;
    const ii = -im[k] / mod2;
    const nr = new Array<number>(xr.length + 1).fill(0);
    const ni = new Array<number>(xr.length + 1).fill(0);
    for (let j = 0; j < xr.length; j++) {
      nr[j] += xr[j];
      ni[j] += xi[j];
      // − x_j · (1/r)
      nr[j + 1] -= xr[j] * ir - xi[j] * ii;
      ni[j + 1] -= xr[j] * ii + xi[j] * ir;
    }
    xr = nr;
    xi = ni;
  }
  const out = new Array<number>(q).fill(0);
  for (let k = 1; k <= q0; k++) out[k - 1] = xr[k];
  return out;
}

/** ψ_0..ψ_{count−1} of the MA(∞) form of (1 − Σ ar_k B^k) x = (1 + Σ ma_k B^k) e. */
export function psiWeights(ar: ArrayLike<number>, ma: ArrayLike<number>, count: number): Float64Array {
  const psi = new Float64Array(count);
  if (count === 0) return psi;
  psi[0] = 1;
  const p = ar.length;
  const q = ma.length;
  for (let j = 1; j < count; j++) {
    let v = j <= q ? ma[j - 1] : 0;
    const upper = Math.min(j, p);
    for (let i = 1; i <= upper; i++) v += ar[i - 1] * psi[j - i];
    psi[j] = v;
  }
  return psi;
}

/**
 * Autocovariances γ(0..maxLag) of the stationary ARMA process with unit innovation variance, written to
 * `out`. The pure AR part x = e/φ(B) goes through the Levinson recursions (step-down to the partial
 * autocorrelations, then Durbin–Levinson back up: ρ(k) = Σ φ_{k−1,j} ρ(k−j) + κ_k v_{k−1},
 * γ_x(0) = 1/Π(1−κ_j²)), the MA part by γ(h) = Σ_i Σ_j θ_i θ_j γ_x(h − i + j). O(p² + maxLag·nnz(θ)²).
 * Returns false when the AR part is not stationary.
 */
export function armaAutocovariance(
  phi: ArrayLike<number>,
  theta: ArrayLike<number>,
  maxLag: number,
  out: Float64Array,
): boolean {
  let p = phi.length;
  while (p > 0 && phi[p - 1] === 0) p--;
  const q = theta.length;
  const K = maxLag + q;
  scratch.gammaX = grow(scratch.gammaX, K + 1);
  const gx = scratch.gammaX;
  if (p === 0) {
    gx.fill(0, 0, K + 1);
    gx[0] = 1;
  } else {
    // Step-down, keeping every intermediate AR(k) coefficient vector (row k at offset k(k−1)/2).
    scratch.rows = grow(scratch.rows, (p * (p + 1)) / 2);
    scratch.work = grow(scratch.work, p);
    scratch.tmp = grow(scratch.tmp, p);
    const { rows, work, tmp } = scratch;
    for (let j = 0; j < p; j++) work[j] = phi[j];
    for (let k = p; k >= 1; k--) {
      const base = (k * (k - 1)) / 2;
      for (let j = 0; j < k; j++) rows[base + j] = work[j];
      const kappa = work[k - 1];
      if (!(Math.abs(kappa) < 1)) return false;
      if (k === 1) break;
      const denom = 1 - kappa * kappa;
      for (let j = 0; j < k - 1; j++) tmp[j] = work[j];
      for (let j = 1; j <= k - 1; j++) work[j - 1] = (tmp[j - 1] + kappa * tmp[k - j - 1]) / denom;
    }
    // Step-up: autocorrelations ρ(1..p) and the innovation-variance ratio v.
    gx[0] = 1;
    let v = 1;
    for (let k = 1; k <= p; k++) {
      const kappa = rows[(k * (k - 1)) / 2 + k - 1];
      const prev = ((k - 1) * (k - 2)) / 2;
      let rho = kappa * v;
      for (let j = 1; j <= k - 1; j++) rho += rows[prev + j - 1] * gx[k - j];
      gx[k] = rho;
      v *= 1 - kappa * kappa;
    }
    if (!(v > 0)) return false;
    const g0 = 1 / v;
    for (let k = 0; k <= p; k++) gx[k] *= g0;
    for (let k = p + 1; k <= K; k++) {
      let val = 0;
      for (let j = 1; j <= p; j++) {
        const c = phi[j - 1];
        if (c !== 0) val += c * gx[k - j];
      }
      gx[k] = val;
    }
  }
  // MA convolution over the non-zero θ_j (θ_0 = 1).
  scratch.maLag = scratch.maLag.length >= q + 1 ? scratch.maLag : new Int32Array(2 * (q + 1));
  scratch.maCoef = grow(scratch.maCoef, q + 1);
  const { maLag, maCoef } = scratch;
  let nz = 0;
  maLag[nz] = 0;
  maCoef[nz++] = 1;
  for (let j = 1; j <= q; j++) {
    if (theta[j - 1] !== 0) {
      maLag[nz] = j;
      maCoef[nz++] = theta[j - 1];
    }
  }
  for (let h = 0; h <= maxLag; h++) {
    let val = 0;
    for (let a = 0; a < nz; a++) {
      const ca = maCoef[a];
      const la = maLag[a];
      for (let b = 0; b < nz; b++) {
        const lag = h - la + maLag[b];
        val += ca * maCoef[b] * gx[lag < 0 ? -lag : lag];
      }
    }
    out[h] = val;
  }
  return out[0] > 0 && Number.isFinite(out[0]);
}

/**
 * First column of the stationary covariance P0 of the state of the ARMA state-space form used by R's
 * `makeARIMA` (a_t = T a_{t−1} + R e_t, y_t = a_t[0], T = [φ | I; 0], R = (1, θ_1, …), unit innovation
 * variance): P0(j,0) = Cov(a_t[j], y_t) = Σ_{k=0}^{r−1−j} (φ_{j+k} γ(k+1) + R_{j+k} ψ_k), since
 * a_t[j] = Σ_k (φ_{j+k} y_{t−1−k} + R_{j+k} e_{t−k}). This is all the filter below needs.
 */
export function stationaryFirstColumn(
  phiFull: ArrayLike<number>,
  thetaFull: ArrayLike<number>,
  r: number,
  out: Float64Array,
): boolean {
  scratch.gamma = grow(scratch.gamma, r + 1);
  const gamma = scratch.gamma;
  if (!armaAutocovariance(phiFull, thetaFull, r, gamma)) return false;
  const p = phiFull.length;
  const q = thetaFull.length;
  scratch.psi = grow(scratch.psi, r);
  const psi = scratch.psi;
  psi[0] = 1;
  for (let j = 1; j < r; j++) {
    let v = j <= q ? thetaFull[j - 1] : 0;
    const upper = Math.min(j, p);
    for (let i = 1; i <= upper; i++) {
      const c = phiFull[i - 1];
      if (c !== 0) v += c * psi[j - i];
    }
    psi[j] = v;
  }
  out[0] = gamma[0];
  for (let j = 1; j < r; j++) {
    let v = 0;
    for (let k = 0; k <= r - 1 - j; k++) {
      const i = j + k;
      if (i < p) v += phiFull[i] * gamma[k + 1];
      if (i <= q) v += thetaFull[i - 1] * psi[k];
    }
    out[j] = v;
  }
  return true;
}

/** Work space of the ARMA filter for a state of dimension r. */
export class KalmanWorkspace {
  readonly r: number;
  readonly phi: Float64Array;
  /** Predicted state a_{t+1|t} (after a run: the one-step-ahead state beyond the data). */
  readonly a: Float64Array;
  readonly g: Float64Array;
  readonly W: Float64Array;
  readonly P0col: Float64Array;
  /** Indices i with φ*_{i+1} possibly non-zero. */
  readonly arIndex: Int32Array;
  arCount = 0;

  constructor(r: number) {
    this.r = r;
    this.phi = new Float64Array(r);
    this.a = new Float64Array(r);
    this.g = new Float64Array(r);
    this.W = new Float64Array(r);
    this.P0col = new Float64Array(r);
    this.arIndex = new Int32Array(r);
  }

  /** Loads φ* padded to the state dimension. */
  load(phiFull: ArrayLike<number>): void {
    this.phi.fill(0);
    let count = 0;
    for (let i = 0; i < phiFull.length; i++) {
      this.phi[i] = phiFull[i];
      if (phiFull[i] !== 0) this.arIndex[count++] = i;
    }
    this.arCount = count;
  }
}

export interface KalmanResult {
  /** Σ v_t² / F_t (innovations standardised by their variance in units of σ²). */
  ssq: number;
  /** Σ log F_t. */
  sumLog: number;
}

/**
 * Exact Gaussian likelihood pieces of a zero-mean stationary ARMA series w (what R's `ARIMA_Like`
 * computes, here on the differenced data, σ² concentrated out). The Kalman filter starts from the
 * stationary state covariance P0; because P0 = T P0 T' + R R', the change of the predicted covariance
 * ΔP_t = P_{t+1} − P_t has rank one, and the Chandrasekhar recursions (Morf, Sidhu & Kailath 1974)
 * propagate it as W_t M_t W_t' in O(r) per observation instead of the Riccati update's O(r²):
 *
 *   F_{t+1} = F_t + M_t u², u = W_t[0];  g_{t+1} = g_t + T W_t M_t u  (g = T P Z', the unscaled gain);
 *   W_{t+1} = T W_t − g_{t+1} u / F_{t+1};  M_{t+1} = M_t + (M_t u)² / F_t;
 *   starting from F_1 = P0[0,0], g_1 = T P0[:,0], W_1 = g_1, M_1 = −1/F_1.
 *
 * Optionally writes the standardised innovations v_t/√F_t; leaves a_{n+1|n} in `ws.a`. Returns null
 * when the innovation variance degenerates.
 */
export function kalmanLikelihood(
  w: Float64Array,
  ws: KalmanWorkspace,
  resid: Float64Array | null,
): KalmanResult | null {
  const r = ws.r;
  const n = w.length;
  const { phi, a, g, W, P0col } = ws;
  const lags = ws.arIndex;
  const nl = ws.arCount;
  a.fill(0);
  let F = P0col[0];
  if (!(F > 0)) return null;
  for (let i = 0; i < r; i++) {
    g[i] = phi[i] * F + (i + 1 < r ? P0col[i + 1] : 0);
    W[i] = g[i];
  }
  let M = -1 / F;
  let ssq = 0;
  let sumLog = 0;
  const last = r - 1;
  for (let t = 0; t < n; t++) {
    if (!(F > 0)) return null;
    const v = w[t] - a[0];
    ssq += (v * v) / F;
    sumLog += Math.log(F);
    if (resid !== null) resid[t] = v / Math.sqrt(F);
    const scale = v / F;
    const a0 = a[0];
    const w0 = W[0];
    const mu = M * w0;
    const Fnext = F + mu * w0;
    const uf = w0 / Fnext;
    const c1 = 1 - mu * uf;
    // a_{t+1} = T a_t + g_t v/F;  g_{t+1} = g_t + (T W_t) μ;  W_{t+1} = (T W_t) − g_{t+1} u/F_{t+1}.
    // T x = shift(x) + φ x_0: the dense shift first, then the (sparse) φ terms.
    for (let i = 0; i < last; i++) {
      const gi = g[i];
      const wn = W[i + 1];
      a[i] = a[i + 1] + gi * scale;
      W[i] = wn * c1 - gi * uf;
      g[i] = gi + wn * mu;
    }
    const gl = g[last];
    a[last] = gl * scale;
    W[last] = -gl * uf;
    for (let k = 0; k < nl; k++) {
      const i = lags[k];
      const ph = phi[i];
      a[i] += ph * a0;
      W[i] += ph * w0 * c1;
      g[i] += ph * w0 * mu;
    }
    M += (mu * mu) / F;
    F = Fnext;
  }
  return { ssq, sumLog };
}

/**
 * Conditional-sum-of-squares residuals (R's `ARIMA_CSS` on the differenced series): for t ≥ ncond,
 * e_t = w_t − Σ φ*_k w_{t−k} − Σ θ*_k e_{t−k}, pre-sample residuals zero. Only the structural lags are
 * visited. Writes e_t to out[t − ncond] and returns Σ e_t².
 */
export function cssResiduals(
  w: Float64Array,
  ncond: number,
  arLags: Int32Array,
  arFull: Float64Array,
  maLags: Int32Array,
  maFull: Float64Array,
  e: Float64Array,
  out: Float64Array | null,
): number {
  const n = w.length;
  const na = arLags.length;
  const nm = maLags.length;
  const maxMa = nm > 0 ? maLags[nm - 1] : 0;
  let ssq = 0;
  for (let t = 0; t < ncond && t < n; t++) e[t] = 0;
  for (let t = ncond; t < n; t++) {
    let ar = 0;
    for (let k = 0; k < na; k++) {
      const lag = arLags[k];
      ar += arFull[lag - 1] * w[t - lag];
    }
    let ma = 0;
    const limit = t - ncond;
    if (limit >= maxMa) {
      for (let k = 0; k < nm; k++) {
        const lag = maLags[k];
        ma += maFull[lag - 1] * e[t - lag];
      }
    } else {
      for (let k = 0; k < nm; k++) {
        const lag = maLags[k];
        if (lag > limit) break;
        ma += maFull[lag - 1] * e[t - lag];
      }
    }
    const v = w[t] - ar - ma;
    e[t] = v;
    if (out !== null) out[t - ncond] = v;
    ssq += v * v;
  }
  return ssq;
}

export interface LeastSquaresProblem {
  /** Number of residuals. */
  readonly size: number;
  /** Residual vector at x (written to out); false when x is not admissible. */
  residuals(x: Float64Array, out: Float64Array): boolean;
  /**
   * Analytic Jacobian at x (column-major, column c at c·size). `r` holds r(x) when x is the point last
   * evaluated, and is recomputed otherwise. Returns false to fall back to finite differences.
   */
  jacobian?(x: Float64Array, r: Float64Array, J: Float64Array): boolean;
  /**
   * Called after each accepted step; may move x to an equivalent point (same objective value) and
   * then returns true.
   */
  normalize?(x: Float64Array): boolean;
}

export interface LeastSquaresResult {
  readonly x: Float64Array;
  /** Sum of squared residuals at x. */
  readonly value: number;
  readonly iterations: number;
}

/** Σ_i a[ao + i]·b[bo + i] with four partial sums (breaks the dependency chain of one accumulator). */
function dot(a: Float64Array, ao: number, b: Float64Array, bo: number, n: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += a[ao + i] * b[bo + i];
    s1 += a[ao + i + 1] * b[bo + i + 1];
    s2 += a[ao + i + 2] * b[bo + i + 2];
    s3 += a[ao + i + 3] * b[bo + i + 3];
  }
  for (; i < n; i++) s0 += a[ao + i] * b[bo + i];
  return s0 + s1 + (s2 + s3);
}

/** Cholesky solve of (B + λ·diag(A)) δ = −g; returns false when the matrix is not positive definite. */
function dampedSolve(
  B: Float64Array,
  A: Float64Array,
  g: Float64Array,
  lambda: number,
  k: number,
  L: Float64Array,
  out: Float64Array,
): boolean {
  let maxDiag = 0;
  for (let i = 0; i < k; i++) maxDiag = Math.max(maxDiag, A[i * k + i]);
  const floor = Math.max(maxDiag * 1e-12, 1e-300);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j <= i; j++) {
      let s = B[i * k + j];
      if (i === j) s += lambda * Math.max(A[i * k + i], floor);
      for (let l = 0; l < j; l++) s -= L[i * k + l] * L[j * k + l];
      if (i === j) {
        if (!(s > 0)) return false;
        L[i * k + i] = Math.sqrt(s);
      } else {
        L[i * k + j] = s / L[j * k + j];
      }
    }
  }
  for (let i = 0; i < k; i++) {
    let s = -g[i];
    for (let l = 0; l < i; l++) s -= L[i * k + l] * out[l];
    out[i] = s / L[i * k + i];
  }
  for (let i = k - 1; i >= 0; i--) {
    let s = out[i];
    for (let l = i + 1; l < k; l++) s -= L[l * k + i] * out[l];
    out[i] = s / L[i * k + i];
  }
  return true;
}

/**
 * Minimises ‖r(x)‖² by damped Newton steps on the structured model J'J + S (Dennis, Gay & Welsch 1981,
 * the NL2SOL "augmented" model): J is a forward-difference Jacobian (backwards when the forward point is
 * not admissible) and S a secant approximation of Σ r_i ∇²r_i, which matters here because ARMA residuals
 * are not small (plain Gauss–Newton only converges linearly). Damping follows Levenberg–Marquardt.
 * Stops when an accepted step lowers the sum of squares by less than `tolerance` (relative), when no
 * damping gives a decrease, or after `maxIterations`. Returns null when r(x0) is not admissible.
 */
export function levenbergMarquardt(
  problem: LeastSquaresProblem,
  x0: ArrayLike<number>,
  steps: ArrayLike<number>,
  options: {
    maxIterations?: number;
    tolerance?: number;
    secant?: boolean;
    /** Extra stopping rule, checked after each accepted step. */
    stop?: (x: Float64Array) => boolean;
  } = {},
): LeastSquaresResult | null {
  const k = x0.length;
  const size = problem.size;
  const maxIterations = options.maxIterations ?? 100;
  const tolerance = options.tolerance ?? 1e-9;
  const secant = options.secant ?? true;
  const x = Float64Array.from(x0);
  let r = new Float64Array(size);
  let trial = new Float64Array(size);
  const perturbed = new Float64Array(size);
  if (!problem.residuals(x, r)) return null;
  let f = 0;
  for (let i = 0; i < size; i++) f += r[i] * r[i];
  if (!Number.isFinite(f)) return null;
  const jtj = new Float64Array(k * k);
  if (k === 0) return { x, value: f, iterations: 0 };
  const J = new Float64Array(size * k);
  const g = new Float64Array(k);
  const B = new Float64Array(k * k);
  const S = new Float64Array(k * k);
  const L = new Float64Array(k * k);
  const delta = new Float64Array(k);
  const xn = new Float64Array(k);
  // Secant data of the previous step: s, the previous gradient J'r and J_old' r_new.
  const sPrev = new Float64Array(k);
  const gPrev = new Float64Array(k);
  const gOldNew = new Float64Array(k);
  const yv = new Float64Array(k);
  const wv = new Float64Array(k);
  const Ss = new Float64Array(k);
  let havePrev = false;
  let lambda = 1e-3;
  let nu = 2;
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const analytic = problem.jacobian?.(x, r, J) ?? false;
    for (let c = 0; c < k && !analytic; c++) {
      const xc = x[c];
      let h = steps[c];
      x[c] = xc + h;
      let ok = problem.residuals(x, perturbed);
      if (!ok) {
        h = -h;
        x[c] = xc + h;
        ok = problem.residuals(x, perturbed);
      }
      x[c] = xc;
      const col = c * size;
      if (ok) for (let i = 0; i < size; i++) J[col + i] = (perturbed[i] - r[i]) / h;
      else J.fill(0, col, col + size);
    }
    for (let a = 0; a < k; a++) {
      const ca = a * size;
      g[a] = dot(J, ca, r, 0, size);
      for (let b = 0; b <= a; b++) {
        const t = dot(J, ca, J, b * size, size);
        jtj[a * k + b] = t;
        jtj[b * k + a] = t;
      }
    }
    if (secant && havePrev) {
      // y = ∇(½f)_new − ∇(½f)_old, y# = (J_new − J_old)' r_new; sized DGW update of S.
      let sy = 0;
      let sSs = 0;
      let sYh = 0;
      for (let a = 0; a < k; a++) {
        yv[a] = g[a] - gPrev[a];
        wv[a] = g[a] - gOldNew[a];
        sy += sPrev[a] * yv[a];
        sYh += sPrev[a] * wv[a];
        let t = 0;
        for (let b = 0; b < k; b++) t += S[a * k + b] * sPrev[b];
        Ss[a] = t;
        sSs += sPrev[a] * t;
      }
      if (sSs !== 0) {
        const tau = Math.min(1, Math.abs(sYh / sSs));
        for (let i = 0; i < k * k; i++) S[i] *= tau;
        for (let a = 0; a < k; a++) Ss[a] *= tau;
      }
      if (sy > 0) {
        let ws = 0;
        for (let a = 0; a < k; a++) {
          wv[a] -= Ss[a];
          ws += wv[a] * sPrev[a];
        }
        for (let a = 0; a < k; a++) {
          for (let b = 0; b < k; b++) {
            S[a * k + b] += (wv[a] * yv[b] + yv[a] * wv[b]) / sy - (ws * yv[a] * yv[b]) / (sy * sy);
          }
        }
      }
    }
    for (let i = 0; i < k * k; i++) B[i] = jtj[i] + S[i];
    let improved = false;
    let relative = 0;
    while (lambda < 1e12) {
      if (dampedSolve(B, jtj, g, lambda, k, L, delta)) {
        for (let c = 0; c < k; c++) xn[c] = x[c] + delta[c];
        if (problem.residuals(xn, trial)) {
          let fn = 0;
          for (let i = 0; i < size; i++) fn += trial[i] * trial[i];
          if (fn < f) {
            // Gain ratio of the step against the model's predicted decrease of ½‖r‖² (Nielsen 1999).
            let predicted = 0;
            for (let a = 0; a < k; a++) {
              let t = 0;
              for (let b = 0; b < k; b++) t += B[a * k + b] * delta[b];
              predicted -= g[a] * delta[a] + 0.5 * delta[a] * t;
            }
            const rho = predicted > 0 ? (0.5 * (f - fn)) / predicted : 0;
            relative = (f - fn) / Math.max(f, 1e-300);
            f = fn;
            for (let a = 0; a < k; a++) {
              gOldNew[a] = dot(J, a * size, trial, 0, size);
              gPrev[a] = g[a];
              sPrev[a] = delta[a];
            }
            havePrev = true;
            x.set(xn);
            const swap = r;
            r = trial;
            trial = swap;
            if (problem.normalize?.(x) === true) {
              // Equivalent point: same objective, new parametrisation; restart the secant model.
              if (!problem.residuals(x, r)) return null;
              f = 0;
              for (let i = 0; i < size; i++) f += r[i] * r[i];
              havePrev = false;
              S.fill(0);
            }
            const c = 2 * rho - 1;
            lambda = Math.max(lambda * Math.max(1 / 3, 1 - c * c * c), 1e-12);
            nu = 2;
            improved = true;
            break;
          }
        }
      }
      lambda *= nu;
      nu *= 2;
    }
    if (!improved || relative < tolerance || (options.stop?.(x) ?? false)) {
      iterations++;
      break;
    }
  }
  return { x, value: f, iterations };
}
