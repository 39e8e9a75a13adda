import type Redis from 'ioredis';
import { RedisLedgerBuffer } from '../../src/ledger/redis-ledger.buffer';
import { uniqueRedisPrefix } from '../support/services';
import { makeEntry, redisClient, requestId, streamKey } from './ledger-support';

type WithAppend = Redis & { confluxLedgerAppendMany(...args: unknown[]): Promise<unknown> };

describe('ledger entries recorded together go to the stream in one script call', () => {
  let redis: Redis;
  let calls = 0;

  beforeAll(async () => {
    redis = redisClient();
    await new Promise((resolve) => redis.once('ready', resolve));
    // The first buffer defines the script's command on the client; later ones bind the counted one.
    new RedisLedgerBuffer(redis, {
      prefix: uniqueRedisPrefix(),
      staleAfterMs: 60_000,
      maxEntries: 1,
      commandTimeoutMs: 500,
    });
    const client = redis as WithAppend;
    const send = client.confluxLedgerAppendMany.bind(client);
    client.confluxLedgerAppendMany = (...args: unknown[]) => {
      calls += 1;
      return send(...args);
    };
  });
  afterAll(() => redis.disconnect());

  function buffer(prefix: string, maxEntries = 1_000): RedisLedgerBuffer {
    return new RedisLedgerBuffer(redis, { prefix, staleAfterMs: 60_000, maxEntries, commandTimeoutMs: 500 });
  }

  it('appends a burst of entries with one call each few milliseconds, each entry once', async () => {
    const prefix = uniqueRedisPrefix();
    const ledger = buffer(prefix);
    calls = 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: 120 }, () => ledger.append(makeEntry({ request_id: requestId('burst') }))));
    // Recorded within one window: one script call (two if the burst straddled one), not 120.
    expect(calls).toBeLessThanOrEqual(2);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await redis.xlen(streamKey(prefix))).toBe(120);
  });

  it('sends what waits before handing off at shutdown', async () => {
    const prefix = uniqueRedisPrefix();
    const ledger = buffer(prefix);
    void ledger.append(makeEntry({ request_id: requestId('last') }));
    expect(ledger.hasOwnBacklog()).toBe(true);
    await ledger.handOff();
    expect(await redis.xlen(streamKey(prefix))).toBe(1);
  });

  it('keeps in the process what a full stream refuses, and the rest of the batch goes in', async () => {
    const prefix = uniqueRedisPrefix();
    const ledger = buffer(prefix, 3);
    await Promise.all(Array.from({ length: 5 }, () => ledger.append(makeEntry({ request_id: requestId('full') }))));
    expect(await redis.xlen(streamKey(prefix))).toBe(3);
    expect(ledger.full).toBe(true);
    expect((await ledger.stats()).depth).toBe(5);
  });
});
