import { Injectable } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import type { RemoteWorkerInfo } from '../common/upstream/remote-worker-client';
import { UpstreamError } from '../common/upstream/upstream-error';
import { validateBatchItem } from '../common/http/validation';
import { AppConfig } from '../config/app-config';
import {
  DEFAULT_HORIZON,
  DEFAULT_QUANTILES,
  ForecastBatchItemDto,
  type ForecastRequestDto,
  type ForecastResponseDto,
} from './dto/forecast.dto';
import { detectSeasonLength, givenSeasonLength, imputeMissing } from './engines/prepare';
import { LOCAL_ENGINE_NAMES, type LocalEngineName } from './engines/registry';
import { isLocalEngine, runForecast, type ForecastOutcome, type ForecastTask } from './engines/run';
import { ForecastPool } from './forecast-pool';
import runChunk, { type WorkerResult } from './forecast.worker';
import { ForecastingMetrics } from './forecasting.metrics';
import { RemoteForecaster } from './remote-forecaster';

/** A validated request, ready for an engine. */
interface Prepared {
  readonly request: ForecastRequestDto;
  readonly task: ForecastTask;
  /** Ask the remote worker first. */
  readonly remote: boolean;
  readonly imputed: number;
  readonly skipped: { engine: string; reason: string }[];
}

export type BatchResult =
  (ForecastResponseDto & { id?: string | number }) | { id?: string | number; error: string; message: string };

const REMOTE_BATCH_CONCURRENCY = 8;

/**
 * Forecasting: validates and prepares series, runs the engines (inline for small work, on worker
 * threads for large), and asks the remote model worker when one is configured, falling back to the
 * local engines when it cannot answer.
 */
@Injectable()
export class ForecastingService {
  constructor(
    private readonly config: AppConfig,
    private readonly pool: ForecastPool,
    private readonly remote: RemoteForecaster,
    private readonly metrics: ForecastingMetrics,
  ) {}

  async forecast(request: ForecastRequestDto, signal?: AbortSignal): Promise<ForecastResponseDto> {
    const prepared = this.prepare(request);
    if (prepared.remote) return this.viaRemote(prepared, signal);
    const started = process.hrtime.bigint();
    const outcome = await this.runOne(prepared.task, signal);
    return this.respond(prepared, outcome, seconds(started));
  }

  async forecastBatch(items: unknown[], signal?: AbortSignal): Promise<{ results: BatchResult[] }> {
    this.checkBatchSize('items', items.length);
    const results = new Array<BatchResult>(items.length);
    const valid: { index: number; request: ForecastBatchItemDto }[] = [];
    items.forEach((item, index) => {
      try {
        valid.push({ index, request: validateBatchItem(ForecastBatchItemDto, item, index) });
      } catch (error) {
        results[index] = itemError(item, error);
      }
    });
    const answers = await this.forecastEach(
      valid.map((v) => v.request),
      signal,
    );
    valid.forEach(({ index }, k) => (results[index] = answers[k]));
    return { results };
  }

  /** The remote forecasting worker (FORECAST_REMOTE_URL), for status pages: none, or one. */
  remoteWorkers(): RemoteWorkerInfo[] {
    const info = this.remote.info();
    return info ? [info] : [];
  }

  /**
   * Forecasts validated requests, in order, as a batch does: each one's series is checked on its own
   * (a series the service refuses gets its error, the others are served), the local ones run together
   * (inline or on the worker pool), the remote ones go to the worker.
   */
  async forecastEach(requests: readonly ForecastRequestDto[], signal?: AbortSignal): Promise<BatchResult[]> {
    const results = new Array<BatchResult>(requests.length);
    const local: { index: number; prepared: Prepared }[] = [];
    const remote: { index: number; prepared: Prepared }[] = [];
    requests.forEach((request, index) => {
      try {
        const prepared = this.prepare(request);
        (prepared.remote ? remote : local).push({ index, prepared });
      } catch (error) {
        results[index] = itemError(request, error);
      }
    });
    await Promise.all([this.runLocal(local, results, signal), this.runRemote(remote, results, signal)]);
    return results;
  }

  /** Refuses a request with more series than FORECAST_BATCH_MAX_ITEMS (`field` names them). */
  checkBatchSize(field: string, count: number): void {
    const limit = this.config.FORECAST_BATCH_MAX_ITEMS;
    if (count > limit) {
      throw new AppError(
        'validation_failed',
        `Request is invalid: ${field} must contain at most ${limit} entries (got ${count})`,
        { details: [{ field, messages: [`at most ${limit} entries`] }] },
      );
    }
  }

  /** Engines and the remote worker's state, for discovery. */
  describe(): {
    engines: readonly string[];
    default: string;
    remote: { configured: boolean; kind: string; state?: string; for_auto: boolean };
  } {
    return {
      engines: [...LOCAL_ENGINE_NAMES, ...(this.remote.configured ? ['remote'] : [])],
      default: 'auto',
      remote: {
        configured: this.remote.configured,
        kind: this.config.FORECAST_REMOTE_KIND,
        state: this.remote.state,
        for_auto: this.config.FORECAST_REMOTE_FOR_AUTO,
      },
    };
  }

  private prepare(request: ForecastRequestDto): Prepared {
    const max = this.config.FORECAST_MAX_POINTS;
    if (request.series.length > max) {
      throw new AppError(
        'validation_failed',
        `Request is invalid: series must contain at most ${max} points (got ${request.series.length})`,
        {
          details: [{ field: 'series', messages: [`at most ${max} points`] }],
        },
      );
    }
    const imputed = imputeMissing(request.series);
    if (!imputed) {
      throw new AppError(
        'validation_failed',
        'Request is invalid: series has no observed value (every point is null)',
        {
          details: [{ field: 'series', messages: ['at least one value must be a number'] }],
        },
      );
    }
    const requested = request.engine ?? 'auto';
    const skipped: { engine: string; reason: string }[] = [];
    let remote = false;
    if (
      requested === 'remote' ||
      (requested === 'auto' && this.remote.configured && this.config.FORECAST_REMOTE_FOR_AUTO)
    ) {
      if (this.remote.configured) remote = true;
      else skipped.push({ engine: 'remote', reason: 'no remote forecasting worker is configured' });
    }
    const engine: LocalEngineName = isLocalEngine(requested) ? requested : 'auto';
    // A period to detect is detected where the forecast runs (the worker pool for long series).
    const seasonLength = givenSeasonLength(request.season_length, request.frequency);
    return {
      request,
      remote,
      imputed: imputed.imputed,
      skipped,
      task: {
        values: imputed.values,
        horizon: request.horizon ?? DEFAULT_HORIZON,
        engine,
        seasonLength,
        quantiles: request.quantiles ?? DEFAULT_QUANTILES,
      },
    };
  }

  private async viaRemote(prepared: Prepared, signal?: AbortSignal): Promise<ForecastResponseDto> {
    let started = process.hrtime.bigint();
    const { task, request } = prepared;
    // A remote worker is sent the period, so one to detect is detected here.
    const seasonLength = task.seasonLength ?? detectSeasonLength(task.values);
    try {
      const answer = await this.remote.forecast(
        {
          series: task.values as number[],
          horizon: task.horizon,
          metric: request.metric,
          season_length: seasonLength,
          frequency: request.frequency,
          quantiles: task.quantiles as number[],
        },
        signal,
      );
      this.metrics.served('remote', seconds(started), task.values.length);
      return this.body(prepared, {
        engine: answer.engine,
        model: answer.model ?? answer.engine,
        predictions: answer.predictions,
        quantiles: answer.quantiles,
        seasonLength,
      });
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      this.metrics.fallback('remote', error.errorClass);
      const local: Prepared = {
        ...prepared,
        remote: false,
        skipped: [...prepared.skipped, { engine: 'remote', reason: error.message }],
        task: { ...task, seasonLength, engine: 'auto' },
      };
      started = process.hrtime.bigint();
      const outcome = await this.runOne(local.task, signal);
      return this.respond(local, outcome, seconds(started), true);
    }
  }

  /** One forecast: inline when the series is short, else on the worker pool. */
  private async runOne(task: ForecastTask, signal?: AbortSignal): Promise<ForecastOutcome> {
    if (task.values.length <= this.config.FORECAST_INLINE_MAX_POINTS) return runForecast(task);
    return unwrap((await this.pool.run([task], signal))[0]);
  }

  private async runLocal(
    entries: { index: number; prepared: Prepared }[],
    results: BatchResult[],
    signal?: AbortSignal,
  ): Promise<void> {
    if (entries.length === 0) return;
    const points = entries.reduce((sum, e) => sum + e.prepared.task.values.length, 0);
    const started = process.hrtime.bigint();
    let outcomes: WorkerResult[];
    if (points <= this.config.FORECAST_INLINE_MAX_POINTS) {
      outcomes = runChunk(entries.map((e) => e.prepared.task));
    } else {
      outcomes = await this.pool.run(
        entries.map((e) => e.prepared.task),
        signal,
      );
    }
    // The latency of one forecast of a batch is its share of the batch's time.
    const share = seconds(started) / entries.length;
    entries.forEach(({ index, prepared }, k) => {
      const result = outcomes[k];
      results[index] = result.ok
        ? withId(prepared, this.respond(prepared, result.outcome, share))
        : { id: idOf(prepared), error: 'internal_error', message: 'The forecast failed unexpectedly' };
    });
  }

  private async runRemote(
    entries: { index: number; prepared: Prepared }[],
    results: BatchResult[],
    signal?: AbortSignal,
  ): Promise<void> {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < entries.length) {
        const { index, prepared } = entries[next++];
        results[index] = withId(prepared, await this.viaRemote(prepared, signal));
      }
    };
    await Promise.all(Array.from({ length: Math.min(REMOTE_BATCH_CONCURRENCY, entries.length) }, lane));
  }

  private respond(
    prepared: Prepared,
    outcome: ForecastOutcome,
    elapsedSeconds: number,
    fallback = false,
  ): ForecastResponseDto {
    this.metrics.served(outcome.engine, elapsedSeconds, prepared.task.values.length);
    for (const skip of outcome.skipped) this.metrics.fallback('model', skip.engine);
    return this.body(
      { ...prepared, skipped: [...prepared.skipped, ...outcome.skipped] },
      {
        engine: outcome.engine,
        model: outcome.model,
        predictions: outcome.predictions,
        quantiles: outcome.quantiles,
        seasonLength: outcome.seasonLength,
      },
      fallback,
    );
  }

  private body(
    prepared: Prepared,
    result: {
      engine: string;
      model: string;
      predictions: number[];
      quantiles?: Record<string, number[]>;
      seasonLength: number;
    },
    fallback = false,
  ): ForecastResponseDto {
    const { task, request } = prepared;
    const response: ForecastResponseDto = {
      engine: result.engine,
      horizon: task.horizon,
      predictions: result.predictions,
      lastValue: task.values[task.values.length - 1],
      model: result.model,
      season_length: result.seasonLength,
    };
    if (result.quantiles && Object.keys(result.quantiles).length > 0) response.quantiles = result.quantiles;
    if (request.metric !== undefined) response.metric = request.metric;
    if (prepared.imputed > 0) response.imputed = prepared.imputed;
    if (fallback) response.fallback = true;
    if (prepared.skipped.length > 0) response.skipped = prepared.skipped;
    return response;
  }
}

function seconds(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function unwrap(result: WorkerResult): ForecastOutcome {
  if (!result.ok) throw new Error(`forecast worker failed: ${result.message}`);
  return result.outcome;
}

function idOf(prepared: Prepared): string | number | undefined {
  return prepared.request instanceof ForecastBatchItemDto ? prepared.request.id : undefined;
}

function withId(prepared: Prepared, response: ForecastResponseDto): BatchResult {
  const id = idOf(prepared);
  return id === undefined ? response : { id, ...response };
}

function itemError(item: unknown, error: unknown): BatchResult {
  const raw = typeof item === 'object' && item !== null ? (item as { id?: unknown }).id : undefined;
  const id = typeof raw === 'string' || typeof raw === 'number' ? raw : undefined;
  if (error instanceof AppError) return { id, error: error.code, message: error.message };
  throw error;
}
