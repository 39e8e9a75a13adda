/**
 * The seasonal-strength measure of Wang, Smith & Hyndman (2006) that `forecast::nsdiffs(test = "seas")`
 * thresholds at 0.64, over the non-robust STL decomposition of ./mstl (R's `stats::stl` defaults).
 */
import { variance } from './math';
import { stl } from './mstl';

/**
 * Seasonal strength max(0, min(1, 1 − Var(R)/Var(R + S))) of an STL decomposition with s.window = 11
 * (what `forecast::mstl` uses for a single seasonal period). NaN when the series covers two periods or
 * less, or the decomposition is degenerate.
 */
export function seasonalStrength(x: ArrayLike<number>, m: number): number {
  if (m < 2 || x.length <= 2 * m) return NaN;
  const fit = stl(x, m, { seasonalWindow: 11 });
  const n = x.length;
  const rs = new Float64Array(n);
  for (let i = 0; i < n; i++) rs[i] = fit.remainder[i] + fit.seasonal[i];
  const denominator = variance(rs);
  if (!(denominator > 0)) return NaN;
  return Math.max(0, Math.min(1, 1 - variance(fit.remainder) / denominator));
}
