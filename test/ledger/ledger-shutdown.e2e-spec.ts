import type Redis from 'ioredis';
import type { LedgerEntry } from '../../src/ledger/dto/ledger-entry';
import type { TestApp } from '../support/app';
import { createTestDatabase, TestDatabase, uniqueRedisPrefix, waitUntil } from '../support/services';
import { proxiedUrl, TcpProxy } from '../support/tcp-proxy';
import {
  attemptsOutOfOrder,
  compareWithRecorded,
  LEDGER_GROUP,
  ledgerOf,
  ledgerRows,
  makeEntry,
  metricValue,
  redisClient,
  requestId,
  startLedgerApp,
  streamKey,
} from './ledger-support';

/** The writer's shutdown bound (SHUTDOWN_FLUSH_MS) plus room for closing the connections. */
const CLOSE_BOUND_MS = 14_000;
/** The background writer never runs within a test: only the shutdown flush can write. */
const IDLE_WRITER = { LEDGER_BATCH_SIZE: '40', LEDGER_FLUSH_INTERVAL_MS: '600000' };
const ACTIVE_WRITER = { LEDGER_BATCH_SIZE: '40', LEDGER_FLUSH_INTERVAL_MS: '100' };

type Mode = 'redis' | 'memory';

/** Three requests of one to three attempts per step, tagged so a test reads back only its own rows. */
async function recordRequests(app: TestApp, tag: string, requests: number): Promise<LedgerEntry[]> {
  const recorded: LedgerEntry[] = [];
  for (let r = 0; r < requests; r += 1) {
    const id = requestId(tag);
    for (let attempt = 1; attempt <= 1 + (r % 3); attempt += 1) {
      const entry = makeEntry({ request_id: id, attempt });
      await ledgerOf(app).record(entry);
      recorded.push(entry);
    }
  }
  return recorded;
}

/** Closes the app and says how long it took. */
async function timedClose(app: TestApp): Promise<number> {
  const started = Date.now();
  await app.app.close();
  return Date.now() - started;
}

describe('usage ledger at shutdown', () => {
  let db: TestDatabase;
  let pgProxy: TcpProxy;
  let redis: Redis;
  const opened: TestApp[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    pgProxy = await TcpProxy.forUrl(db.url);
    redis = redisClient();
  });

  afterEach(async () => {
    pgProxy.restore();
    // Each test closes its apps itself (that is what it tests); this removes their temp dirs,
    // and closes any app a failed test left open.
    await Promise.all(opened.splice(0).map((app) => app.close().catch(() => undefined)));
  });

  afterAll(async () => {
    redis?.disconnect();
    await pgProxy?.close();
    await db?.drop();
  });

  async function start(mode: Mode, env: Record<string, string>, prefix = uniqueRedisPrefix()): Promise<TestApp> {
    const app = await startLedgerApp({
      db,
      databaseUrl: proxiedUrl(db.url, pgProxy),
      env: {
        REDIS_KEY_PREFIX: prefix,
        DATABASE_CONNECT_TIMEOUT_MS: '1000',
        DATABASE_STATEMENT_TIMEOUT_MS: '2000',
        ...env,
        ...(mode === 'memory' ? { REDIS_URL: '' } : {}),
      },
    });
    opened.push(app);
    return app;
  }

  async function expectAllWritten(tag: string, recorded: LedgerEntry[]): Promise<void> {
    const rows = await ledgerRows(db.url, 'request_id LIKE $1', [`${tag}-%`]);
    expect(compareWithRecorded(recorded, rows)).toEqual({ missing: [], duplicated: [] });
    expect(rows).toHaveLength(recorded.length);
    expect(attemptsOutOfOrder(rows)).toEqual([]);
  }

  describe.each(['redis', 'memory'] as const)('with the %s buffer', (mode) => {
    it('writes everything buffered when the application closes', async () => {
      const app = await start(mode, IDLE_WRITER);
      const tag = `${mode}-flush`;
      const recorded = await recordRequests(app, tag, 60);
      expect(recorded.length).toBeGreaterThan(2 * 40);
      // Nothing was written yet: the background writer is not due for ten minutes.
      expect(await ledgerRows(db.url, 'request_id LIKE $1', [`${tag}-%`])).toEqual([]);

      expect(await timedClose(app)).toBeLessThan(CLOSE_BOUND_MS);
      await expectAllWritten(tag, recorded);
      expect(app.logs.text).toContain(`Ledger flushed at shutdown: ${recorded.length} rows written`);
      if (mode === 'redis') expect(await redis.xlen(streamKey(app.config.REDIS_KEY_PREFIX))).toBe(0);
    });

    it('records while Postgres is stalled, then writes it all once Postgres is back and the app closes', async () => {
      const app = await start(mode, ACTIVE_WRITER);
      const tag = `${mode}-stall`;
      pgProxy.stall();
      const recorded = await recordRequests(app, tag, 40);
      // The writer is stuck: the buffer holds every entry.
      expect(
        await waitUntil(
          async () => (await metricValue(app.url, 'conflux_ledger_buffer_depth')) >= recorded.length,
          8_000,
        ),
      ).toBe(true);
      pgProxy.restore();
      expect(await timedClose(app)).toBeLessThan(CLOSE_BOUND_MS);
      await expectAllWritten(tag, recorded);
      expect(app.logs.text).not.toMatch(/could not be written|remain in the Redis stream/);
    });
  });

  it('leaves the rows in the Redis stream when Postgres is down at close, and a new instance writes them', async () => {
    const prefix = uniqueRedisPrefix();
    const first = await start('redis', ACTIVE_WRITER, prefix);
    const tag = 'handoff';
    pgProxy.cut();
    const recorded = await recordRequests(first, tag, 40);
    // The writer has taken a batch and failed on it: those entries are pending on this instance.
    expect(await waitUntil(() => Promise.resolve(/Ledger write failed \(insert\)/.test(first.logs.text)), 5_000)).toBe(
      true,
    );

    expect(await timedClose(first)).toBeLessThan(CLOSE_BOUND_MS);
    expect(first.logs.text).toContain('Postgres unavailable at shutdown (0 rows written in');
    expect(first.logs.text).toContain(
      `${recorded.length} ledger entries remain in the Redis stream for the next instance`,
    );
    expect(await redis.xlen(streamKey(prefix))).toBe(recorded.length);
    expect(await ledgerRows(db.url, 'request_id LIKE $1', [`${tag}-%`])).toEqual([]);
    // What it had taken is released: pending, and marked idle far beyond the stale threshold (60 s).
    const pending = (await redis.call('XPENDING', streamKey(prefix), LEDGER_GROUP, '-', '+', 1000)) as [
      string,
      string,
      number,
      number,
    ][];
    expect(pending.length).toBeGreaterThan(0);
    expect(pending.filter(([, , idleMs]) => idleMs < 3_600_000)).toEqual([]);

    // The next instance (Postgres back) writes them at once: it does not wait for them to go stale.
    pgProxy.restore();
    const second = await start('redis', ACTIVE_WRITER, prefix);
    expect(
      await waitUntil(
        async () => (await ledgerRows(db.url, 'request_id LIKE $1', [`${tag}-%`])).length >= recorded.length,
        10_000,
      ),
    ).toBe(true);
    await expectAllWritten(tag, recorded);
    expect(await waitUntil(async () => (await redis.xlen(streamKey(prefix))) === 0, 5_000)).toBe(true);
    expect(second.logs.text).toMatch(/Claimed \d+ ledger entries left pending by another instance/);
  });

  it('does not let a hanging Postgres hold shutdown beyond its bound: the rows stay in the stream', async () => {
    const prefix = uniqueRedisPrefix();
    // Queries would hang for a minute: only the writer's own bound can end its wait.
    const app = await start('redis', { ...ACTIVE_WRITER, DATABASE_STATEMENT_TIMEOUT_MS: '60000' }, prefix);
    pgProxy.stall();
    const recorded = await recordRequests(app, 'hang', 20);
    expect(await redis.xlen(streamKey(prefix))).toBe(recorded.length);
    // A writer step saw entries (it refreshes the gauge first), then went into the insert that hangs. It
    // may have started while they were still being recorded and seen only some: all stay in the stream.
    expect(await waitUntil(async () => (await metricValue(app.url, 'conflux_ledger_buffer_depth')) > 0, 5_000)).toBe(
      true,
    );
    expect(await timedClose(app)).toBeLessThan(CLOSE_BOUND_MS);
    expect(app.logs.text).toContain(`${recorded.length} ledger entries remain in the Redis stream`);
    expect(await redis.xlen(streamKey(prefix))).toBe(recorded.length);
  });

  it('without Redis, logs every row it could not write when Postgres is down at close', async () => {
    const app = await start('memory', ACTIVE_WRITER);
    pgProxy.cut();
    const recorded = await recordRequests(app, 'lost', 10);
    expect(await timedClose(app)).toBeLessThan(CLOSE_BOUND_MS);
    const lostLines = app.logs.lines.filter((line) => line.includes('Ledger row not written before exit'));
    expect(lostLines).toHaveLength(recorded.length);
    for (const entry of recorded) {
      expect(lostLines.some((line) => line.includes(entry.request_id))).toBe(true);
    }
    expect(app.logs.text).toContain(`${recorded.length} ledger rows could not be written before exit`);
  });
});
