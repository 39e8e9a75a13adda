import { randomUUID } from 'node:crypto';
import { AppError } from '../../src/common/errors/app-error';
import { MemoryQuotaStore } from '../../src/quota/memory-quota.store';
import { QuotaService } from '../../src/quota/quota.service';
import { QuotaStore } from '../../src/quota/quota.store';
import { RedisQuotaStore } from '../../src/quota/redis-quota.store';
import { startApp, TestApp } from '../support/app';
import { createApiKey, createProject, createUser, signInAdmin, TestUser } from '../support/fixtures';
import { Api, expectEnvelope } from '../support/http';
import { awayFromMidnight, getQuota, putQuota } from './helpers';

const UNKNOWN_PROJECT = '00000000-0000-4000-8000-000000000000';

function nextUtcMidnight(): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString();
}

function nextUtcMonth(): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString();
}

/** Runs `work` and returns the AppError it throws (fails the test when it does not throw one). */
async function appErrorOf(work: () => Promise<unknown>): Promise<AppError> {
  try {
    await work();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError');
}

describe('project quota API', () => {
  let t: TestApp;
  let api: Api;
  let admin: string;
  let alice: TestUser;
  let bob: TestUser;
  let project: string;
  let otherProject: string;
  let aliceKey: { id: string; key: string };
  let bobKey: string;
  let quota: QuotaService;

  beforeAll(async () => {
    await awayFromMidnight();
    t = await startApp();
    api = new Api(t.url);
    admin = await signInAdmin(api);
    alice = await createUser(api, admin);
    bob = await createUser(api, admin);
    project = (await createProject(api, alice.token, 'alice-project')).id;
    otherProject = (await createProject(api, bob.token, 'bob-project')).id;
    aliceKey = await createApiKey(api, alice.token, project, 'alice-key');
    bobKey = (await createApiKey(api, bob.token, otherProject, 'bob-key')).key;
    quota = t.app.get(QuotaService);
  });
  afterAll(() => t.close());

  it('shows an unlimited, untouched project to its owner', async () => {
    const res = await getQuota(api, project, { token: alice.token });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      project_id: project,
      limits: { daily_credits: null, monthly_credits: null, rpm: null, tpm: null },
      daily: { limit: null, spent: 0, reserved: 0, remaining: null, resets_at: nextUtcMidnight() },
      monthly: { limit: null, spent: 0, reserved: 0, remaining: null, resets_at: nextUtcMonth() },
    });
  });

  it('lets an administrator set limits, which members and the project key then read', async () => {
    const put = await putQuota(
      api,
      project,
      { daily_credits: 12.5, monthly_credits: 100, rpm: 60, tpm: 10_000 },
      { token: admin },
    );
    expect(put.status).toBe(200);
    expect(put.body.limits).toEqual({ daily_credits: 12.5, monthly_credits: 100, rpm: 60, tpm: 10_000 });
    expect(put.body.daily).toMatchObject({ limit: 12.5, spent: 0, reserved: 0, remaining: 12.5 });
    expect(put.body.monthly).toMatchObject({ limit: 100, remaining: 100 });

    for (const auth of [{ token: alice.token }, { apiKey: aliceKey.key }, { token: admin }]) {
      const res = await getQuota(api, project, auth);
      expect(res.status).toBe(200);
      expect(res.body.limits).toEqual(put.body.limits);
    }
  });

  it('keeps absent fields, clears a limit set to null, and stores up to six decimals', async () => {
    await putQuota(api, project, { daily_credits: 12.5, monthly_credits: 100, rpm: 60, tpm: 10_000 }, { token: admin });
    const cleared = await putQuota(api, project, { rpm: null, monthly_credits: 99.123456 }, { token: admin });
    expect(cleared.status).toBe(200);
    expect(cleared.body.limits).toEqual({ daily_credits: 12.5, monthly_credits: 99.123456, rpm: null, tpm: 10_000 });
    const unchanged = await putQuota(api, project, {}, { token: admin });
    expect(unchanged.body.limits).toEqual(cleared.body.limits);
    const reread = await getQuota(api, project, { token: alice.token });
    expect(reread.body.limits).toEqual(cleared.body.limits);
  });

  it('lets only an administrator change limits', async () => {
    const body = { daily_credits: 1000 };
    expectEnvelope(await putQuota(api, project, body, { token: alice.token }), 403, 'forbidden');
    expectEnvelope(await putQuota(api, project, body, { apiKey: aliceKey.key }), 403, 'forbidden');
    expectEnvelope(await putQuota(api, project, body, { token: bob.token }), 403, 'forbidden');
    expectEnvelope(await putQuota(api, project, body, {}), 401, 'unauthorized');
    const res = await getQuota(api, project, { token: alice.token });
    expect(res.body.limits.daily_credits).not.toBe(1000);
  });

  it('hides a project from outsiders and answers 404 for an unknown one', async () => {
    expectEnvelope(await getQuota(api, project, { token: bob.token }), 404, 'not_found');
    expectEnvelope(await getQuota(api, project, { apiKey: bobKey }), 404, 'not_found');
    expectEnvelope(await getQuota(api, UNKNOWN_PROJECT, { token: admin }), 404, 'not_found');
    expectEnvelope(await putQuota(api, UNKNOWN_PROJECT, { rpm: 5 }, { token: admin }), 404, 'not_found');
    expectEnvelope(await getQuota(api, 'not-a-uuid', { token: admin }), 400, 'validation_failed');
  });

  it.each([
    ['a negative budget', { daily_credits: -1 }, 'daily_credits'],
    ['a budget given as a string', { monthly_credits: '5' }, 'monthly_credits'],
    ['seven decimals', { monthly_credits: 0.1234567 }, 'monthly_credits'],
    ['a fraction of a micro-credit written with an exponent', { daily_credits: 1e-7 }, 'daily_credits'],
    ['a fractional rpm', { rpm: 1.5 }, 'rpm'],
    ['a negative tpm', { tpm: -10 }, 'tpm'],
    ['an absurd budget', { daily_credits: 1e12 }, 'daily_credits'],
    ['an unknown field', { credits: 5 }, 'credits'],
  ])('refuses %s with the validation envelope', async (_label, body, field) => {
    const res = await putQuota(api, project, body, { token: admin });
    expectEnvelope(res, 400, 'validation_failed');
    expect(res.body.details).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  });

  it('reports spent, reserved and remaining credits as the service holds and settles', async () => {
    await putQuota(api, project, { daily_credits: 10, monthly_credits: null }, { token: admin });
    const held = await quota.reserve({
      request_id: 'r1',
      project_id: project,
      api_key_id: aliceKey.id,
      micro_credits: 4_000_000,
      tokens: 50,
    });
    const during = await getQuota(api, project, { apiKey: aliceKey.key });
    expect(during.body.daily).toMatchObject({ limit: 10, spent: 0, reserved: 4, remaining: 6 });
    expect(during.body.monthly).toMatchObject({ limit: null, spent: 0, reserved: 4, remaining: null });

    await quota.settle(held, 1_234_567, 40);
    const after = await getQuota(api, project, { token: alice.token });
    expect(after.body.daily).toMatchObject({ spent: 1.234567, reserved: 0, remaining: 8.765433 });
    expect(after.body.monthly).toMatchObject({ spent: 1.234567, reserved: 0 });
  });

  it('refuses beyond the budget with 402 budget_exceeded, and counts the rejection', async () => {
    const fresh = (await createProject(api, alice.token, 'budgeted')).id;
    await putQuota(api, fresh, { daily_credits: 1, monthly_credits: 50 }, { token: admin });
    const request = { request_id: 'r2', project_id: fresh, api_key_id: null, micro_credits: 600_000, tokens: 10 };
    await quota.settle(await quota.reserve(request), 600_000);

    const err = await appErrorOf(() => quota.reserve(request));
    expect(err.status).toBe(402);
    expect(err.code).toBe('budget_exceeded');
    expect(err.details).toEqual({
      window: 'daily',
      limit_credits: 1,
      spent_credits: 0.6,
      reserved_credits: 0,
      requested_credits: 0.6,
      resets_at: nextUtcMidnight(),
    });
    const metrics = await api.get('/metrics');
    expect(metrics.text).toMatch(/^conflux_quota_rejections_total\{reason="budget_daily"\} [1-9]\d*$/m);
    expect(metrics.text).toMatch(/^conflux_quota_rejections_total\{reason="redis_unavailable"\} \d+$/m);
  });

  it('refuses past rpm with 429 rate_limited and Retry-After, per API key', async () => {
    const fresh = (await createProject(api, alice.token, 'rate-limited')).id;
    await putQuota(api, fresh, { rpm: 2 }, { token: admin });
    const keyId = randomUUID();
    const request = { request_id: 'r3', project_id: fresh, api_key_id: keyId, micro_credits: 0, tokens: 10 };
    await quota.release(await quota.reserve(request));
    await quota.release(await quota.reserve(request));

    const err = await appErrorOf(() => quota.reserve(request));
    expect(err.status).toBe(429);
    expect(err.code).toBe('rate_limited');
    const retryAfter = Number(err.headers['Retry-After']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(err.details).toMatchObject({
      limit: 2,
      limit_type: 'rpm',
      window_seconds: 60,
      retry_after_seconds: retryAfter,
    });
    // Another key of the project has its own minute.
    await quota.release(await quota.reserve({ ...request, api_key_id: randomUUID() }));
  });

  it('settles and releases once, whatever the caller repeats', async () => {
    const fresh = (await createProject(api, alice.token, 'idempotent')).id;
    const request = { request_id: 'r4', project_id: fresh, api_key_id: null, micro_credits: 2_000_000, tokens: 10 };
    const settled = await quota.reserve(request);
    await quota.settle(settled, 1_000_000);
    await quota.settle(settled, 1_000_000);
    await quota.release(settled);
    const released = await quota.reserve(request);
    await quota.release(released);
    await quota.release(released);
    await quota.settle(released, 2_000_000);
    const status = await quota.status(fresh);
    expect(status.daily).toMatchObject({ spent: 1, reserved: 0 });
  });

  it('refuses malformed amounts from a caller as a bug, not as a quota decision', async () => {
    const request = { request_id: 'r5', project_id: project, api_key_id: null, micro_credits: 1.5, tokens: 1 };
    await expect(quota.reserve(request)).rejects.toThrow(TypeError);
    await expect(quota.reserve({ ...request, micro_credits: 1, tokens: -1 })).rejects.toThrow(TypeError);
  });

  it('uses the shared Redis store when REDIS_URL is set', () => {
    expect(t.app.get(QuotaStore, { strict: false })).toBeInstanceOf(RedisQuotaStore);
  });
});

describe('project quota API without Redis (embedded mode)', () => {
  let t: TestApp;
  let api: Api;

  beforeAll(async () => {
    await awayFromMidnight();
    t = await startApp({ env: { REDIS_URL: '' } });
    api = new Api(t.url);
  });
  afterAll(() => t.close());

  it('keeps budgets in the process with the same rules', async () => {
    expect(t.app.get(QuotaStore, { strict: false })).toBeInstanceOf(MemoryQuotaStore);
    const admin = await signInAdmin(api);
    const project = (await createProject(api, admin, 'embedded')).id;
    expect((await putQuota(api, project, { daily_credits: 1 }, { token: admin })).status).toBe(200);
    const quota = t.app.get(QuotaService);
    const request = { request_id: 'e1', project_id: project, api_key_id: null, micro_credits: 700_000, tokens: 1 };
    const held = await quota.reserve(request);
    await expect(quota.reserve(request)).rejects.toMatchObject({ code: 'budget_exceeded' });
    await quota.settle(held, 500_000);
    await quota.settle(held, 500_000);
    const res = await getQuota(api, project, { token: admin });
    expect(res.body.daily).toMatchObject({ limit: 1, spent: 0.5, reserved: 0, remaining: 0.5 });
  });
});
