/**
 * Shared shapes of the forecasting engines. Everything under `engines/` is pure TypeScript with no
 * framework imports: deterministic functions of their input, safe to run in a worker thread.
 */

/** What an engine is told besides the series and the horizon. */
export interface EngineOptions {
  /** Seasonal period (1 = non-seasonal). */
  readonly seasonLength: number;
}

/** A point forecast with the spread of its error, step by step. */
export interface EngineForecast {
  /** Point forecasts, one per step of the horizon. */
  readonly mean: number[];
  /**
   * Standard deviation of the h-step-ahead forecast error, one per step (from the fitted model's error
   * distribution). Quantiles are mean + z(q) · sd.
   */
  readonly sd: number[];
  /** The model that produced it, e.g. `ETS(M,Ad,N)`, `ARIMA(0,1,1)(0,1,1)[12]`, `Theta`. */
  readonly model: string;
}

/** An engine: a pure function of the (missing-free, finite) series. */
export type Engine = (y: readonly number[], horizon: number, options: EngineOptions) => EngineForecast;

/**
 * Thrown when a series is too short (or otherwise unsuitable) for a model; the caller falls back to a
 * simpler engine and reports which one served.
 */
export class InsufficientDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InsufficientDataError';
  }
}
