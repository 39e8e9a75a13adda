import { randomUUID } from 'node:crypto';
import type { LedgerEntry } from '../../src/ledger/dto/ledger-entry';
import { LedgerEntryError, LedgerService } from '../../src/ledger/ledger.service';
import type { TestApp } from '../support/app';
import { createTestDatabase, delay, TestDatabase, waitUntil, withClient } from '../support/services';
import { proxiedUrl, TcpProxy } from '../support/tcp-proxy';
import {
  attemptsOutOfOrder,
  compareWithRecorded,
  ledgerCount,
  ledgerOf,
  ledgerRows,
  makeEntry,
  metricValue,
  Recorder,
  requestId,
  startLedgerApp,
  waitForRowCount,
} from './ledger-support';

/**
 * How long Postgres stays cut while entries keep being recorded. Raise it (e.g. to
 * 30_000) for a longer outage: every other bound below follows from it.
 */
const OUTAGE_MS = Number(process.env.LEDGER_TEST_OUTAGE_MS ?? 5_000);
const BATCH_SIZE = 50;
const FLUSH_INTERVAL_MS = 100;
/** Time for the writer to catch up once Postgres is back (backoff is capped at 5 s). */
const CATCH_UP_MS = 20_000 + OUTAGE_MS;

const DEPTH = 'conflux_ledger_buffer_depth';
const LAG = 'conflux_ledger_write_lag_seconds';
const WRITTEN = 'conflux_ledger_rows_written_total';
const ERRORS = 'conflux_ledger_write_errors_total';

describe.each([
  ['Redis stream', 'redis'],
  ['in-process buffer (no REDIS_URL)', 'memory'],
] as const)('usage ledger writer with the %s', (_label, mode) => {
  let db: TestDatabase;
  let pgProxy: TcpProxy;
  let t: TestApp;
  let ledger: LedgerService;

  beforeAll(async () => {
    db = await createTestDatabase();
    pgProxy = await TcpProxy.forUrl(db.url);
    t = await startLedgerApp({
      db,
      databaseUrl: proxiedUrl(db.url, pgProxy),
      env: {
        LEDGER_BATCH_SIZE: String(BATCH_SIZE),
        LEDGER_FLUSH_INTERVAL_MS: String(FLUSH_INTERVAL_MS),
        DATABASE_CONNECT_TIMEOUT_MS: '1000',
        ...(mode === 'memory' ? { REDIS_URL: '' } : {}),
      },
    });
    ledger = ledgerOf(t);
  });

  afterAll(async () => {
    pgProxy?.restore();
    await t?.close();
    await pgProxy?.close();
    await db?.drop();
  });

  /** Waits until the writer reports nothing left to write. */
  async function waitForEmptyBuffer(timeoutMs = 10_000): Promise<number> {
    let depth = -1;
    await waitUntil(async () => {
      depth = await metricValue(t.url, DEPTH);
      return depth === 0;
    }, timeoutMs);
    return depth;
  }

  it(`runs on the ${mode} buffer`, () => {
    expect(ledger.bufferKind).toBe(mode);
  });

  it('writes every recorded entry exactly once, in batches, attempts of a request in order', async () => {
    const before = await ledgerCount(db.url);
    const writtenBefore = await metricValue(t.url, WRITTEN);
    const recorded: LedgerEntry[] = [];
    for (let r = 0; r < 140; r += 1) {
      const id = requestId('batch');
      for (let attempt = 1; attempt <= 1 + (r % 3); attempt += 1) {
        const entry = makeEntry({ request_id: id, attempt });
        await ledger.record(entry);
        recorded.push(entry);
      }
    }
    expect(recorded.length).toBeGreaterThan(4 * BATCH_SIZE);

    expect(await waitForRowCount(db.url, before + recorded.length, 15_000)).toBe(before + recorded.length);
    const rows = await ledgerRows(db.url, `request_id LIKE 'batch-%'`);
    expect(rows).toHaveLength(recorded.length);
    expect(compareWithRecorded(recorded, rows)).toEqual({ missing: [], duplicated: [] });
    expect(attemptsOutOfOrder(rows)).toEqual([]);
    // Rows went in in the order they were recorded.
    expect(rows.map((r) => `${r.request_id}#${r.attempt}`)).toEqual(
      recorded.map((e) => `${e.request_id}#${e.attempt}`),
    );
    expect((await metricValue(t.url, WRITTEN)) - writtenBefore).toBe(recorded.length);
    expect(await waitForEmptyBuffer()).toBe(0);
  });

  it('stores every field as recorded', async () => {
    const entry = makeEntry({
      attempt: 2,
      api_key_id: randomUUID(),
      provider: null,
      model: null,
      cached_input_tokens: 11,
      cache_write_input_tokens: 12,
      reasoning_tokens: 13,
      micro_credits: 9_007_199_254,
      usd: '1234567890.0123456789',
      status: 'error',
      error_class: 'upstream_timeout',
      idempotency_key: 'idem-1',
      created_at: '2026-03-04T05:06:07.089+02:00',
    });
    await ledger.record(entry);
    let row: Record<string, unknown> | undefined;
    await waitUntil(async () => {
      row = await withClient(db.url, async (client) => {
        const res = await client.query<Record<string, unknown>>(
          `SELECT request_id, attempt, user_id, project_id, api_key_id, endpoint, provider, model, input_tokens,
                  output_tokens, cached_input_tokens, cache_write_input_tokens, reasoning_tokens,
                  micro_credits::text AS micro_credits, usd::text AS usd, latency_ms, status,
                  error_class, idempotency_key, to_char(created_at AT TIME ZONE 'UTC',
                  'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at
             FROM usage_ledger WHERE request_id = $1`,
          [entry.request_id],
        );
        return res.rows[0];
      });
      return row !== undefined;
    }, 10_000);
    expect(row).toEqual({
      ...entry,
      micro_credits: '9007199254',
      created_at: '2026-03-04T03:06:07.089Z',
    });
  });

  it('keeps one row when the same (request_id, attempt) is recorded again, before or after it is written', async () => {
    const rejectedBefore = await metricValue(t.url, ERRORS, { stage: 'rejected_row' });
    const entry = makeEntry({ request_id: requestId('dup') });
    await Promise.all([ledger.record(entry), ledger.record(entry), ledger.record({ ...entry, latency_ms: 999 })]);
    await waitUntil(async () => (await ledgerRows(db.url, 'request_id = $1', [entry.request_id])).length > 0, 10_000);
    await ledger.record(entry);
    expect(await waitForEmptyBuffer()).toBe(0);
    const rows = await ledgerRows(db.url, 'request_id = $1', [entry.request_id]);
    expect(rows.map((r) => r.attempt)).toEqual([1]);
    // The copies were skipped by ON CONFLICT, not refused and set aside as bad rows.
    expect((await metricValue(t.url, ERRORS, { stage: 'rejected_row' })) - rejectedBefore).toBe(0);
  });

  it('refuses an entry that cannot be stored faithfully, and cuts free text to its column', async () => {
    await expect(ledger.record(makeEntry({ project_id: 'not-a-uuid' }))).rejects.toBeInstanceOf(LedgerEntryError);
    await expect(ledger.record(makeEntry({ attempt: -1 }))).rejects.toThrow(/attempt/);
    await expect(ledger.record(makeEntry({ usd: '-1.0' }))).rejects.toThrow(/usd/);
    await expect(ledger.record(makeEntry({ created_at: 'yesterday' }))).rejects.toThrow(/created_at/);

    const entry = makeEntry({ model: `m${'x'.repeat(400)}`, error_class: `e${'y'.repeat(60)}\u0000` });
    await ledger.record(entry);
    let stored: { model: string; error_class: string } | undefined;
    await waitUntil(async () => {
      stored = await withClient(db.url, async (client) => {
        const res = await client.query<{ model: string; error_class: string }>(
          'SELECT model, error_class FROM usage_ledger WHERE request_id = $1',
          [entry.request_id],
        );
        return res.rows[0];
      });
      return stored !== undefined;
    }, 10_000);
    expect(stored?.model).toBe(entry.model?.slice(0, 255));
    expect(stored?.error_class).toBe(entry.error_class?.slice(0, 32));
  });

  it(
    `loses and duplicates nothing when Postgres is cut for ${OUTAGE_MS / 1000} s while recording goes on`,
    async () => {
      const errorsBefore = await metricValue(t.url, ERRORS, { stage: 'insert' });
      const recorder = new Recorder(ledger);
      recorder.start();
      await waitUntil(async () => (await ledgerRows(db.url, `request_id LIKE 'load-%'`)).length > 0, 10_000);

      pgProxy.cut();
      const cutAt = Date.now();
      const recordedAtCut = recorder.recorded.length;
      // Sample the buffer while the outage lasts: the metrics rise, Postgres does not move.
      let maxDepth = 0;
      let maxLag = 0;
      let countAfterCut: number | undefined;
      while (Date.now() - cutAt < OUTAGE_MS) {
        maxDepth = Math.max(maxDepth, await metricValue(t.url, DEPTH));
        maxLag = Math.max(maxLag, await metricValue(t.url, LAG));
        if (countAfterCut === undefined && Date.now() - cutAt > 1_000) countAfterCut = await ledgerCount(db.url);
        await delay(200);
      }
      const countAtRestore = await ledgerCount(db.url);
      const recordedDuringOutage = recorder.recorded.length - recordedAtCut;
      pgProxy.restore();
      await waitUntil(async () => (await ledgerCount(db.url)) > countAtRestore, CATCH_UP_MS);
      await recorder.stop();

      const total = recorder.recorded.length;
      const rowsWritten = await waitUntil(
        async () => (await ledgerRows(db.url, `request_id LIKE 'load-%'`)).length >= total,
        CATCH_UP_MS,
      );
      const rows = await ledgerRows(db.url, `request_id LIKE 'load-%'`);
      expect(rowsWritten).toBe(true);
      expect(rows).toHaveLength(total);
      expect(compareWithRecorded(recorder.recorded, rows)).toEqual({ missing: [], duplicated: [] });
      expect(attemptsOutOfOrder(rows)).toEqual([]);

      // The outage was real: nothing reached Postgres meanwhile, entries piled up and aged.
      expect(countAtRestore).toBe(countAfterCut);
      expect(recordedDuringOutage).toBeGreaterThan(100);
      expect(maxDepth).toBeGreaterThan(50);
      expect(maxLag).toBeGreaterThan(OUTAGE_MS / 1000 / 2);
      expect((await metricValue(t.url, ERRORS, { stage: 'insert' })) - errorsBefore).toBeGreaterThan(0);
      expect(await waitForEmptyBuffer()).toBe(0);
      expect(await metricValue(t.url, LAG)).toBe(0);
      // Recording never waited for Postgres: a recording held by the outage would have taken
      // most of it (speed itself is bench:gateway's business, not a test's).
      expect(Math.max(...recorder.latenciesMs)).toBeLessThan(OUTAGE_MS / 2);
      expect(t.logs.text).toMatch(/Ledger writes resumed after/);
    },
    OUTAGE_MS + 2 * CATCH_UP_MS,
  );
});
