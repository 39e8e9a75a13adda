import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { AppError } from '../../src/common/errors/app-error';
import type { Reservation, ReserveRequest } from '../../src/quota/dto/quota';
import { QuotaService } from '../../src/quota/quota.service';
import { startApp, TestApp } from '../support/app';
import { createProject, signInAdmin } from '../support/fixtures';
import { Api, expectEnvelope } from '../support/http';
import { delay, testRedisUrl, uniqueRedisPrefix, waitUntil } from '../support/services';
import { proxiedUrl, TcpProxy } from '../support/tcp-proxy';
import { awayFromMidnight, getQuota, putQuota } from './helpers';

const DECISION_BOUND_MS = 100;

interface Decision {
  reservation?: Reservation;
  error?: AppError;
  ms: number;
}

describe('quotas when Redis is unreachable', () => {
  let proxy: TcpProxy;
  let t: TestApp | undefined;
  let api: Api;
  let quota: QuotaService;
  let admin: string;
  let project: string;

  beforeAll(async () => {
    proxy = await TcpProxy.forUrl(testRedisUrl());
    t = await startApp({
      env: {
        REDIS_URL: proxiedUrl(testRedisUrl(), proxy),
        REDIS_KEY_PREFIX: uniqueRedisPrefix(),
        QUOTA_OUTAGE_ALLOWANCE_CREDITS: '1',
        // The first timeout opens the circuit here, so that only the first hung script reaches Redis.
        QUOTA_REDIS_TIMEOUTS_TO_OPEN: '1',
      },
    });
    api = new Api(t.url);
    quota = t.app.get(QuotaService);
    admin = await signInAdmin(api);
    project = (await createProject(api, admin, 'outage')).id;
    const put = await putQuota(api, project, { daily_credits: 100, rpm: 3 }, { token: admin });
    expect(put.status).toBe(200);
  });

  afterAll(async () => {
    proxy?.restore();
    await t?.close();
    await proxy?.close();
  });

  const paid = (microCredits: number): ReserveRequest => ({
    request_id: randomUUID(),
    project_id: project,
    api_key_id: null,
    micro_credits: microCredits,
    tokens: 10,
  });
  const free = (apiKeyId: string | null): ReserveRequest => ({ ...paid(0), api_key_id: apiKeyId });

  async function decide(request: ReserveRequest): Promise<Decision> {
    const started = performance.now();
    try {
      const reservation = await quota.reserve(request);
      return { reservation, ms: performance.now() - started };
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      return { error: err, ms: performance.now() - started };
    }
  }

  function held(decision: Decision): Reservation {
    if (!decision.reservation) throw new Error(`expected a reservation, got ${decision.error?.code}`);
    return decision.reservation;
  }

  /** Polls the shared balances (through Redis) until they show `spent` and nothing reserved. */
  async function waitForSharedBalances(spent: number): Promise<void> {
    let last = '';
    const caughtUp = await waitUntil(
      async () => {
        const res = await getQuota(api, project, { token: admin });
        last = `${res.status} ${JSON.stringify(res.body?.daily)}`;
        return res.status === 200 && res.body.daily.spent === spent && res.body.daily.reserved === 0;
      },
      15_000,
      200,
    );
    expect({ caughtUp, last }).toEqual({ caughtUp: true, last: expect.any(String) as string });
  }

  /** Waits out the end of a minute, so that a test's rpm counts fall in one window. */
  async function awayFromMinuteEnd(): Promise<void> {
    const left = 60_000 - (Date.now() % 60_000);
    if (left < 10_000) await delay(left + 100);
  }

  it('keeps rpm open, lets paid spend through up to the allowance then answers 503, each within 100 ms', async () => {
    await awayFromMidnight(30_000);
    await awayFromMinuteEnd();
    const key = randomUUID();
    for (let i = 0; i < 3; i += 1) await quota.release(held(await decide(free(key))));
    expect((await decide(free(key))).error?.code).toBe('rate_limited');

    proxy.cut();
    const decisions: Decision[] = [];
    // Rate limits fail open: this instance counts on its own, from zero.
    decisions.push(await decide(free(key)));
    // Paid spend: 0.3 + 0.3 + 0.3 fit in the 1-credit allowance, a fourth does not.
    for (let i = 0; i < 4; i += 1) decisions.push(await decide(paid(300_000)));
    // A zero-cost request is always allowed.
    decisions.push(await decide(free(null)));

    expect(decisions.map((d) => d.error?.code ?? 'ok')).toEqual(['ok', 'ok', 'ok', 'ok', 'service_unavailable', 'ok']);
    for (const d of decisions) expect(d.ms).toBeLessThan(DECISION_BOUND_MS);
    const refused = decisions[4].error;
    expect(refused?.status).toBe(503);
    expect(refused?.headers['Retry-After']).toBe('2');

    // Balances need Redis: the status answers 503 (with the envelope) rather than guessing.
    expectEnvelope(await getQuota(api, project, { token: admin }), 503, 'service_unavailable');
    for (const d of decisions.slice(1, 4)) await quota.settle(held(d), 250_000);
    // Settled below the hold: 0.25 of the allowance is free again; a release frees its part too.
    const last = held(await decide(paid(250_000)));
    expect((await decide(paid(1))).error?.code).toBe('service_unavailable');
    await quota.release(last);
    await quota.release(held(await decide(paid(250_000))));
    expect(t?.logs.text).toContain('quotas fall back to this instance');
    const metrics = await api.get('/metrics');
    expect(metrics.text).toMatch(/^conflux_quota_rejections_total\{reason="redis_unavailable"\} [1-9]\d*$/m);

    proxy.restore();
    // The spend settled here reaches Redis.
    await waitForSharedBalances(0.75);
    expect(t?.logs.text).toContain('quotas are shared again');
    const shared = held(await decide(paid(2_000_000)));
    expect((await getQuota(api, project, { token: admin })).body.daily).toMatchObject({ spent: 0.75, reserved: 2 });
    await quota.release(shared);
  });

  it('answers within 100 ms when Redis hangs, and clears the hold a hung script leaves behind', async () => {
    await awayFromMidnight(30_000);
    await waitForSharedBalances(0.75);

    proxy.stall();
    const first = await decide(paid(500_000));
    const second = await decide(paid(400_000));
    expect([first.ms, second.ms].every((ms) => ms < DECISION_BOUND_MS)).toBe(true);
    await quota.settle(held(first), 500_000);
    await quota.release(held(second));

    // The first reserve script reaches Redis on restore and holds 0.5 there; the replayed
    // settle of the same reservation then turns that hold into spend.
    proxy.restore();
    const reservedKey = `${t?.config.REDIS_KEY_PREFIX}quota:{${project}}:d:${held(first).day}:reserved`;
    const direct = new Redis(testRedisUrl(), { maxRetriesPerRequest: 0 });
    try {
      expect(await waitUntil(async () => (await direct.get(reservedKey)) === '500000', 5_000, 20)).toBe(true);
    } finally {
      await direct.quit();
    }
    await waitForSharedBalances(1.25);
  });
});
