import Redis from 'ioredis';
import { MemoryRateLimitStore } from '../../src/rate-limit/memory-rate-limit.store';
import type { RateLimitStore } from '../../src/rate-limit/rate-limit.store';
import { RedisRateLimitStore } from '../../src/rate-limit/redis-rate-limit.store';
import { delay, testRedisUrl, uniqueRedisPrefix } from '../support/services';
import { proxiedUrl, TcpProxy } from '../support/tcp-proxy';

const MINUTE = 60_000;
const HOUR = 3_600_000;

type Subject = { store: RateLimitStore; close: () => unknown };

const subjects: Array<[string, () => Subject]> = [
  ['in-process', () => ({ store: new MemoryRateLimitStore(), close: () => undefined })],
  [
    'Redis',
    () => {
      const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 1 });
      return {
        store: new RedisRateLimitStore(redis, { prefix: uniqueRedisPrefix(), timeoutMs: 75 }),
        close: () => redis.quit(),
      };
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

describe('Redis rate-limit store when Redis hangs or answers slowly', () => {
  const prefix = uniqueRedisPrefix();
  let proxy: TcpProxy;
  let viaProxy: Redis;
  let direct: Redis;
  let store: RedisRateLimitStore;

  beforeAll(async () => {
    proxy = await TcpProxy.forUrl(testRedisUrl());
    // A command timeout far above the 75 ms bound, as a deployment may configure it.
    viaProxy = new Redis(proxiedUrl(testRedisUrl(), proxy), {
      commandTimeout: 5_000,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    });
    viaProxy.on('error', () => undefined);
    await new Promise((resolve) => viaProxy.once('ready', resolve));
    direct = new Redis(testRedisUrl(), { maxRetriesPerRequest: 0 });
    store = new RedisRateLimitStore(viaProxy, { prefix, timeoutMs: 75 });
  });
  afterEach(() => proxy.restore());
  afterAll(async () => {
    viaProxy?.disconnect();
    const keys = await direct.keys(`${prefix}*`);
    if (keys.length > 0) await direct.del(...keys);
    await direct.quit();
    await proxy?.close();
  });

  /** Whether Redis itself counted a hit on `key` (the store's fallback counts only in this process). */
  const countedInRedis = async (key: string): Promise<boolean> => (await direct.get(`${prefix}rl:${key}`)) !== null;

  it('answers within its bound when Redis hangs, counting on this instance', async () => {
    proxy.stall();
    const started = performance.now();
    const [state] = await store.hitAll([{ key: 'minute:hang', windowMs: MINUTE }]);
    // The 75 ms bound answers, not the 5 s command timeout; the margin absorbs a loaded machine.
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(state.hits).toBe(1);
    proxy.restore();
    await delay(2_500); // whatever the circuit did meanwhile, Redis is tried again by now
  });

  it('keeps using Redis through a burst of slow answers (a slow Redis is not a gone one)', async () => {
    // Every reply arrives ~120 ms after its call: each call misses the 75 ms bound.
    proxy.slow(60);
    let running = true;
    let calls = 0;
    const worker = async (): Promise<void> => {
      while (running) {
        await store.hitAll([{ key: `minute:burst:${calls++}`, windowMs: MINUTE }]);
        await new Promise((resolve) => setImmediate(resolve)); // a local answer must not starve the timers
      }
    };
    const workers = Array.from({ length: 20 }, () => worker());
    await delay(1_500);
    running = false;
    await Promise.all(workers);
    proxy.restore();
    expect(calls).toBeGreaterThan(40);
    // The circuit stayed closed: the very next hit is counted in Redis, not on this instance alone.
    await store.hitAll([{ key: 'minute:after-burst', windowMs: MINUTE }]);
    expect(await countedInRedis('minute:after-burst')).toBe(true);
  });
});
