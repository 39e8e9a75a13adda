import { startApp, TEST_ADMIN, TestApp } from '../support/app';
import { createUser, signInAdmin, TestUser } from '../support/fixtures';
import { Api, ApiResponse, expectEnvelope } from '../support/http';
import { delay, testRedisUrl, uniqueRedisPrefix } from '../support/services';
import { proxiedUrl, TcpProxy } from '../support/tcp-proxy';

const LIMIT = 5;
const REMAINING = 'x-ratelimit-remaining-minute';

/** Retry-After must be a whole number of seconds within the one-minute window. */
function expectRateLimited(res: ApiResponse): void {
  expectEnvelope(res, 429, 'rate_limited');
  const retryAfter = res.headers.get('retry-after');
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(retryAfter)).toBeLessThanOrEqual(60);
  expect(res.body.details).toMatchObject({ limit: LIMIT, window_seconds: 60, retry_after_seconds: Number(retryAfter) });
}

function remaining(res: ApiResponse): number | null {
  const value = res.headers.get(REMAINING);
  return value === null ? null : Number(value);
}

describe('rate limits shared by two instances over one Redis prefix', () => {
  let first: TestApp | undefined;
  let second: TestApp | undefined;
  let apis: [Api, Api];
  let adminToken: string;
  let member: TestUser;

  beforeAll(async () => {
    // TRUST_PROXY lets each anonymous test speak from its own client address (X-Forwarded-For).
    const env = {
      REDIS_KEY_PREFIX: uniqueRedisPrefix(),
      RATE_LIMIT_PER_MINUTE: String(LIMIT),
      TRUST_PROXY: 'loopback',
    };
    first = await startApp({ env });
    second = await startApp({ env, db: first.db });
    apis = [new Api(first.url), new Api(second.url)];
    adminToken = await signInAdmin(apis[0]);
    // One hit on the administrator's budget (POST /admin/users).
    member = await createUser(apis[0], adminToken);
  });

  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('counts one user across both instances: 5 pass, the 6th is refused on either', async () => {
    const seen: Array<number | null> = [];
    for (let i = 0; i < LIMIT; i += 1) {
      const res = await apis[i % 2].get('/auth/me', { token: member.token });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit-minute')).toBe(String(LIMIT));
      seen.push(remaining(res));
    }
    expect(seen).toEqual([4, 3, 2, 1, 0]);

    expectRateLimited(await apis[1].get('/auth/me', { token: member.token }));
    expectRateLimited(await apis[0].get('/auth/me', { token: member.token }));
    // Every route shares the caller's budget.
    expectRateLimited(await apis[1].get('/projects', { token: member.token }));
  });

  it('keeps another user on their own budget', async () => {
    // The administrator spent one hit creating the member; the member's exhaustion does not touch them.
    const res = await apis[1].get('/auth/me', { token: adminToken });
    expect(res.status).toBe(200);
    expect(remaining(res)).toBe(LIMIT - 2);
    const again = await apis[0].get('/auth/me', { token: adminToken });
    expect(again.status).toBe(200);
    expect(remaining(again)).toBe(LIMIT - 3);
  });

  it('limits anonymous requests per client address, across instances', async () => {
    const from = { 'x-forwarded-for': '203.0.113.7' };
    const wrong = { email: TEST_ADMIN.email, password: 'not-the-admin-password' };
    const seen: Array<number | null> = [];
    for (let i = 0; i < LIMIT; i += 1) {
      const res = await apis[i % 2].post('/auth/login', wrong, { headers: from });
      expectEnvelope(res, 401, 'invalid_credentials');
      seen.push(remaining(res));
    }
    expect(seen).toEqual([4, 3, 2, 1, 0]);
    expectRateLimited(await apis[1].post('/auth/login', wrong, { headers: from }));
    // Even the right password waits: the address is throttled, not the credentials.
    expectRateLimited(await apis[0].post('/auth/login', TEST_ADMIN, { headers: from }));

    // Another address has its own budget.
    const other = await apis[0].post('/auth/login', wrong, { headers: { 'x-forwarded-for': '203.0.113.8' } });
    expectEnvelope(other, 401, 'invalid_credentials');
    expect(remaining(other)).toBe(LIMIT - 1);
  });

  it('limits callers presenting bad credentials per client address too', async () => {
    // Unauthenticated guessing must not be free: each well-formed key costs a database lookup.
    const from = { 'x-forwarded-for': '203.0.113.10' };
    const statuses: number[] = [];
    for (let i = 0; i <= LIMIT; i += 1) {
      const apiKey = `cfx_AAAAAAAAAAAA_${'A'.repeat(42)}${i % 10}`;
      statuses.push((await apis[i % 2].get('/auth/me', { apiKey, headers: from })).status);
    }
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it('never limits the probes or the metrics scrape', async () => {
    const from = { 'x-forwarded-for': '203.0.113.9' };
    // Exhaust this address (an empty body is refused by validation, after the rate limit counted it).
    for (let i = 0; i < LIMIT; i += 1) {
      expect((await apis[i % 2].post('/auth/login', {}, { headers: from })).status).toBe(400);
    }
    expectRateLimited(await apis[0].post('/auth/login', {}, { headers: from }));

    for (let i = 0; i < LIMIT * 2; i += 1) {
      for (const path of ['/health/live', '/metrics', '/health/ready', '/health']) {
        const res = await apis[i % 2].get(path, { headers: from });
        expect({ path, status: res.status }).toEqual({ path, status: 200 });
        expect(res.headers.get(REMAINING)).toBeNull();
      }
    }
  });
});

describe('rate limits when Redis is unreachable', () => {
  let proxy: TcpProxy;
  let t: TestApp | undefined;
  let api: Api;

  beforeAll(async () => {
    proxy = await TcpProxy.forUrl(testRedisUrl());
    t = await startApp({
      env: {
        REDIS_URL: proxiedUrl(testRedisUrl(), proxy),
        REDIS_KEY_PREFIX: uniqueRedisPrefix(),
        RATE_LIMIT_PER_MINUTE: String(LIMIT),
      },
    });
    api = new Api(t.url);
  });

  afterAll(async () => {
    proxy?.restore();
    await t?.close();
    await proxy?.close();
  });

  async function timedGet(path: string, token: string): Promise<{ res: ApiResponse; ms: number }> {
    const started = performance.now();
    const res = await api.get(path, { token });
    return { res, ms: performance.now() - started };
  }

  it('fails open to local counters: requests are served, quickly, and shared counting resumes after', async () => {
    const token = await signInAdmin(api);
    const before = await api.get('/auth/me', { token });
    expect(before.status).toBe(200);
    expect(remaining(before)).toBe(LIMIT - 1);

    proxy.cut();
    try {
      const seen: Array<number | null> = [];
      for (let i = 0; i < 3; i += 1) {
        const { res, ms } = await timedGet('/auth/me', token);
        expect(res.status).toBe(200);
        expect(ms).toBeLessThan(1_000);
        seen.push(remaining(res));
      }
      // Counted by this instance alone while Redis is away.
      expect(seen).toEqual([4, 3, 2]);
      expect(t?.logs.text).toContain('rate limits fall back to this instance');
    } finally {
      proxy.restore();
    }

    // Once Redis answers again, the shared counter (1 hit before the cut) is used again.
    const deadline = Date.now() + 10_000;
    while ((await api.get('/health/ready')).status !== 200 && Date.now() < deadline) await delay(100);
    // After a failure the store leaves Redis alone for a short while (2 s) rather than
    // paying a timeout on every request; then it tries Redis again.
    await delay(2_100);
    const after = await api.get('/auth/me', { token });
    expect(after.status).toBe(200);
    expect(remaining(after)).toBe(LIMIT - 2);
    expect(t?.logs.text).toContain('rate limits are shared again');
  });
});
