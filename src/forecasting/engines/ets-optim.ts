/**
 * Nelder–Mead in the exact form of R's `optim(method = "Nelder-Mead")` (nmmin), which `forecast::ets`
 * calls: one common initial step of 10 % of the largest |x0ᵢ|, reflection 1, contraction 0.5, expansion 2,
 * `maxit` counting function evaluations, convergence when the simplex's values are within reltol·(|f(x0)| +
 * reltol) (R) or within a given absolute tolerance. Allocation-free inside the loop (the likelihood is
 * evaluated thousands of times).
 */

const BIG = 1.0e35;

export interface SimplexResult {
  readonly x: Float64Array;
  readonly value: number;
  readonly evaluations: number;
}

export interface SimplexOptions {
  /** Maximum number of function evaluations (R: maxit). */
  readonly maxit: number;
  /** R's relative tolerance (default √ε), used when no absolute tolerance is given. */
  readonly reltol?: number;
  /** Absolute tolerance on the spread of the simplex's values. */
  readonly abstol?: number;
}

export function simplexMinimize(
  f: (x: Float64Array) => number,
  x0: ArrayLike<number>,
  options: SimplexOptions,
): SimplexResult {
  const maxit = options.maxit;
  const reltol = options.reltol ?? 1.490116119384765625e-8;
  const n = x0.length;
  const bvec = Float64Array.from(x0);
  let fx = f(bvec);
  if (!Number.isFinite(fx)) return { x: bvec, value: Infinity, evaluations: 1 };
  const convtol = options.abstol ?? reltol * (Math.abs(fx) + reltol);
  const n1 = n + 1;
  // Vertices as rows of a flat array; values separately; centroid in its own buffer.
  const p = new Float64Array(n1 * n);
  const values = new Float64Array(n1);
  const centroid = new Float64Array(n);
  const trial = new Float64Array(n);
  for (let i = 0; i < n; i++) p[i] = bvec[i];
  values[0] = fx;
  let step = 0;
  for (let i = 0; i < n; i++) if (0.1 * Math.abs(bvec[i]) > step) step = 0.1 * Math.abs(bvec[i]);
  if (step === 0) step = 0.1;
  let size = 0;
  for (let j = 1; j <= n; j++) {
    const row = j * n;
    for (let i = 0; i < n; i++) p[row + i] = bvec[i];
    let tryStep = step;
    while (p[row + j - 1] === bvec[j - 1]) {
      p[row + j - 1] = bvec[j - 1] + tryStep;
      tryStep *= 10;
    }
    size += tryStep;
  }
  let oldSize = size;
  let calcVert = true;
  let funcount = 1;
  let low = 0;
  const evalRow = (row: number): number => {
    for (let i = 0; i < n; i++) trial[i] = p[row * n + i];
    const v = f(trial);
    return Number.isFinite(v) ? v : BIG;
  };
  for (;;) {
    if (calcVert) {
      for (let j = 0; j < n1; j++) {
        if (j !== low) {
          values[j] = evalRow(j);
          funcount++;
        }
      }
      calcVert = false;
    }
    let vl = values[low];
    let vh = vl;
    let high = low;
    for (let j = 0; j < n1; j++) {
      if (j === low) continue;
      const v = values[j];
      if (v < vl) {
        low = j;
        vl = v;
      }
      if (v > vh) {
        high = j;
        vh = v;
      }
    }
    if (vh <= vl + convtol) break;
    const hRow = high * n;
    for (let i = 0; i < n; i++) {
      let temp = -p[hRow + i];
      for (let j = 0; j < n1; j++) temp += p[j * n + i];
      centroid[i] = temp / n;
    }
    for (let i = 0; i < n; i++) bvec[i] = 2 * centroid[i] - p[hRow + i];
    fx = f(bvec);
    if (!Number.isFinite(fx)) fx = BIG;
    funcount++;
    const vr = fx;
    if (vr < vl) {
      // Expansion: centroid moves to the reflected point, bvec to the expanded one.
      for (let i = 0; i < n; i++) {
        const e = 2 * bvec[i] - centroid[i];
        centroid[i] = bvec[i];
        bvec[i] = e;
      }
      fx = f(bvec);
      if (!Number.isFinite(fx)) fx = BIG;
      funcount++;
      if (fx < vr) {
        for (let i = 0; i < n; i++) p[hRow + i] = bvec[i];
        values[high] = fx;
      } else {
        for (let i = 0; i < n; i++) p[hRow + i] = centroid[i];
        values[high] = vr;
      }
    } else {
      if (vr < vh) {
        for (let i = 0; i < n; i++) p[hRow + i] = bvec[i];
        values[high] = vr;
      }
      for (let i = 0; i < n; i++) bvec[i] = 0.5 * p[hRow + i] + 0.5 * centroid[i];
      fx = f(bvec);
      if (!Number.isFinite(fx)) fx = BIG;
      funcount++;
      if (fx < values[high]) {
        for (let i = 0; i < n; i++) p[hRow + i] = bvec[i];
        values[high] = fx;
      } else if (vr >= vh) {
        // Shrink towards the best vertex.
        calcVert = true;
        size = 0;
        const lRow = low * n;
        for (let j = 0; j < n1; j++) {
          if (j === low) continue;
          for (let i = 0; i < n; i++) {
            p[j * n + i] = 0.5 * (p[j * n + i] - p[lRow + i]) + p[lRow + i];
            size += Math.abs(p[j * n + i] - p[lRow + i]);
          }
        }
        if (size < oldSize) oldSize = size;
        else break;
      }
    }
    if (funcount > maxit) break;
  }
  const best = new Float64Array(n);
  for (let i = 0; i < n; i++) best[i] = p[low * n + i];
  return { x: best, value: values[low], evaluations: funcount };
}
