import { MemoryRateLimitStore } from '../../src/quota/memory-rate-limit.store';
import { ThrottlerStorageAdapter } from '../../src/quota/throttler-storage';

describe('in-process rate-limit store', () => {
  let store: MemoryRateLimitStore;
  beforeEach(() => {
    store = new MemoryRateLimitStore();
  });
  afterEach(() => store.onModuleDestroy());

  it('counts hits per key within a window', async () => {
    expect((await store.hit('a', 60_000)).hits).toBe(1);
    expect((await store.hit('a', 60_000)).hits).toBe(2);
    expect((await store.hit('b', 60_000)).hits).toBe(1);
  });

  it('starts a new window after the old one ends', async () => {
    await store.hit('a', 30);
    await store.hit('a', 30);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await store.hit('a', 30)).hits).toBe(1);
  });

  it('blocks past the limit with a retry time within the window', async () => {
    const adapter = new ThrottlerStorageAdapter(store);
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await adapter.increment('k', 60_000, 3));
    expect(results.map((r) => r.isBlocked)).toEqual([false, false, false, true]);
    expect(results[3].timeToBlockExpire).toBeGreaterThanOrEqual(1);
    expect(results[3].timeToBlockExpire).toBeLessThanOrEqual(60);
  });
});
