import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type Redis from 'ioredis';
import { QuotaKeys } from './quota-keys';
import { budgetWindowsAt, WINDOW_GRACE_MS } from './quota-windows';

/** Where the rebuild reads what was spent: the usage ledger (LedgerService). */
export interface SpendSource {
  /** Micro-credits of the written ledger rows of the project since each start. */
  spend(projectId: string, since: { day: Date; month: Date }): Promise<{ day: number; month: number }>;
  /** Whether every ledger entry recorded before `time` has been written. */
  writtenBefore(time: number): Promise<boolean>;
}

export interface QuotaRebuildOptions {
  /**
   * Wait before reading the ledger, so that every instance has noticed the loss: its
   * ledger entries lost with Redis are appended again, its open reservations held again.
   */
  gatherMs: number;
  /** Most time then given to the ledger to write what was recorded before; past it the rebuild fails. */
  drainWaitMs: number;
  /** Bound of each Redis call. */
  timeoutMs: number;
}

const POLL_MS = 100;
/** The lock outlives the longest rebuild (gather + drain + a bounded ledger query) with room to spare. */
const LOCK_MARGIN_MS = 30_000;

/** A pause that does not keep the process alive (a rebuild under way never delays an exit). */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)).unref());
}

/**
 * Rebuilds a project's spent counters after Redis lost them (restarted empty): one
 * instance takes the project's rebuild lock, waits `gatherMs`, waits for the ledger
 * to have written everything recorded before, reads the project's spend of today
 * and this month from the ledger and sets the counters (REBUILD_SCRIPT, once: it
 * does nothing if another instance was first). Other instances poll the `ready`
 * marker meanwhile. A failed rebuild is started again by the next request.
 */
export class QuotaRebuild {
  private readonly logger = new Logger('QuotaRebuild');
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: QuotaKeys,
    private readonly ledger: SpendSource,
    private readonly options: QuotaRebuildOptions,
    private readonly run: (keys: string[], args: Array<string | number>) => Promise<unknown>,
  ) {}

  /** Starts rebuilding the project's counters in the background, unless this instance already does. */
  start(projectId: string): void {
    if (this.running.has(projectId)) return;
    const work = this.rebuild(projectId)
      .catch((err: unknown) => {
        this.logger.warn(`Quota counters of project ${projectId} not rebuilt yet: ${String(err)}`);
      })
      .finally(() => this.running.delete(projectId));
    this.running.set(projectId, work);
  }

  /** Polls the `ready` marker until it is there (true) or `deadline` passes (false). */
  async waitReady(projectId: string, deadline: number): Promise<boolean> {
    for (;;) {
      if (await this.isReady(projectId)) return true;
      if (Date.now() + POLL_MS > deadline) return false;
      await sleep(POLL_MS);
    }
  }

  private async isReady(projectId: string): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<number>((resolve) => {
      timer = setTimeout(() => resolve(0), this.options.timeoutMs);
    });
    try {
      const check = this.redis.exists(this.keys.ready(projectId)).catch(() => 0);
      return (await Promise.race([check, timeout])) === 1;
    } finally {
      clearTimeout(timer);
    }
  }

  private async rebuild(projectId: string): Promise<void> {
    const lock = this.keys.rebuildLock(projectId);
    const token = randomUUID();
    const ttl = this.options.gatherMs + this.options.drainWaitMs + LOCK_MARGIN_MS;
    if ((await this.redis.set(lock, token, 'PX', ttl, 'NX')) !== 'OK') return;
    const started = Date.now();
    try {
      await sleep(this.options.gatherMs);
      const cutoff = Date.now();
      while (!(await this.ledger.writtenBefore(cutoff))) {
        if (Date.now() - cutoff > this.options.drainWaitMs) {
          throw new Error(`the ledger did not write its backlog within ${this.options.drainWaitMs} ms`);
        }
        await sleep(POLL_MS);
      }
      const now = Date.now();
      const windows = budgetWindowsAt(now);
      const since = {
        day: new Date(`${windows.day}T00:00:00.000Z`),
        month: new Date(`${windows.month}-01T00:00:00.000Z`),
      };
      const sums = await this.ledger.spend(projectId, since);
      const day = this.keys.budget(projectId, 'd', windows.day);
      const month = this.keys.budget(projectId, 'm', windows.month);
      const applied = await this.run(
        [this.keys.ready(projectId), day.spent, day.late, month.spent, month.late],
        [sums.day, sums.month, windows.dayEndsAt + WINDOW_GRACE_MS, windows.monthEndsAt + WINDOW_GRACE_MS, now],
      );
      if (applied === 1) {
        this.logger.log(
          `Quota counters of project ${projectId} rebuilt from the ledger in ${Date.now() - started} ms ` +
            `(today ${sums.day}, this month ${sums.month} micro-credits)`,
        );
      }
    } finally {
      if ((await this.redis.get(lock).catch(() => null)) === token) await this.redis.del(lock).catch(() => 0);
    }
  }
}
