import type { EngineForecast } from '../../src/forecasting/engines/types';

/** h finite means and h finite, non-negative standard deviations. */
export function expectWellFormed(out: EngineForecast, h: number): void {
  expect(out.mean).toHaveLength(h);
  expect(out.sd).toHaveLength(h);
  // One assertion per array (per-element expect calls are slow at h = 1000).
  expect(out.mean.filter((v) => !Number.isFinite(v))).toEqual([]);
  expect(out.sd.filter((v) => !Number.isFinite(v) || v < 0)).toEqual([]);
}

/** Seeded linear congruential generator (deterministic noise for the tests). */
export function lcg(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 16807) % 2147483647;
    return state / 2147483647;
  };
}
