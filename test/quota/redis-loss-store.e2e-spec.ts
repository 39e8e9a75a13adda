import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { UNLIMITED } from '../../src/quota/quota.store';
import { budgetWindowsAt } from '../../src/quota/quota-windows';
import { RedisQuotaStore } from '../../src/quota/redis-quota.store';
import { RedisServer, startRedisServer, uniqueRedisPrefix, waitUntil } from '../support/services';

const CREDIT = 1_000_000;

/**
 * Reservations open on an instance when Redis restarts empty: their amounts are held again
 * and their spend still counts once settled, whether the settle comes before or after that.
 */
describe('open reservations when Redis restarts empty', () => {
  const prefix = uniqueRedisPrefix();
  let server: RedisServer;
  let redis: Redis;
  let store: RedisQuotaStore;

  beforeAll(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false });
    redis.on('error', () => undefined);
    await waitUntil(() => Promise.resolve(redis.status === 'ready'), 5_000);
    store = new RedisQuotaStore(redis, {
      prefix,
      timeoutMs: 2_000,
      outageAllowance: CREDIT,
      // The deployment's ledger is empty: a rebuild starts from what was settled meanwhile.
      ledger: { spend: () => Promise.resolve({ day: 0, month: 0 }), writtenBefore: () => Promise.resolve(true) },
      rebuildGatherMs: 1_000,
      rebuildDrainWaitMs: 0,
      rebuildWaitMs: 5_000,
    });
  });

  afterAll(async () => {
    await store?.onModuleDestroy();
    redis?.disconnect();
    await server?.stop();
  });

  async function restartEmpty(): Promise<void> {
    await server.stop();
    await server.start();
    await waitUntil(() => Promise.resolve(redis.status === 'ready'), 10_000);
    // Past the 2 s a refused connection keeps Redis out of decisions.
    await new Promise((resolve) => setTimeout(resolve, 2_100));
  }

  it('holds them again, and counts their spend when they settle', async () => {
    const projectId = randomUUID();
    const limits = { ...UNLIMITED, daily: 10 * CREDIT };
    const reserve = (microCredits: number) =>
      store.reserve({ id: randomUUID(), projectId, apiKeyId: null, microCredits, tokens: 1, limits, now: Date.now() });
    const first = await reserve(2 * CREDIT);
    const second = await reserve(3 * CREDIT);
    if (!first.ok || !second.ok) throw new Error('expected both reservations');

    await restartEmpty();
    // Settled before the instance held it again: Redis no longer knows it, the spend still counts.
    expect(await store.settle(first.reservation, 2 * CREDIT, null, Date.now())).toBe('closed');
    const { day } = budgetWindowsAt(Date.now());
    const reserved = async () => Number((await redis.get(`${prefix}quota:{${projectId}}:d:${day}:reserved`)) ?? 0);
    // The other one is held again within the check interval.
    expect(await waitUntil(async () => (await reserved()) === 3 * CREDIT, 5_000)).toBe(true);

    // 2 spent + 3 held of 10: 5 more fit, 5.000001 do not.
    expect(await reserve(5 * CREDIT + 1)).toMatchObject({ ok: false, reason: 'budget_daily' });
    expect(await store.settle(second.reservation, 3 * CREDIT, null, Date.now())).toBe('closed');
    expect(await store.balances(projectId, Date.now())).toEqual({
      daily: { spent: 5 * CREDIT, reserved: 0 },
      monthly: { spent: 5 * CREDIT, reserved: 0 },
    });
  }, 60_000);
});
