import Redis from 'ioredis';
import { MemoryRateLimitStore } from '../../src/rate-limit/memory-rate-limit.store';
import type { RateLimitStore } from '../../src/rate-limit/rate-limit.store';
import { RedisRateLimitStore } from '../../src/rate-limit/redis-rate-limit.store';
import { testRedisUrl, uniqueRedisPrefix } from '../support/services';

const MINUTE = 60_000;
const HOUR = 3_600_000;

type Subject = { store: RateLimitStore; close: () => unknown };

const subjects: Array<[string, () => Subject]> = [
  ['in-process', () => ({ store: new MemoryRateLimitStore(), close: () => undefined })],
  [
    'Redis',
    () => {
      const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
      return { store: new RedisRateLimitStore(redis, uniqueRedisPrefix()), close: () => redis.quit() };
    },
  ],
];

describe.each(subjects)('%s rate-limit store: every window of a request in one call', (_name, make) => {
  let store: RateLimitStore;
  let close: () => unknown;
  beforeEach(() => {
    ({ store, close } = make());
  });
  afterEach(async () => {
    await close();
    if (store instanceof MemoryRateLimitStore) store.onModuleDestroy();
  });

  it('counts each window on its own key and reports each window its own reset', async () => {
    const windows = [
      { key: 'minute:key:a', windowMs: MINUTE },
      { key: 'hour:key:a', windowMs: HOUR },
    ];
    const first = await store.hitAll(windows);
    const second = await store.hitAll(windows);
    expect(first.map((s) => s.hits)).toEqual([1, 1]);
    expect(second.map((s) => s.hits)).toEqual([2, 2]);
    // A hit on the minute window alone leaves the hour window's count as it was.
    expect((await store.hit('minute:key:a', MINUTE)).hits).toBe(3);
    expect((await store.hitAll(windows)).map((s) => s.hits)).toEqual([4, 3]);
    const [minute, hour] = second;
    expect(minute.resetMs).toBeGreaterThan(MINUTE - 5_000);
    expect(minute.resetMs).toBeLessThanOrEqual(MINUTE);
    expect(hour.resetMs).toBeGreaterThan(HOUR - 5_000);
    expect(hour.resetMs).toBeLessThanOrEqual(HOUR);
  });

  it('keeps callers apart', async () => {
    await store.hitAll([{ key: 'minute:key:b', windowMs: MINUTE }]);
    const [other] = await store.hitAll([{ key: 'minute:key:c', windowMs: MINUTE }]);
    expect(other.hits).toBe(1);
  });

  it('answers an empty list with an empty list', async () => {
    expect(await store.hitAll([])).toEqual([]);
  });
});
