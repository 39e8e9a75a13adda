import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { withTimeout } from '../../common/with-timeout';
import { AppConfig } from '../../config/app-config';
import { MlMetrics } from '../ml.metrics';

/** One answered prediction, as written to ml_predictions. */
export interface PredictionRecord {
  id: string;
  model_name: string;
  arm: string;
  model_version: string;
  served_by: 'local' | 'remote';
  fallback: boolean;
  symbol: string | null;
  direction: string;
  confidence: number;
  expected_return: number | null;
  latency_ms: number;
  user_id: string | null;
  project_id: string | null;
  api_key_id: string | null;
  created_at: Date;
}

const COLUMNS = [
  'id',
  'model_name',
  'arm',
  'model_version',
  'served_by',
  'fallback',
  'symbol',
  'direction',
  'confidence',
  'expected_return',
  'latency_ms',
  'user_id',
  'project_id',
  'api_key_id',
  'created_at',
] as const satisfies readonly (keyof PredictionRecord)[];

const MAX_BACKOFF_MS = 5_000;
const SHUTDOWN_FLUSH_MS = 5_000;

function insertSql(rows: number): string {
  const width = COLUMNS.length;
  const tuples = Array.from(
    { length: rows },
    (_, r) => `(${COLUMNS.map((_, c) => `$${r * width + c + 1}`).join(', ')})`,
  );
  return `INSERT INTO ml_predictions (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (id) DO NOTHING`;
}

/**
 * Prediction records, written off the request path: `record` only appends to memory; a background
 * writer inserts them in multi-row statements every ML_PREDICTION_FLUSH_INTERVAL_MS (at once while
 * batches come full). While Postgres fails the same rows are retried with backoff; beyond
 * ML_PREDICTION_BUFFER_MAX held rows the oldest are dropped (and counted). What is held at shutdown
 * is written then, within a bound. Records are statistics (A/B comparison), not a ledger: a crash
 * loses at most the unflushed interval.
 */
@Injectable()
export class PredictionLog implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('PredictionLog');
  private pending: PredictionRecord[] = [];
  private readonly pendingIds = new Set<string>();
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly metrics: MlMetrics,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule(this.config.ML_PREDICTION_FLUSH_INTERVAL_MS);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const deadline = Date.now() + SHUTDOWN_FLUSH_MS;
    while (this.pending.length > 0 && Date.now() < deadline) {
      try {
        await withTimeout(this.flush(), Math.max(1, deadline - Date.now()), 'prediction records flush');
      } catch (error) {
        this.logger.warn(`Prediction records not written at shutdown: ${(error as Error).message}`);
        break;
      }
    }
    if (this.pending.length > 0) this.logger.warn(`${this.pending.length} prediction records were not written`);
  }

  /** Queues a record; never blocks and never throws. */
  record(record: PredictionRecord): void {
    this.pending.push(record);
    this.pendingIds.add(record.id);
    const overflow = this.pending.length - this.config.ML_PREDICTION_BUFFER_MAX;
    if (overflow > 0) {
      for (const dropped of this.pending.splice(0, overflow)) this.pendingIds.delete(dropped.id);
      this.metrics.recordsDropped(overflow);
    }
    if (this.pending.length >= this.config.ML_PREDICTION_BATCH_SIZE && !this.writing && this.failures === 0) {
      this.kick();
    }
  }

  /** Whether a record is still waiting to be written. */
  isPending(id: string): boolean {
    return this.pendingIds.has(id);
  }

  /** Writes everything queued so far; rejects when Postgres fails (the rows stay queued). */
  async flush(): Promise<void> {
    const target = this.pending[this.pending.length - 1];
    if (!target) return this.writing;
    while (this.pendingIds.has(target.id)) {
      if (this.writing) {
        await this.writing.catch(() => undefined);
        continue;
      }
      this.writing = this.writeBatch().finally(() => (this.writing = undefined));
      await this.writing;
    }
  }

  private kick(): void {
    if (this.writing || this.stopped) return;
    clearTimeout(this.timer);
    void this.tick();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    let delay = this.config.ML_PREDICTION_FLUSH_INTERVAL_MS;
    if (this.pending.length > 0 && !this.writing) {
      this.writing = this.writeBatch().finally(() => (this.writing = undefined));
      try {
        await this.writing;
        if (this.pending.length >= this.config.ML_PREDICTION_BATCH_SIZE) delay = 0;
      } catch {
        delay = Math.min(this.config.ML_PREDICTION_FLUSH_INTERVAL_MS * 2 ** this.failures, MAX_BACKOFF_MS);
      }
    }
    this.schedule(delay);
  }

  /** Inserts the oldest batch; on success removes it from the queue. */
  private async writeBatch(): Promise<void> {
    const batch = this.pending.slice(0, this.config.ML_PREDICTION_BATCH_SIZE);
    if (batch.length === 0) return;
    try {
      const params = batch.flatMap((row) => COLUMNS.map((column) => row[column]));
      await this.dataSource.query(insertSql(batch.length), params);
    } catch (error) {
      this.failures += 1;
      const message = `Writing ${batch.length} prediction records failed (attempt ${this.failures}); retrying: ${(error as Error).message}`;
      if (this.failures === 1) this.logger.warn(message);
      else this.logger.debug(message);
      throw error;
    }
    if (this.failures > 0)
      this.logger.log(`Prediction records are written again after ${this.failures} failed attempts`);
    this.failures = 0;
    // The queue may have been trimmed meanwhile: remove exactly the rows written.
    const written = new Set(batch.map((r) => r.id));
    this.pending = this.pending.filter((r) => !written.has(r.id));
    for (const id of written) this.pendingIds.delete(id);
  }
}
