import { AppError } from '../common/errors/app-error';
import type { ModelEntry } from './catalog';

/** One (model, instance) pair that could serve a request. */
export interface Candidate {
  model: ModelEntry;
  instanceId: string;
  /** The model's name as this instance knows it (its declaration may use an alias). */
  upstreamModel: string;
  /** Observed latency (EWMA, ms) of this model on this instance; null when never measured. */
  latencyMs: number | null;
}

export interface StrategyContext {
  /** Expected tokens, to weigh input and output prices. */
  inputTokens: number;
  outputTokens: number;
}

/** Expected price of a call in USD-per-1M units (only relative order matters). */
export function expectedPrice(c: Candidate, ctx: StrategyContext): number {
  return c.model.input_usd_per_1m * ctx.inputTokens + c.model.output_usd_per_1m * ctx.outputTokens;
}

/** Unmeasured instances are tried as if fast, so that every instance gets measured. */
function latency(c: Candidate): number {
  return c.latencyMs ?? 0;
}

const byName = (a: Candidate, b: Candidate): number =>
  a.model.name.localeCompare(b.model.name) || a.instanceId.localeCompare(b.instanceId);

/** Cheapest first; ties by quality, then latency. */
export function costOptimized(candidates: readonly Candidate[], ctx: StrategyContext): Candidate[] {
  return [...candidates].sort(
    (a, b) =>
      expectedPrice(a, ctx) - expectedPrice(b, ctx) ||
      b.model.quality - a.model.quality ||
      latency(a) - latency(b) ||
      byName(a, b),
  );
}

/** Fastest observed first; ties by price. */
export function latencyOptimized(candidates: readonly Candidate[], ctx: StrategyContext): Candidate[] {
  return [...candidates].sort(
    (a, b) => latency(a) - latency(b) || expectedPrice(a, ctx) - expectedPrice(b, ctx) || byName(a, b),
  );
}

/** Best quality first; ties by price, then latency. */
export function qualityOptimized(candidates: readonly Candidate[], ctx: StrategyContext): Candidate[] {
  return [...candidates].sort(
    (a, b) =>
      b.model.quality - a.model.quality ||
      expectedPrice(a, ctx) - expectedPrice(b, ctx) ||
      latency(a) - latency(b) ||
      byName(a, b),
  );
}

export const BALANCED_WEIGHTS = { quality: 0.5, cost: 0.3, latency: 0.2 } as const;

/** Min-max normalisation to 0..1 (all equal → 0). */
function normaliser(values: number[]): (v: number) => number {
  const min = Math.min(...values);
  const max = Math.max(...values);
  return (v) => (max === min ? 0 : (v - min) / (max - min));
}

/**
 * balanced: score = 0.5·quality + 0.3·(1 − cost) + 0.2·(1 − latency), each term
 * min-max normalised over the candidates; highest score first.
 */
export function balanced(candidates: readonly Candidate[], ctx: StrategyContext): Candidate[] {
  const q = normaliser(candidates.map((c) => c.model.quality));
  const p = normaliser(candidates.map((c) => expectedPrice(c, ctx)));
  const l = normaliser(candidates.map(latency));
  const score = (c: Candidate): number =>
    BALANCED_WEIGHTS.quality * q(c.model.quality) +
    BALANCED_WEIGHTS.cost * (1 - p(expectedPrice(c, ctx))) +
    BALANCED_WEIGHTS.latency * (1 - l(latency(c)));
  return [...candidates].sort((a, b) => score(b) - score(a) || byName(a, b));
}

type StrategyFunction = (candidates: readonly Candidate[], ctx: StrategyContext) => Candidate[];

/** The routing strategies by name: the one place they are listed. */
export const STRATEGY_FUNCTIONS = {
  cost_optimized: costOptimized,
  latency_optimized: latencyOptimized,
  quality_optimized: qualityOptimized,
  balanced,
} as const satisfies Record<string, StrategyFunction>;

export type Strategy = keyof typeof STRATEGY_FUNCTIONS;
export const STRATEGIES = Object.keys(STRATEGY_FUNCTIONS) as readonly Strategy[];

/** A strategy named by a client (header, body field); `fallback` when none is named. */
export function parseStrategy(value: string | undefined, fallback: Strategy = 'balanced'): Strategy {
  if (value === undefined || value === '') return fallback;
  if (!(STRATEGIES as readonly string[]).includes(value)) {
    throw new AppError('validation_failed', `Unknown strategy ${value}: use one of ${STRATEGIES.join(', ')}`);
  }
  return value as Strategy;
}
