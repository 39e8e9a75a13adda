import { AppError } from '../../src/common/errors/app-error';
import { QuotaService } from '../../src/quota/quota.service';
import { QuotaStore } from '../../src/quota/quota.store';
import type { RedisQuotaStore } from '../../src/quota/redis-quota.store';
import { startApp, TestApp } from '../support/app';
import { createProject, signInAdmin } from '../support/fixtures';
import { Api } from '../support/http';
import { delay, uniqueRedisPrefix, waitUntil } from '../support/services';
import { awayFromMidnight, getQuota, putQuota } from './helpers';

const CYCLES = 200;
const COST = 370_000;
/** Covers exactly 50 requests of COST, with 0.123456 credits to spare (less than one more). */
const BUDGET_MICRO = 50 * COST + 123_456;
const BUDGET_CREDITS = BUDGET_MICRO / 1_000_000;

type CycleResult = 'settled' | 'refused';

/** A budget of LEASED_REQUESTS requests of COST: large enough for leases (2 % of what is left covers 2 requests or more). */
const LEASED_REQUESTS = 600;
const LEASED_BUDGET_MICRO = LEASED_REQUESTS * COST + 123_456;
const LEASED_CYCLES = 720;
/** Cycles in flight at once in the leased run. */
const LEASED_CONCURRENCY = 40;
/** Most requests the budget may still cover when the last one is refused: the free parts of both instances' leases. */
const LEASE_SLACK_REQUESTS = 6;

describe('credit budgets shared by two instances over one Redis', () => {
  let first: TestApp | undefined;
  let second: TestApp | undefined;
  let apis: [Api, Api];
  let services: [QuotaService, QuotaService];
  let stores: [RedisQuotaStore, RedisQuotaStore];
  let admin: string;

  beforeAll(async () => {
    // Exactness under concurrency is tested here, not Redis' latency: a loaded machine must not turn a
    // slow answer into an outage refusal (the bound is tested in test/gateway/redis-slow).
    const env = { REDIS_KEY_PREFIX: uniqueRedisPrefix(), QUOTA_REDIS_TIMEOUT_MS: '1000' };
    first = await startApp({ env });
    second = await startApp({ env, db: first.db });
    apis = [new Api(first.url), new Api(second.url)];
    services = [first.app.get(QuotaService), second.app.get(QuotaService)];
    stores = [first.app.get(QuotaStore, { strict: false }), second.app.get(QuotaStore, { strict: false })].map(
      (store) => store as RedisQuotaStore,
    ) as [RedisQuotaStore, RedisQuotaStore];
    admin = await signInAdmin(apis[0]);
  });

  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  /** One reserve → (upstream call) → settle of exactly the reserved amount. */
  async function cycle(i: number, projectId: string, leased?: { count: number }): Promise<CycleResult> {
    const quota = services[i % 2];
    try {
      const reservation = await quota.reserve({
        request_id: `cycle-${i}`,
        project_id: projectId,
        api_key_id: null,
        micro_credits: COST,
        tokens: 100,
      });
      if (leased && stores[i % 2].leases.owns(reservation.id)) leased.count += 1;
      await delay(Math.floor(Math.random() * 20));
      await quota.settle(reservation, COST, 80);
      return 'settled';
    } catch (err) {
      if (err instanceof AppError && err.code === 'budget_exceeded') return 'refused';
      throw err;
    }
  }

  it(`runs ${CYCLES} concurrent reserve→settle cycles over both instances: exactly the budget is spent`, async () => {
    const project = (await createProject(apis[0], admin, 'concurrent')).id;
    const put = await putQuota(apis[0], project, { daily_credits: BUDGET_CREDITS }, { token: admin });
    expect(put.status).toBe(200);
    await awayFromMidnight();

    const results = await Promise.all(Array.from({ length: CYCLES }, (_, i) => cycle(i, project)));

    const settled = results.filter((r) => r === 'settled').length;
    // No request was refused while the budget still had room for it, and none got through beyond it.
    expect(settled).toBe(Math.floor(BUDGET_MICRO / COST));
    expect(results.filter((r) => r === 'refused')).toHaveLength(CYCLES - settled);

    for (const quota of services) {
      const status = await quota.status(project);
      expect(status.daily).toMatchObject({
        limit: BUDGET_CREDITS,
        spent: (settled * COST) / 1_000_000,
        reserved: 0,
        remaining: 0.123456,
      });
      expect(status.daily.spent).toBeLessThanOrEqual(BUDGET_CREDITS);
      expect(status.monthly).toMatchObject({ spent: (settled * COST) / 1_000_000, reserved: 0 });
    }
    // Every decision was Redis's: no instance fell back to its local allowance.
    for (const t of [first, second]) expect(t?.logs.text).not.toContain('quotas fall back to this instance');
  });

  it(`drains a budget of ${LEASED_REQUESTS} requests through leases on both instances: never more than the budget`, async () => {
    const project = (await createProject(apis[0], admin, 'leased')).id;
    const budgetCredits = LEASED_BUDGET_MICRO / 1_000_000;
    expect((await putQuota(apis[0], project, { daily_credits: budgetCredits }, { token: admin })).status).toBe(200);
    await awayFromMidnight(60_000);

    const leased = { count: 0 };
    const results: CycleResult[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < LEASED_CYCLES) results.push(await cycle(next++, project, leased));
    };
    await Promise.all(Array.from({ length: LEASED_CONCURRENCY }, () => worker()));

    const settled = results.filter((r) => r === 'settled').length;
    expect(results.filter((r) => r === 'refused')).toHaveLength(LEASED_CYCLES - settled);
    // Many requests were reserved from a lease, without a round trip to Redis (how many depends on how soon
    // the background refills land on a busy machine; without leases none would be).
    expect(leased.count).toBeGreaterThan(LEASED_REQUESTS / 5);
    // Never beyond the budget; refusals only once what is left fits in the free parts of the leases.
    expect(settled * COST).toBeLessThanOrEqual(LEASED_BUDGET_MICRO);
    expect(settled).toBeGreaterThanOrEqual(LEASED_REQUESTS - LEASE_SLACK_REQUESTS);

    // Every settle is booked exactly; once the leases are given back nothing is left reserved.
    const balanced = async (): Promise<boolean> => {
      const status = await services[0].status(project);
      await services[1].status(project);
      return status.daily.reserved === 0;
    };
    expect(await waitUntil(balanced, 20_000)).toBe(true);
    for (const quota of services) {
      const status = await quota.status(project);
      expect(status.daily).toMatchObject({ spent: (settled * COST) / 1_000_000, reserved: 0 });
      expect(status.daily.remaining).toBeCloseTo((LEASED_BUDGET_MICRO - settled * COST) / 1_000_000, 6);
      expect(status.monthly).toMatchObject({ spent: (settled * COST) / 1_000_000, reserved: 0 });
    }
    for (const t of [first, second]) expect(t?.logs.text).not.toContain('quotas fall back to this instance');
  });

  it('shows the same balances over HTTP on both instances', async () => {
    const project = (await createProject(apis[1], admin, 'http-view')).id;
    await putQuota(apis[1], project, { daily_credits: 5, monthly_credits: 20 }, { token: admin });
    await awayFromMidnight();
    const request = { request_id: 'h1', project_id: project, api_key_id: null, micro_credits: 2_000_000, tokens: 10 };
    const held = await services[0].reserve(request);
    await services[1].settle(await services[1].reserve({ ...request, request_id: 'h2' }), 1_500_000);

    for (const api of apis) {
      const res = await getQuota(api, project, { token: admin });
      expect(res.status).toBe(200);
      expect(res.body.daily).toMatchObject({ limit: 5, spent: 1.5, reserved: 2, remaining: 1.5 });
      expect(res.body.monthly).toMatchObject({ limit: 20, spent: 1.5, reserved: 2, remaining: 16.5 });
    }
    // The other instance settles the first one's reservation: the hold lives in Redis, not in a process.
    await services[1].settle(held, 2_000_000);
    await services[0].settle(held, 2_000_000);
    const after = await getQuota(apis[0], project, { token: admin });
    expect(after.body.daily).toMatchObject({ spent: 3.5, reserved: 0, remaining: 1.5 });
  });

  it('serves cached limits on the other instance for at most a few seconds after a change', async () => {
    const project = (await createProject(apis[0], admin, 'cached-limits')).id;
    await putQuota(apis[0], project, { rpm: 10 }, { token: admin });
    // The second instance reads (and caches) the limits...
    expect((await getQuota(apis[1], project, { token: admin })).body.limits.rpm).toBe(10);
    // ...so a change made on the first is seen there only once its cache entry expires (5 s): the
    // first read past that is still answered from the cache while it reloads in the background.
    await putQuota(apis[0], project, { rpm: 20 }, { token: admin });
    expect((await getQuota(apis[0], project, { token: admin })).body.limits.rpm).toBe(20);
    expect((await getQuota(apis[1], project, { token: admin })).body.limits.rpm).toBe(10);
    await delay(5_100);
    const rpm = async (): Promise<unknown> => (await getQuota(apis[1], project, { token: admin })).body.limits.rpm;
    expect([10, 20]).toContain(await rpm());
    expect(await waitUntil(async () => (await rpm()) === 20, 3_000)).toBe(true);
  });
});
