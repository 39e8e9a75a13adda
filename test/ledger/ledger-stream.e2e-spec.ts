import type Redis from 'ioredis';
import type { LedgerEntry } from '../../src/ledger/dto/ledger-entry';
import type { TestApp } from '../support/app';
import {
  createTestDatabase,
  TestDatabase,
  testRedisUrl,
  uniqueRedisPrefix,
  waitUntil,
  withClient,
} from '../support/services';
import { proxiedUrl, TcpProxy } from '../support/tcp-proxy';
import {
  compareWithRecorded,
  deadLetterKey,
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

const FAST_WRITER = { LEDGER_BATCH_SIZE: '25', LEDGER_FLUSH_INTERVAL_MS: '50' };

/** XPENDING summary for one consumer: the ids it holds. */
async function pendingOf(redis: Redis, prefix: string, consumer: string): Promise<string[]> {
  const rows = (await redis.call('XPENDING', streamKey(prefix), LEDGER_GROUP, '-', '+', 1000, consumer)) as [
    string,
    string,
    number,
    number,
  ][];
  return rows.map((row) => row[0]);
}

/** XADDs entries as a writer of another instance would have, returning their stream ids. */
async function addToStream(redis: Redis, prefix: string, payloads: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const payload of payloads) ids.push((await redis.xadd(streamKey(prefix), '*', 'e', payload)) ?? '');
  return ids;
}

describe('usage ledger on a shared Redis stream', () => {
  let db: TestDatabase;
  let redis: Redis;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = redisClient();
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  afterAll(async () => {
    redis?.disconnect();
    await db?.drop();
  });

  async function start(prefix: string, env: Record<string, string> = {}, databaseUrl?: string): Promise<TestApp> {
    const app = await startLedgerApp({ db, databaseUrl, env: { REDIS_KEY_PREFIX: prefix, ...FAST_WRITER, ...env } });
    apps.push(app);
    return app;
  }

  it('two instances share one stream: every entry lands once, and the stream empties', async () => {
    const prefix = uniqueRedisPrefix();
    const [a, b] = [await start(prefix), await start(prefix)];
    const recorded: LedgerEntry[] = [];
    await Promise.all(
      [a, b].map(async (app, n) => {
        for (let r = 0; r < 150; r += 1) {
          const id = requestId(`two-${n}`);
          for (let attempt = 1; attempt <= 1 + (r % 2); attempt += 1) {
            const entry = makeEntry({ request_id: id, attempt });
            await ledgerOf(app).record(entry);
            recorded.push(entry);
          }
        }
      }),
    );
    const where = `request_id LIKE 'two-%'`;
    await waitUntil(async () => (await ledgerRows(db.url, where)).length >= recorded.length, 15_000);
    const rows = await ledgerRows(db.url, where);
    expect(rows).toHaveLength(recorded.length);
    expect(compareWithRecorded(recorded, rows)).toEqual({ missing: [], duplicated: [] });
    // No id-order assertion here: two writers commit their batches concurrently, so across
    // instances the attempts of a request are ordered by attempt and created_at, not by id.
    expect(await waitUntil(async () => (await redis.xlen(streamKey(prefix))) === 0, 5_000)).toBe(true);
    // Both writers consumed from the group.
    const consumers = (await redis.call('XINFO', 'CONSUMERS', streamKey(prefix), LEDGER_GROUP)) as unknown[];
    expect(consumers.length).toBe(2);
  });

  it('claims the entries a crashed instance left pending, and not those of a live one', async () => {
    const prefix = uniqueRedisPrefix();
    await redis.call('XGROUP', 'CREATE', streamKey(prefix), LEDGER_GROUP, '0', 'MKSTREAM');
    const crashed = Array.from({ length: 30 }, () => makeEntry({ request_id: requestId('crashed') }));
    const live = makeEntry({ request_id: requestId('live') });
    await addToStream(
      redis,
      prefix,
      crashed.map((e) => JSON.stringify(e)),
    );
    // The crashed instance took its batch and died before writing it: pending, idle for 10 minutes.
    await redis.call(
      'XREADGROUP',
      'GROUP',
      LEDGER_GROUP,
      'crashed-instance',
      'COUNT',
      100,
      'STREAMS',
      streamKey(prefix),
      '>',
    );
    const crashedIds = await pendingOf(redis, prefix, 'crashed-instance');
    expect(crashedIds).toHaveLength(30);
    await redis.call('XCLAIM', streamKey(prefix), LEDGER_GROUP, 'crashed-instance', 0, ...crashedIds, 'IDLE', 600_000);
    // A live instance is busy writing its own batch right now.
    await addToStream(redis, prefix, [JSON.stringify(live)]);
    await redis.call(
      'XREADGROUP',
      'GROUP',
      LEDGER_GROUP,
      'live-instance',
      'COUNT',
      100,
      'STREAMS',
      streamKey(prefix),
      '>',
    );

    await start(prefix);
    const where = `request_id LIKE 'crashed-%'`;
    expect(await waitUntil(async () => (await ledgerRows(db.url, where)).length === 30, 10_000)).toBe(true);
    expect(compareWithRecorded(crashed, await ledgerRows(db.url, where))).toEqual({ missing: [], duplicated: [] });
    expect(await pendingOf(redis, prefix, 'crashed-instance')).toEqual([]);
    // The live instance's entry is left to it: still pending there, not written by the newcomer.
    expect(await pendingOf(redis, prefix, 'live-instance')).toHaveLength(1);
    expect(await ledgerRows(db.url, 'request_id = $1', [live.request_id])).toEqual([]);
  });

  it('moves unreadable entries to the dead letters without holding up the others', async () => {
    const prefix = uniqueRedisPrefix();
    const good = makeEntry({ request_id: requestId('good') });
    await addToStream(redis, prefix, [
      '{not json',
      JSON.stringify({ request_id: 'half-an-entry' }),
      JSON.stringify(good),
    ]);
    await start(prefix);
    expect(
      await waitUntil(
        async () => (await ledgerRows(db.url, 'request_id = $1', [good.request_id])).length === 1,
        10_000,
      ),
    ).toBe(true);
    expect(await waitUntil(async () => (await redis.xlen(streamKey(prefix))) === 0, 5_000)).toBe(true);
    const dead = (await redis.xrange(deadLetterKey(prefix), '-', '+')).map(([, fields]) => fields);
    expect(dead).toHaveLength(2);
    expect(dead.map((f) => f[f.indexOf('reason') + 1])).toEqual(['unreadable', 'unreadable']);
    expect(dead.map((f) => f[f.indexOf('e') + 1])).toEqual(['{not json', '{"request_id":"half-an-entry"}']);
  });

  it('keeps a row Postgres refuses aside (dead letter, metric) and writes the rest of its batch', async () => {
    const prefix = uniqueRedisPrefix();
    // A rule the application does not know about, as a later schema change could add.
    await withClient(db.url, (c) =>
      c.query(`ALTER TABLE usage_ledger ADD CONSTRAINT test_no_poison CHECK (model IS DISTINCT FROM 'poison')`),
    );
    try {
      const app = await start(prefix, { LEDGER_FLUSH_INTERVAL_MS: '1000' });
      const before = await metricValue(app.url, 'conflux_ledger_write_errors_total', { stage: 'rejected_row' });
      const entries = ['ok', 'poison', 'ok'].map((model) => makeEntry({ request_id: requestId('poison'), model }));
      for (const entry of entries) await ledgerOf(app).record(entry);
      const where = `request_id LIKE 'poison-%'`;
      expect(await waitUntil(async () => (await ledgerRows(db.url, where)).length === 2, 10_000)).toBe(true);
      expect(await waitUntil(async () => (await redis.xlen(streamKey(prefix))) === 0, 5_000)).toBe(true);
      const rows = await ledgerRows(db.url, where);
      expect(rows.map((r) => r.request_id)).toEqual([entries[0].request_id, entries[2].request_id]);
      const dead = await redis.xrange(deadLetterKey(prefix), '-', '+');
      expect(dead).toHaveLength(1);
      const fields = dead[0][1];
      expect(fields[fields.indexOf('reason') + 1]).toMatch(/test_no_poison/);
      expect(JSON.parse(fields[fields.indexOf('e') + 1])).toEqual(entries[1]);
      const after = await metricValue(app.url, 'conflux_ledger_write_errors_total', { stage: 'rejected_row' });
      expect(after - before).toBe(1);
    } finally {
      await withClient(db.url, (c) => c.query('ALTER TABLE usage_ledger DROP CONSTRAINT test_no_poison'));
    }
  });

  it('holds entries in the process while Redis is unreachable, writes them, and goes back to the stream', async () => {
    const prefix = uniqueRedisPrefix();
    const redisProxy = await TcpProxy.forUrl(testRedisUrl());
    try {
      const app = await start(prefix, {
        REDIS_URL: proxiedUrl(testRedisUrl(), redisProxy),
        REDIS_COMMAND_TIMEOUT_MS: '300',
      });
      redisProxy.cut();
      const during = Array.from({ length: 40 }, () => makeEntry({ request_id: requestId('spill') }));
      const started = performance.now();
      for (const entry of during) await ledgerOf(app).record(entry);
      // Recording does not wait on the dead connection.
      expect(performance.now() - started).toBeLessThan(1_000);
      const where = `request_id LIKE 'spill-%'`;
      expect(await waitUntil(async () => (await ledgerRows(db.url, where)).length === 40, 10_000)).toBe(true);
      expect(await redis.xlen(streamKey(prefix))).toBe(0);

      redisProxy.restore();
      const api = `${app.url}/health/ready`;
      expect(await waitUntil(async () => (await fetch(api)).status === 200, 10_000)).toBe(true);
      const after = makeEntry({ request_id: requestId('spill') });
      await ledgerOf(app).record(after);
      expect(await waitUntil(async () => (await ledgerRows(db.url, where)).length === 41, 10_000)).toBe(true);
      expect(compareWithRecorded([...during, after], await ledgerRows(db.url, where))).toEqual({
        missing: [],
        duplicated: [],
      });
      expect(await metricValue(app.url, 'conflux_ledger_buffer_depth')).toBe(0);
      expect(app.logs.text).toMatch(/Redis unavailable: ledger entries are held in this process/);
      expect(app.logs.text).toMatch(/Redis is back: ledger entries go to the stream again/);
    } finally {
      redisProxy.restore();
      await Promise.all(apps.splice(0).map((app) => app.close()));
      await redisProxy.close();
    }
  });
});
