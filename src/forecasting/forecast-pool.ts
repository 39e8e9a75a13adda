import { availableParallelism } from 'node:os';
import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { Piscina } from 'piscina';
import { compiledScript } from '../common/compiled-script';
import { inSpan } from '../common/tracing/tracing';
import { AppError } from '../common/errors/app-error';
import { AppConfig } from '../config/app-config';
import type { ForecastTask } from './engines/run';
import type { WorkerResult } from './forecast.worker';

/**
 * Worker threads for forecasts too large for the event loop. Started on first use, so a process that
 * only serves small series never spawns them; a batch is split into chunks of similar total length so
 * every thread gets work.
 */
@Injectable()
export class ForecastPool implements OnModuleDestroy {
  private pool?: Piscina;
  readonly threads: number;

  constructor(config: AppConfig) {
    this.threads =
      config.FORECAST_WORKER_THREADS > 0 ? config.FORECAST_WORKER_THREADS : Math.max(1, availableParallelism() - 1);
  }

  async run(tasks: ForecastTask[], signal?: AbortSignal): Promise<WorkerResult[]> {
    const pool = this.started();
    const chunks = chunkByPoints(tasks, this.threads * 2);
    try {
      const parts = await inSpan('forecast worker pool', { 'conflux.series': tasks.length }, () =>
        Promise.all(
          chunks.map(
            (chunk) =>
              pool.run(
                chunk.map((i) => tasks[i]),
                signal ? { signal } : {},
              ) as Promise<WorkerResult[]>,
          ),
        ),
      );
      const results = new Array<WorkerResult>(tasks.length);
      chunks.forEach((chunk, c) => chunk.forEach((taskIndex, k) => (results[taskIndex] = parts[c][k])));
      return results;
    } catch (error) {
      if (signal?.aborted) throw new AppError('bad_request', 'The request was cancelled', { cause: error });
      if (error instanceof Error && /queue is at limit/i.test(error.message)) {
        throw new AppError('service_unavailable', 'Forecast workers are saturated; retry shortly', {
          headers: { 'Retry-After': '1' },
          cause: error,
        });
      }
      throw error;
    }
  }

  get utilization(): number {
    return this.pool?.utilization ?? 0;
  }

  async onModuleDestroy(): Promise<void> {
    await this.pool?.destroy();
    this.pool = undefined;
  }

  private started(): Piscina {
    this.pool ??= new Piscina({
      filename: compiledScript(__dirname, 'forecast.worker.js'),
      minThreads: 0,
      maxThreads: this.threads,
      idleTimeout: 30_000,
      maxQueue: Math.max(64, this.threads * this.threads * 8),
    });
    return this.pool;
  }
}

/** Splits task indices into at most `parts` contiguous chunks of roughly equal total series length. */
export function chunkByPoints(tasks: readonly ForecastTask[], parts: number): number[][] {
  const total = tasks.reduce((sum, t) => sum + t.values.length, 0);
  const target = total / Math.max(1, parts);
  const chunks: number[][] = [];
  let current: number[] = [];
  let size = 0;
  tasks.forEach((task, i) => {
    current.push(i);
    size += task.values.length;
    if (size >= target && chunks.length < parts - 1) {
      chunks.push(current);
      current = [];
      size = 0;
    }
  });
  if (current.length > 0) chunks.push(current);
  return chunks;
}
