import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { LeaseSettings } from '../../src/quota/budget-leases';
import type { Reservation } from '../../src/quota/dto/quota';
import type { RateShareSettings } from '../../src/rate-limit/rate-shares';
import { UNLIMITED } from '../../src/quota/quota.store';
import { minuteWindowAt } from '../../src/quota/quota-windows';
import { RedisQuotaStore } from '../../src/quota/redis-quota.store';
import { dropRedisPrefix, testRedisUrl, uniqueRedisPrefix } from '../support/services';
import { EMPTY_LEDGER, testClock } from './store-contract';

const LEASES: LeaseSettings = { requests: 4, share: 0.25, lowWater: 0.5, ttlMs: 30_000, minRate: 0 };
const SHARES: RateShareSettings = { requests: 10, share: 0.25, minRate: 0, idleMs: 30 };
const INSTANCES = 2;

describe("a busy API key's rpm and tpm counted from local shares (Redis quota store)", () => {
  const prefix = uniqueRedisPrefix();
  let redis: Redis;
  let stores: RedisQuotaStore[] = [];
  const clock = { now: testClock() };

  beforeAll(() => {
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 0 });
  });
  afterEach(async () => {
    for (const store of stores) await store.onModuleDestroy();
    stores = [];
  });
  afterAll(() => dropRedisPrefix(redis, prefix));

  function makeStores(rateShares?: RateShareSettings): RedisQuotaStore[] {
    stores = Array.from(
      { length: INSTANCES },
      () =>
        new RedisQuotaStore(redis, {
          prefix,
          timeoutMs: 2_000,
          outageAllowance: 0,
          ...EMPTY_LEDGER,
          leases: LEASES,
          rateShares,
          clock: () => clock.now,
          leaseRoundMs: 0,
          rateRoundMs: 0,
        }),
    );
    return stores;
  }

  /** Every instance idle long enough to give its shares back, and done writing. */
  async function settleDown(): Promise<void> {
    clock.now += SHARES.idleMs! + 20;
    for (const store of stores) store.rates.tick();
    for (const store of stores) await store.rates.whenIdle();
  }

  /** `count` requests of one key, alternating instances, each settled at once with `actualTokens`. */
  async function traffic(
    limits: { rpm: number | null; tpm: number | null },
    count: number,
    tokens: { estimate: number; actual: number },
  ): Promise<{ project: string; apiKeyId: string; admitted: number; local: number; refused: string[] }> {
    const project = randomUUID();
    const apiKeyId = randomUUID();
    const result = { project, apiKeyId, admitted: 0, local: 0, refused: [] as string[] };
    for (let i = 0; i < count; i += 1) {
      const store = stores[i % INSTANCES];
      const id = randomUUID();
      const outcome = await store.reserve({
        id,
        projectId: project,
        apiKeyId,
        microCredits: 0,
        tokens: tokens.estimate,
        limits: { ...UNLIMITED, ...limits },
        now: clock.now,
      });
      if (!outcome.ok) {
        result.refused.push(outcome.reason);
        continue;
      }
      result.admitted += 1;
      if (store.leases.owns(id)) result.local += 1;
      expect(await store.settle(outcome.reservation, 0, tokens.actual, clock.now)).toBe('closed');
    }
    await settleDown();
    return result;
  }

  async function counters(project: string, apiKeyId: string): Promise<{ requests: number; tokens: number }> {
    const base = `${prefix}quota:{${project}}:k:${apiKeyId}`;
    const minute = minuteWindowAt(clock.now).index;
    const [requests, tokens] = await redis.mget(`${base}:rpm:${minute}`, `${base}:tpm:${minute}`);
    return { requests: Number(requests ?? 0), tokens: Number(tokens ?? 0) };
  }

  it('serves most requests without a round trip, never above rpm, and counts each once', async () => {
    makeStores(SHARES);
    const rpm = 100;
    const r = await traffic({ rpm, tpm: null }, 150, { estimate: 50, actual: 20 });
    expect(r.local).toBeGreaterThan(50);
    expect(r.admitted).toBeLessThanOrEqual(rpm);
    // Refused early by at most the instances' free parts (each at most a share of 10 requests).
    expect(r.admitted).toBeGreaterThanOrEqual(rpm - INSTANCES * SHARES.requests);
    expect(new Set(r.refused)).toEqual(new Set(['rpm']));
    // Once the shares are given back, Redis counts exactly the admitted requests (refused ones do not count).
    expect((await counters(r.project, r.apiKeyId)).requests).toBe(r.admitted);
  });

  it('counts tokens as used: the estimate is held, the actual count kept at settle, never above tpm', async () => {
    makeStores(SHARES);
    const tpm = 2_000;
    const r = await traffic({ rpm: null, tpm }, 150, { estimate: 50, actual: 20 });
    expect(r.local).toBeGreaterThan(50);
    // Settled requests count their 20 tokens, not the 50 held: more than tpm / 50 = 40 requests fit.
    expect(r.admitted * 20).toBeLessThanOrEqual(tpm);
    expect(r.admitted).toBeGreaterThan(60);
    expect((await counters(r.project, r.apiKeyId)).tokens).toBe(20 * r.admitted);
  });

  it('gives a released request its tokens back; its request still counts', async () => {
    makeStores(SHARES);
    const project = randomUUID();
    const apiKeyId = randomUUID();
    const limits = { ...UNLIMITED, rpm: 1_000, tpm: 100_000 };
    let admitted = 0;
    let settled = 0;
    let local: Reservation | null = null;
    // Until the first instance counts a request locally (its shares granted).
    for (let i = 0; i < 20 && !local; i += 1) {
      const id = randomUUID();
      const outcome = await stores[0].reserve({
        id,
        projectId: project,
        apiKeyId,
        microCredits: 0,
        tokens: 30,
        limits,
        now: clock.now,
      });
      if (!outcome.ok) throw new Error(`refused: ${outcome.reason}`);
      admitted += 1;
      if (stores[0].leases.owns(id)) local = outcome.reservation;
      else {
        await stores[0].settle(outcome.reservation, 0, 30, clock.now);
        settled += 1;
      }
      await stores[0].rates.whenIdle();
    }
    if (!local) throw new Error('no request was counted from the shares');
    expect(await stores[0].release(local, clock.now)).toBe('closed');
    await settleDown();
    expect(await counters(project, apiKeyId)).toEqual({ requests: admitted, tokens: 30 * settled });
    // Another key of the project has counters of its own.
    expect(await counters(project, randomUUID())).toEqual({ requests: 0, tokens: 0 });
  });

  it('without shares, every request of a rated key holds in Redis as before', async () => {
    makeStores(undefined);
    const r = await traffic({ rpm: 100, tpm: null }, 30, { estimate: 50, actual: 20 });
    expect(r.local).toBe(0);
    expect(r.admitted).toBe(30);
    expect((await counters(r.project, r.apiKeyId)).requests).toBe(30);
  });
});
