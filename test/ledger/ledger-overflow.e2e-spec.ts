import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { Client } from 'pg';
import { replayDeadLetters } from '../../tools/ledger-replay/replay';
import { AppError } from '../../src/common/errors/app-error';
import type { LedgerEntry } from '../../src/ledger/dto/ledger-entry';
import { QuotaService } from '../../src/quota/quota.service';
import type { TestApp } from '../support/app';
import { createTestDatabase, TestDatabase, uniqueRedisPrefix, waitUntil } from '../support/services';
import { proxiedUrl, TcpProxy } from '../support/tcp-proxy';
import {
  compareWithRecorded,
  deadLetterKey,
  ledgerOf,
  ledgerRows,
  makeEntry,
  metricValue,
  redisClient,
  startLedgerApp,
  streamKey,
  waitForRowCount,
} from './ledger-support';

describe('the ledger stream during a long Postgres outage', () => {
  const prefix = uniqueRedisPrefix();
  const BOUND = 5;
  let db: TestDatabase;
  let proxy: TcpProxy;
  let t: TestApp;
  let redis: Redis;

  beforeAll(async () => {
    db = await createTestDatabase();
    proxy = await TcpProxy.forUrl(db.url);
    t = await startLedgerApp({
      db,
      databaseUrl: proxiedUrl(db.url, proxy),
      env: {
        REDIS_KEY_PREFIX: prefix,
        LEDGER_STREAM_MAX_ENTRIES: String(BOUND),
        DATABASE_CONNECT_TIMEOUT_MS: '500',
      },
    });
    redis = redisClient();
  });

  afterAll(async () => {
    proxy?.restore();
    await t?.close();
    await proxy?.close();
    redis?.disconnect();
    await db?.drop();
  });

  it('holds at most LEDGER_STREAM_MAX_ENTRIES in Redis, refuses paid work meanwhile, and loses nothing', async () => {
    const ledger = ledgerOf(t);
    proxy.cut();
    const recorded: LedgerEntry[] = [];
    for (let i = 0; i < 3 * BOUND; i++) {
      const entry = makeEntry();
      await ledger.record(entry);
      recorded.push(entry);
    }
    expect(await redis.xlen(streamKey(prefix))).toBeLessThanOrEqual(BOUND);
    expect(ledger.backlogFull).toBe(true);
    // The alert's signal.
    expect(await waitUntil(async () => (await metricValue(t.url, 'conflux_ledger_stream_full')) === 1, 10_000)).toBe(
      true,
    );
    // No new spend while usage cannot be recorded: a clear 503 with Retry-After.
    const refusal = await t.app
      .get(QuotaService)
      .reserve({ request_id: randomUUID(), project_id: randomUUID(), api_key_id: null, micro_credits: 1, tokens: 1 })
      .then(
        () => null,
        (err: unknown) => err,
      );
    expect(refusal).toBeInstanceOf(AppError);
    expect((refusal as AppError).status).toBe(503);
    expect((refusal as AppError).headers['Retry-After']).toBeDefined();
    expect((refusal as AppError).details).toEqual({ reason: 'ledger_backlog' });

    proxy.restore();
    expect(await waitForRowCount(db.url, recorded.length, 30_000)).toBe(recorded.length);
    expect(compareWithRecorded(recorded, await ledgerRows(db.url))).toEqual({ missing: [], duplicated: [] });
    expect(await waitUntil(async () => (await metricValue(t.url, 'conflux_ledger_stream_full')) === 0, 10_000)).toBe(
      true,
    );
    expect(ledger.backlogFull).toBe(false);
  }, 60_000);

  it('replays dead-lettered rows once, and keeps what it cannot write', async () => {
    const fresh = makeEntry();
    const present = makeEntry();
    await ledgerOf(t).record(present);
    expect(
      await waitUntil(
        async () => (await ledgerRows(db.url, 'request_id = $1', [present.request_id])).length === 1,
        10_000,
      ),
    ).toBe(true);
    const dead = deadLetterKey(prefix);
    await redis.xadd(dead, '*', 'reason', 'refused by Postgres', 'e', JSON.stringify(fresh));
    await redis.xadd(dead, '*', 'reason', 'refused by Postgres', 'e', JSON.stringify(present));
    await redis.xadd(dead, '*', 'id', '1-0', 'reason', 'unreadable', 'e', '{not json');

    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      const first = await replayDeadLetters(redis, client, { prefix });
      expect(first).toMatchObject({ inserted: 1, alreadyPresent: 1 });
      expect(first.kept).toHaveLength(1);
      expect(first.kept[0].reason).toMatch(/^unreadable/);
      // Run again: nothing written twice, the unreadable entry still kept for a human.
      const second = await replayDeadLetters(redis, client, { prefix });
      expect(second).toMatchObject({ inserted: 0, alreadyPresent: 0 });
      expect(second.kept).toHaveLength(1);
    } finally {
      await client.end();
    }
    expect(await redis.xlen(dead)).toBe(1);
    for (const entry of [fresh, present]) {
      expect(await ledgerRows(db.url, 'request_id = $1', [entry.request_id])).toHaveLength(1);
    }
  }, 60_000);
});
