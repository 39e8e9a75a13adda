/**
 * One forecast, start to finish, as a pure function: the requested engine, falling back to simpler
 * ones when the series is too short for it, and quantiles from the model's error distribution.
 * Runs the same on the event loop and on a worker thread.
 */
import { qnorm } from './math';
import { detectSeasonLength } from './prepare';
import { AUTO_ENGINE, ENGINES, LOCAL_ENGINE_NAMES, type LocalEngineName, fallbackChain } from './registry';
import { InsufficientDataError, type EngineForecast } from './types';

export interface ForecastTask {
  readonly values: readonly number[];
  readonly horizon: number;
  readonly engine: LocalEngineName;
  /** Undefined: detected from the series here (off the event loop when the task runs on the pool). */
  readonly seasonLength?: number;
  readonly quantiles: readonly number[];
}

export interface ForecastOutcome {
  /** The engine that served (may differ from the requested one after a fallback). */
  readonly engine: LocalEngineName;
  readonly model: string;
  readonly predictions: number[];
  readonly quantiles: Record<string, number[]>;
  /** The seasonal period the engines used. */
  readonly seasonLength: number;
  /** Engines that could not serve this series, in the order tried, with why. */
  readonly skipped: { engine: LocalEngineName; reason: string }[];
}

export function isLocalEngine(name: string): name is LocalEngineName {
  return (LOCAL_ENGINE_NAMES as readonly string[]).includes(name);
}

/** The key of a quantile level in responses: "0.1", "0.95" (no float noise). */
export function quantileKey(level: number): string {
  return String(Number(level.toPrecision(12)));
}

export function runForecast(task: ForecastTask): ForecastOutcome {
  const skipped: { engine: LocalEngineName; reason: string }[] = [];
  const seasonLength = task.seasonLength ?? detectSeasonLength(task.values);
  const requested = task.engine === 'auto' ? AUTO_ENGINE : task.engine;
  for (const name of fallbackChain(requested)) {
    let result: EngineForecast;
    try {
      result = ENGINES[name](task.values, task.horizon, { seasonLength });
    } catch (error) {
      if (!(error instanceof InsufficientDataError)) throw error;
      skipped.push({ engine: name, reason: error.message });
      continue;
    }
    if (!isUsable(result, task.horizon)) {
      skipped.push({ engine: name, reason: 'the fitted model produced non-finite values' });
      continue;
    }
    return {
      engine: name,
      model: result.model,
      predictions: result.mean,
      quantiles: quantilesOf(result, task.quantiles),
      seasonLength,
      skipped,
    };
  }
  // The last engine of every chain (naive) serves any series of length >= 1.
  throw new Error(`no engine could forecast the series (${skipped.map((s) => s.engine).join(', ')})`);
}

function isUsable(result: EngineForecast, horizon: number): boolean {
  if (result.mean.length !== horizon || result.sd.length !== horizon) return false;
  for (let i = 0; i < horizon; i++) {
    if (!Number.isFinite(result.mean[i]) || !Number.isFinite(result.sd[i])) return false;
  }
  return true;
}

function quantilesOf(result: EngineForecast, levels: readonly number[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const level of levels) {
    const z = qnorm(level);
    out[quantileKey(level)] = result.mean.map((m, i) => m + z * Math.max(0, result.sd[i]));
  }
  return out;
}
