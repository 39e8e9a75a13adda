import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectMetric } from '@willsoto/nestjs-prometheus';
import type { Counter, Gauge } from 'prom-client';
import { withTimeout } from '../common/with-timeout';
import { AppConfig } from '../config/app-config';
import { LedgerBuffer, LedgerBufferUnavailable } from './ledger.buffer';
import {
  LEDGER_BUFFER_DEPTH,
  LEDGER_DEAD_LETTER_REASONS,
  LEDGER_DEAD_LETTERS,
  LEDGER_ROWS_WRITTEN,
  LEDGER_STREAM_FULL,
  LEDGER_WRITE_ERRORS,
  LEDGER_ERROR_STAGES,
  LEDGER_WRITE_LAG,
  LedgerErrorStage,
} from './ledger.metrics';
import { LedgerRepository, MAX_BATCH_ROWS, WriteResult } from './ledger.repository';

/** Longest wait between two attempts while Postgres (or the buffer) is unavailable. */
export const MAX_BACKOFF_MS = 5_000;
/** How long shutdown may spend writing what this process buffered. */
export const SHUTDOWN_FLUSH_MS = 10_000;

/**
 * Pending stream entries idle this long belong to a dead instance. A live writer
 * re-reads its unacknowledged batch at least every connect + query timeout + backoff.
 */
export function staleAfterMs(config: AppConfig): number {
  const attempt = config.DATABASE_CONNECT_TIMEOUT_MS + config.DATABASE_STATEMENT_TIMEOUT_MS + 1_000;
  return Math.max(60_000, 2 * (attempt + MAX_BACKOFF_MS));
}

type Outcome = 'empty' | 'partial' | 'full' | 'failed';

interface Outage {
  since: number;
  attempts: number;
  /** What failed last. */
  stage: LedgerErrorStage;
}

/**
 * The background writer: every LEDGER_FLUSH_INTERVAL_MS (at once while batches come
 * full) it takes up to LEDGER_BATCH_SIZE entries from the buffer, inserts them in one
 * statement and only then acknowledges them. While Postgres or the buffer fails it
 * retries the same batch with capped exponential backoff: nothing is dropped. At
 * shutdown it writes what this process buffered (bounded by SHUTDOWN_FLUSH_MS) and
 * leaves the rest to the next instance.
 */
@Injectable()
export class LedgerWriter implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('LedgerWriter');
  private readonly batchSize: number;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private shutdown: Promise<void> | undefined;
  private outage: Outage | undefined;
  private retryAt = 0;
  private gaugesAt = 0;
  private written = 0;

  constructor(
    config: AppConfig,
    private readonly buffer: LedgerBuffer,
    private readonly repository: LedgerRepository,
    @InjectMetric(LEDGER_BUFFER_DEPTH) private readonly depthGauge: Gauge<string>,
    @InjectMetric(LEDGER_WRITE_LAG) private readonly lagGauge: Gauge<string>,
    @InjectMetric(LEDGER_ROWS_WRITTEN) private readonly rowsWritten: Counter<string>,
    @InjectMetric(LEDGER_WRITE_ERRORS) private readonly writeErrors: Counter<string>,
    @InjectMetric(LEDGER_STREAM_FULL) private readonly fullGauge: Gauge<string>,
    @InjectMetric(LEDGER_DEAD_LETTERS) private readonly deadLetters: Counter<string>,
  ) {
    this.batchSize = Math.min(config.LEDGER_BATCH_SIZE, MAX_BATCH_ROWS);
    this.intervalMs = config.LEDGER_FLUSH_INTERVAL_MS;
  }

  onApplicationBootstrap(): void {
    // Every series exists from the start, so that rate() and alerts see the first error.
    for (const stage of LEDGER_ERROR_STAGES) this.writeErrors.inc({ stage }, 0);
    for (const reason of LEDGER_DEAD_LETTER_REASONS) this.deadLetters.inc({ reason }, 0);
    this.schedule(this.intervalMs);
  }

  /** After the HTTP drain, before Postgres and Redis are closed. Runs once, however often the app is closed. */
  beforeApplicationShutdown(): Promise<void> {
    this.shutdown ??= this.stopAndFlush();
    return this.shutdown;
  }

  private async stopAndFlush(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const deadline = Date.now() + SHUTDOWN_FLUSH_MS;
    // A step in progress finishes first (one writer at a time), within the same bound.
    const idle = await settlesWithin(this.running, deadline);
    await this.finalFlush(idle ? deadline : Date.now());
  }

  // ------------------------------------------------------------------ background loop

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.runTick(), delayMs);
    this.timer.unref();
  }

  private runTick(): void {
    this.running = this.tick().then((nextMs) => {
      this.running = undefined;
      this.schedule(nextMs);
    });
  }

  /** One step; resolves with the delay before the next one. Never rejects. */
  private async tick(): Promise<number> {
    await this.refreshGauges();
    const wait = this.retryAt - Date.now();
    if (wait > 0) return Math.min(wait, this.intervalMs);
    const outcome = await this.flushOnce();
    return outcome === 'full' ? 0 : this.intervalMs;
  }

  /** Takes, writes and acknowledges one batch. */
  private async flushOnce(): Promise<Outcome> {
    try {
      const batch = await this.buffer.take(this.batchSize);
      if (batch.size === 0) return 'empty';
      const result = await this.repository.write(batch.entries);
      this.count(result);
      await batch.ack(result.rejected);
      this.deadLettered(result.rejected.length, batch.unreadable ?? 0);
      this.succeeded();
      return batch.size >= this.batchSize ? 'full' : 'partial';
    } catch (err) {
      this.failed(err);
      return 'failed';
    }
  }

  // ------------------------------------------------------------------ shutdown

  private async finalFlush(deadline: number): Promise<void> {
    const started = Date.now();
    const writtenBefore = this.written;
    while (this.buffer.hasOwnBacklog() && Date.now() < deadline) {
      const outcome = await this.flushWithin(deadline);
      if (outcome === 'empty') break;
      if (outcome === 'failed') await sleep(Math.min(this.retryAt, deadline) - Date.now());
    }
    const unwritten = this.buffer.hasOwnBacklog();
    const handOff = await this.buffer.handOff();
    await this.refreshGauges(true);
    const rows = this.written - writtenBefore;
    const took = Date.now() - started;
    if (!unwritten) this.logger.log(`Ledger flushed at shutdown: ${rows} rows written in ${took} ms`);
    else if (this.buffer.kind === 'redis') {
      this.logger.warn(
        `${this.unflushedReason()} at shutdown (${rows} rows written in ${took} ms): ${handOff.kept} ledger ` +
          'entries remain in the Redis stream for the next instance',
      );
    }
    if (handOff.lost > 0) {
      this.logger.error(`${handOff.lost} ledger rows could not be written before exit (each logged above)`);
    }
  }

  /** A flush that gives up at `deadline` (a stalled Postgres would otherwise hold shutdown). */
  private async flushWithin(deadline: number): Promise<Outcome> {
    try {
      return await withTimeout(this.flushOnce(), Math.max(1, deadline - Date.now()), 'ledger flush');
    } catch (err) {
      this.failed(err);
      return 'failed';
    }
  }

  private unflushedReason(): string {
    if (!this.outage) return `Ledger flush stopped at its ${SHUTDOWN_FLUSH_MS / 1000} s bound`;
    return this.outage.stage === 'buffer' ? 'Redis unavailable' : 'Postgres unavailable';
  }

  // ------------------------------------------------------------------ bookkeeping

  private count(result: WriteResult): void {
    this.written += result.inserted;
    this.rowsWritten.inc(result.inserted);
    if (result.rejected.length > 0) this.writeErrors.inc({ stage: 'rejected_row' }, result.rejected.length);
  }

  private deadLettered(rejected: number, unreadable: number): void {
    if (rejected > 0) this.deadLetters.inc({ reason: 'rejected_row' }, rejected);
    if (unreadable > 0) this.deadLetters.inc({ reason: 'unreadable' }, unreadable);
  }

  private succeeded(): void {
    this.retryAt = 0;
    if (!this.outage) return;
    const seconds = ((Date.now() - this.outage.since) / 1000).toFixed(1);
    this.logger.log(`Ledger writes resumed after ${seconds} s (${this.outage.attempts} failed attempts)`);
    this.outage = undefined;
  }

  private failed(err: unknown): void {
    const stage: LedgerErrorStage = err instanceof LedgerBufferUnavailable ? 'buffer' : 'insert';
    this.writeErrors.inc({ stage });
    this.outage ??= { since: Date.now(), attempts: 0, stage };
    this.outage.attempts += 1;
    this.outage.stage = stage;
    const backoff = Math.min(this.intervalMs * 2 ** (this.outage.attempts - 1), MAX_BACKOFF_MS);
    this.retryAt = Date.now() + backoff;
    const message = `Ledger write failed (${stage}), retrying in ${backoff} ms; nothing is dropped: ${errorText(err)}`;
    if (this.outage.attempts === 1) this.logger.warn(message);
    else this.logger.debug(message);
  }

  /** At most once per flush interval (every tick while batches come full would be too often). */
  private async refreshGauges(force = false): Promise<void> {
    if (!force && Date.now() - this.gaugesAt < this.intervalMs) return;
    this.gaugesAt = Date.now();
    try {
      const stats = await this.buffer.stats();
      this.depthGauge.set(stats.depth);
      this.lagGauge.set(stats.oldestAgeMs / 1000);
      this.fullGauge.set(stats.full ? 1 : 0);
    } catch (err) {
      this.logger.debug(`Ledger buffer stats unavailable: ${errorText(err)}`);
    }
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Whether `work` (if any) settles before `deadline`. */
async function settlesWithin(work: Promise<void> | undefined, deadline: number): Promise<boolean> {
  if (!work) return true;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
