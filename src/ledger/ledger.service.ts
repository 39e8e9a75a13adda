import { Injectable } from '@nestjs/common';
import type { LedgerEntry } from './dto/ledger-entry';
import { LedgerBuffer } from './ledger.buffer';
import { normalizeLedgerEntry } from './ledger-entry.rules';

export { LedgerEntryError } from './ledger-entry.rules';

/**
 * The usage ledger's one entry point for other modules. `record` is off the hot path:
 * it appends to the buffer (one XADD with Redis, an array push without) and returns;
 * the background writer puts the rows in Postgres in batches. Recording the same
 * (request_id, attempt) twice leaves one row.
 */
@Injectable()
export class LedgerService {
  constructor(private readonly buffer: LedgerBuffer) {}

  /**
   * Buffers one attempt of one request. Free text longer than its column is cut;
   * an entry that cannot be stored faithfully (a bad id, count, amount or time)
   * rejects with a LedgerEntryError, a programming error of the caller. An
   * unreachable Redis or Postgres never makes it reject.
   */
  async record(entry: LedgerEntry): Promise<void> {
    await this.buffer.append(normalizeLedgerEntry(entry));
  }

  /** 'redis' when rows wait in the shared stream, 'memory' in the embedded default. */
  get bufferKind(): 'redis' | 'memory' {
    return this.buffer.kind;
  }
}
