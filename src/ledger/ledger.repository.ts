import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { LedgerEntry } from './dto/ledger-entry';
import type { RejectedEntry } from './ledger.buffer';

/** Columns written, in the order of each VALUES tuple. */
const COLUMNS = [
  'request_id',
  'attempt',
  'user_id',
  'project_id',
  'api_key_id',
  'endpoint',
  'provider',
  'model',
  'input_tokens',
  'output_tokens',
  'cached_input_tokens',
  'cache_write_input_tokens',
  'reasoning_tokens',
  'micro_credits',
  'usd',
  'latency_ms',
  'status',
  'error_class',
  'idempotency_key',
  'created_at',
] as const satisfies readonly (keyof LedgerEntry)[];

/** Postgres takes at most 65 535 bind parameters per statement. */
export const MAX_BATCH_ROWS = Math.floor(65_535 / COLUMNS.length);

export interface WriteResult {
  /** Rows inserted (duplicates of rows already present are not counted). */
  inserted: number;
  /** Entries Postgres refused for their content, to be kept aside. */
  rejected: RejectedEntry[];
}

/**
 * SQLSTATE classes that blame the data, not the connection: 22 data exception,
 * 23 integrity constraint violation. Anything else (no connection, a timeout, a
 * missing table) is worth retrying as a whole.
 */
export function isRowError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23)[0-9A-Z]{3}$/.test(code);
}

function insertSql(rows: number): string {
  const width = COLUMNS.length;
  const tuples = Array.from({ length: rows }, (_, r) => {
    const params = COLUMNS.map((_, c) => `$${r * width + c + 1}`);
    return `(${params.join(', ')})`;
  });
  return (
    `INSERT INTO usage_ledger (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')} ` +
    'ON CONFLICT (request_id, attempt) DO NOTHING'
  );
}

function paramsOf(entries: readonly LedgerEntry[]): unknown[] {
  return entries.flatMap((entry) => COLUMNS.map((column) => entry[column]));
}

/** The idempotent INSERT of `entries` (ON CONFLICT (request_id, attempt) DO NOTHING), e.g. for a replay tool. */
export function ledgerInsert(entries: readonly LedgerEntry[]): { sql: string; params: unknown[] } {
  return { sql: insertSql(entries.length), params: paramsOf(entries) };
}

/** The writes of usage_ledger: append-only, idempotent on (request_id, attempt). */
@Injectable()
export class LedgerRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Inserts the batch in one statement, in order. When Postgres refuses it for its
   * content, the rows are retried one by one and the refused ones returned, so one
   * bad row never blocks the ledger. Throws when Postgres cannot be reached.
   */
  async write(entries: readonly LedgerEntry[]): Promise<WriteResult> {
    if (entries.length === 0) return { inserted: 0, rejected: [] };
    try {
      return { inserted: await this.insert(entries), rejected: [] };
    } catch (err) {
      if (!isRowError(err)) throw err;
      return this.writeOneByOne(entries);
    }
  }

  private async writeOneByOne(entries: readonly LedgerEntry[]): Promise<WriteResult> {
    const result: WriteResult = { inserted: 0, rejected: [] };
    for (const entry of entries) {
      try {
        result.inserted += await this.insert([entry]);
      } catch (err) {
        if (!isRowError(err)) throw err;
        const reason = err instanceof Error ? err.message : String(err);
        result.rejected.push({ entry, reason: reason.slice(0, 500) });
      }
    }
    return result;
  }

  private async insert(entries: readonly LedgerEntry[]): Promise<number> {
    const runner = this.dataSource.createQueryRunner();
    try {
      const { sql, params } = ledgerInsert(entries);
      const result: unknown = await runner.query(sql, params, true);
      return (result as { affected?: number }).affected ?? 0;
    } finally {
      await runner.release();
    }
  }
}
