import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { AppError } from '../../src/common/errors/app-error';
import { MemoryRateLimitStore } from '../../src/rate-limit/memory-rate-limit.store';
import { RateLimitGuard } from '../../src/rate-limit/rate-limit.guard';

/** A request from one client address through RateLimitGuard: refused or not, and with which Retry-After. */
async function attempt(guard: RateLimitGuard): Promise<{ blocked: boolean; retryAfter: number }> {
  const http = { getRequest: () => ({ ip: '192.0.2.1' }), getResponse: () => ({ setHeader: () => undefined }) };
  const context = { getHandler: () => attempt, getClass: () => RateLimitGuard, switchToHttp: () => http };
  try {
    await guard.canActivate(context as unknown as ExecutionContext);
    return { blocked: false, retryAfter: 0 };
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return { blocked: err.status === 429, retryAfter: Number(err.headers['Retry-After']) };
  }
}

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
    // The guard counts in the store alone: ThrottlerGuard's storage is never asked.
    const unused: ThrottlerStorage = { increment: () => Promise.reject(new Error('not used')) };
    const guard = new RateLimitGuard(
      { throttlers: [{ name: 'minute', ttl: 60_000, limit: 3 }] },
      unused,
      new Reflector(),
      store,
    );
    await guard.onModuleInit();
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await attempt(guard));
    expect(results.map((r) => r.blocked)).toEqual([false, false, false, true]);
    expect(results[3].retryAfter).toBeGreaterThanOrEqual(1);
    expect(results[3].retryAfter).toBeLessThanOrEqual(60);
  });
});
