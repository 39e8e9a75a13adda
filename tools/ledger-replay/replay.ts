import type Redis from 'ioredis';
import type { Client } from 'pg';
import { isRowError, ledgerInsert } from '../../src/ledger/ledger.repository';
import { normalizeLedgerEntry } from '../../src/ledger/ledger-entry.rules';

/** The dead-letter stream of a deployment (see RedisLedgerBuffer): `<prefix>ledger:dead`. */
export function deadLetterStream(prefix: string): string {
  return `${prefix}ledger:dead`;
}

export interface ReplayOptions {
  /** REDIS_KEY_PREFIX of the deployment. */
  prefix: string;
}

export interface ReplayResult {
  /** Rows inserted now. */
  inserted: number;
  /** Rows the ledger already had (same request_id and attempt): removed from the stream as done. */
  alreadyPresent: number;
  /** Entries left in the stream, with why (unreadable, or refused again by Postgres). */
  kept: { id: string; reason: string }[];
}

const PAGE = 500;

function fieldsOf(raw: string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < raw.length; i += 2) map.set(raw[i], raw[i + 1]);
  return map;
}

/**
 * Inserts the rows of the dead-letter stream into usage_ledger, oldest first, one at a
 * time and idempotently on (request_id, attempt): a row already there is not written
 * twice, so running it again is harmless. Each entry inserted (or found present) is
 * deleted from the stream; one that is unreadable or refused again stays, with the
 * reason reported. Throws (having removed only what was done) when Postgres or Redis
 * cannot be reached.
 */
export async function replayDeadLetters(redis: Redis, db: Client, options: ReplayOptions): Promise<ReplayResult> {
  const stream = deadLetterStream(options.prefix);
  const result: ReplayResult = { inserted: 0, alreadyPresent: 0, kept: [] };
  for (let start = '-'; ;) {
    const page = await redis.xrange(stream, start, '+', 'COUNT', PAGE);
    for (const [id, raw] of page) {
      const outcome = await replayOne(db, fieldsOf(raw));
      if (outcome === 'inserted') result.inserted += 1;
      else if (outcome === 'present') result.alreadyPresent += 1;
      else result.kept.push({ id, reason: outcome.kept });
      if (typeof outcome === 'string') await redis.xdel(stream, id);
    }
    if (page.length < PAGE) return result;
    start = `(${page[page.length - 1][0]}`;
  }
}

async function replayOne(db: Client, fields: Map<string, string>): Promise<'inserted' | 'present' | { kept: string }> {
  let entry;
  try {
    entry = normalizeLedgerEntry(JSON.parse(fields.get('e') ?? '') as unknown);
  } catch (err) {
    return { kept: `unreadable: ${err instanceof Error ? err.message : String(err)}` };
  }
  const { sql, params } = ledgerInsert([entry]);
  try {
    const res = await db.query(sql, params);
    return res.rowCount === 1 ? 'inserted' : 'present';
  } catch (err) {
    if (!isRowError(err)) throw err;
    return { kept: `refused: ${err instanceof Error ? err.message : String(err)}` };
  }
}
