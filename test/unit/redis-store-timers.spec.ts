import Redis from 'ioredis';
import { RedisQuotaStore } from '../../src/quota/redis-quota.store';
import { RedisRateLimitStore } from '../../src/rate-limit/redis-rate-limit.store';

/**
 * The Redis-backed stores run background timers (their circuit's rolling window, the rounds of
 * leases and shares, the flusher). A timer left running after shutdown keeps the store, and all
 * the application it references, alive for as long as the process lives: every one of them is
 * cleared when the store is destroyed. Nothing here reaches Redis (the client never connects).
 */
describe('Redis-backed stores at shutdown', () => {
  let redis: Redis;
  /** Timers of the client itself. */
  let before: number;

  beforeEach(() => {
    jest.useFakeTimers();
    redis = new Redis({ lazyConnect: true, enableOfflineQueue: false });
    before = jest.getTimerCount();
  });
  afterEach(() => {
    redis.disconnect();
    jest.useRealTimers();
  });

  it('the rate-limit store clears every timer it started, its circuit breaker included', async () => {
    const store = new RedisRateLimitStore(redis, {
      prefix: 't:',
      timeoutMs: 75,
      shares: { requests: 50, share: 0.05, minRate: 10 },
    });
    expect(jest.getTimerCount()).toBeGreaterThan(before);
    await store.onModuleDestroy();
    expect(jest.getTimerCount()).toBe(before);
  });

  it('the quota store clears every timer it started, its circuit breaker included', async () => {
    const store = new RedisQuotaStore(redis, {
      prefix: 't:',
      timeoutMs: 75,
      outageAllowance: 0,
      ledger: { spend: () => Promise.resolve({ day: 0, month: 0 }), writtenBefore: () => Promise.resolve(true) },
      rebuildGatherMs: 0,
      rebuildDrainWaitMs: 0,
      rebuildWaitMs: 1_000,
      rateShares: { requests: 50, share: 0.05, minRate: 10 },
    });
    expect(jest.getTimerCount()).toBeGreaterThan(before);
    await store.onModuleDestroy();
    expect(jest.getTimerCount()).toBe(before);
  });
});
