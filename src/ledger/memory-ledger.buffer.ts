import { Logger } from '@nestjs/common';
import type { LedgerEntry } from './dto/ledger-entry';
import { LedgerBatch, LedgerBuffer, LedgerBufferStats, LedgerHandOff, RejectedEntry } from './ledger.buffer';

interface Held {
  entry: LedgerEntry;
  /** `Date.now()` when it was appended. */
  at: number;
}

/** Compact the queue once this many taken items sit at its front. */
const COMPACT_AFTER = 4096;

/**
 * Entries held in this process until the writer commits them: the embedded default
 * (no REDIS_URL), and the spill of the Redis buffer while Redis is unreachable. Lost
 * if the process dies; at shutdown anything unwritten is logged in full, one line per row.
 */
export class MemoryLedgerBuffer extends LedgerBuffer {
  readonly kind = 'memory';
  private readonly logger: Logger;
  private items: Held[] = [];
  /** Index of the oldest unwritten item: the front is dropped lazily, not shifted per batch. */
  private head = 0;
  /** After shutdown's hand-off nothing writes any more: a late entry can only be logged. */
  private closed = false;

  constructor(loggerContext = 'LedgerBuffer') {
    super();
    this.logger = new Logger(loggerContext);
  }

  get depth(): number {
    return this.items.length - this.head;
  }

  append(entry: LedgerEntry): Promise<void> {
    if (this.closed) this.logger.error(`Ledger row recorded after shutdown, not written: ${JSON.stringify(entry)}`);
    else this.items.push({ entry, at: Date.now() });
    return Promise.resolve();
  }

  take(max: number): Promise<LedgerBatch> {
    const entries = this.items.slice(this.head, this.head + max).map((h) => h.entry);
    return Promise.resolve({
      entries,
      size: entries.length,
      // Inside the executor, a refused acknowledgement becomes a rejection rather than a throw.
      ack: (rejected) => new Promise<void>((resolve) => resolve(this.ack(entries, rejected))),
    });
  }

  stats(): Promise<LedgerBufferStats> {
    const oldest = this.items[this.head];
    return Promise.resolve({ depth: this.depth, oldestAgeMs: oldest ? Date.now() - oldest.at : 0 });
  }

  hasOwnBacklog(): boolean {
    return this.depth > 0;
  }

  handOff(): Promise<LedgerHandOff> {
    this.closed = true;
    const lost = this.drainAll();
    for (const entry of lost) this.logger.error(`Ledger row not written before exit: ${JSON.stringify(entry)}`);
    return Promise.resolve({ kept: 0, lost: lost.length });
  }

  /** Removes and returns every unwritten entry, oldest first. */
  drainAll(): LedgerEntry[] {
    const entries = this.items.slice(this.head).map((h) => h.entry);
    this.items = [];
    this.head = 0;
    return entries;
  }

  private ack(entries: readonly LedgerEntry[], rejected: readonly RejectedEntry[]): void {
    if (entries.length === 0) return;
    // One writer takes and acknowledges in turn, so a batch is the front of the queue; a late
    // acknowledgement (a write given up at shutdown, the queue handed off since) changes nothing.
    if (this.items[this.head]?.entry !== entries[0]) throw new Error('ledger batch is no longer at the front');
    for (const r of rejected) {
      this.logger.error(`Ledger row refused by Postgres (${r.reason}): ${JSON.stringify(r.entry)}`);
    }
    this.head += entries.length;
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
