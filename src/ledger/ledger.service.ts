import { Injectable } from '@nestjs/common';
import type { LedgerEntry } from './dto/ledger-entry';
import { LedgerBuffer } from './ledger.buffer';
import { normalizeLedgerEntry } from './ledger-entry.rules';
import { UsageRepository } from './usage.repository';

export { LedgerEntryError } from './ledger-entry.rules';

/**
 * The usage ledger's one entry point for other modules. `record` is off the hot path:
 * it appends to the buffer (one XADD with Redis, an array push without) and returns;
 * the background writer puts the rows in Postgres in batches. Recording the same
 * (request_id, attempt) twice leaves one row.
 */
@Injectable()
export class LedgerService {
  constructor(
    private readonly buffer: LedgerBuffer,
    private readonly usage: UsageRepository,
  ) {}

  /**
   * Buffers one attempt of one request. Free text longer than its column is cut;
   * an entry that cannot be stored faithfully (a bad id, count, amount or time)
   * rejects with a LedgerEntryError, a programming error of the caller. An
   * unreachable Redis or Postgres never makes it reject.
   */
  async record(entry: LedgerEntry): Promise<void> {
    await this.buffer.append(normalizeLedgerEntry(entry));
  }

  /**
   * Micro-credits a project spent according to the written ledger: rows created since
   * `since.day` and since `since.month`. Rows still in the buffer are not counted
   * (see `writtenBefore`).
   */
  spend(projectId: string, since: { day: Date; month: Date }): Promise<{ day: number; month: number }> {
    return this.usage.spend(projectId, since.day, since.month);
  }

  /** Whether every entry recorded before `time` (ms since epoch) is written, as far as the buffer shows. */
  async writtenBefore(time: number): Promise<boolean> {
    const stats = await this.buffer.stats();
    return stats.depth === 0 || Date.now() - stats.oldestAgeMs > time;
  }

  /** The shared buffer is at its bound (a long Postgres outage): new paid work should wait. */
  get backlogFull(): boolean {
    return this.buffer.full;
  }

  /** 'redis' when rows wait in the shared stream, 'memory' in the embedded default. */
  get bufferKind(): 'redis' | 'memory' {
    return this.buffer.kind;
  }
}
