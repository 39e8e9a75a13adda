import type { LedgerEntry } from './dto/ledger-entry';

/** An entry Postgres refused for what it is (not for being unreachable): kept aside, never retried. */
export interface RejectedEntry {
  entry: LedgerEntry;
  reason: string;
}

/** Entries handed to the writer, oldest first. */
export interface LedgerBatch {
  readonly entries: readonly LedgerEntry[];
  /** Items taken from the buffer, unreadable ones included (0: nothing to write). */
  readonly size: number;
  /** Items that could not be read as entries: moved to the dead letters with the batch's acknowledgement. */
  readonly unreadable?: number;
  /**
   * Removes the batch from the buffer, moving `rejected` to the dead letters. Call it
   * only once the rows are committed: a batch not acknowledged is handed out again.
   */
  ack(rejected: readonly RejectedEntry[]): Promise<void>;
}

export interface LedgerBufferStats {
  /** Entries not yet in Postgres. */
  depth: number;
  /** Age of the oldest of them, 0 when there is none. */
  oldestAgeMs: number;
  /** The shared stream is at its bound (LEDGER_STREAM_MAX_ENTRIES). */
  full?: boolean;
}

/** What is left behind at shutdown. */
export interface LedgerHandOff {
  /** Entries left in a durable buffer for another instance. */
  kept: number;
  /** Entries that only this process held, which are lost (and logged in full). */
  lost: number;
}

/**
 * Where recorded entries wait for the writer: a Redis Stream shared by every
 * instance, or this process's memory (the embedded default). A port: one abstract
 * class as the DI token, two adapters. One writer per process uses it, serially.
 */
export abstract class LedgerBuffer {
  abstract readonly kind: 'redis' | 'memory';

  /** Appends an entry; never throws for an unreachable dependency (the entry is then held in memory). */
  abstract append(entry: LedgerEntry): Promise<void>;

  /** The next batch to write, at most `max` items; an unacknowledged previous batch comes first. */
  abstract take(max: number): Promise<LedgerBatch>;

  abstract stats(): Promise<LedgerBufferStats>;

  /** True while the buffer refuses more entries to its shared store (they wait in this process). */
  get full(): boolean {
    return false;
  }

  /** True while entries appended by this process may not have been handed to a writer yet. */
  abstract hasOwnBacklog(): boolean;

  /** At shutdown, after the last flush: leaves whatever is still unwritten to others, or reports it lost. */
  abstract handOff(): Promise<LedgerHandOff>;
}

/** Raised by `take`/`ack`/`stats` when the buffer itself cannot be reached. */
export class LedgerBufferUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LedgerBufferUnavailable';
  }
}
