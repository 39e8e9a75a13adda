import { randomUUID } from 'node:crypto';
import { AppError } from '../../src/common/errors/app-error';
import type { Reservation, ReserveRequest } from '../../src/quota/dto/quota';
import { QuotaService } from '../../src/quota/quota.service';
import { startApp, TestApp } from '../support/app';
import { createProject, signInAdmin } from '../support/fixtures';
import { Api } from '../support/http';
import { testRedisUrl, uniqueRedisPrefix } from '../support/services';
import { proxiedUrl, TcpProxy } from '../support/tcp-proxy';
import { awayFromMidnight, putQuota } from './helpers';

/**
 * The outage allowance (QUOTA_OUTAGE_ALLOWANCE_CREDITS per project and instance) never lets
 * an instance spend more than the project's budget had left when Redis last answered.
 */
describe('the outage allowance of a nearly spent budget', () => {
  let proxy: TcpProxy;
  let t: TestApp | undefined;
  let quota: QuotaService;
  let project: string;

  beforeAll(async () => {
    proxy = await TcpProxy.forUrl(testRedisUrl());
    t = await startApp({
      env: {
        REDIS_URL: proxiedUrl(testRedisUrl(), proxy),
        REDIS_KEY_PREFIX: uniqueRedisPrefix(),
        // Far more than the budget: the budget must be the cap.
        QUOTA_OUTAGE_ALLOWANCE_CREDITS: '5',
        QUOTA_REDIS_TIMEOUTS_TO_OPEN: '1',
        QUOTA_REDIS_TIMEOUT_MS: '2000',
      },
    });
    const api = new Api(t.url);
    const admin = await signInAdmin(api);
    quota = t.app.get(QuotaService);
    project = (await createProject(api, admin, 'allowance-cap')).id;
    expect((await putQuota(api, project, { daily_credits: 1 }, { token: admin })).status).toBe(200);
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

  async function outcome(request: ReserveRequest): Promise<Reservation | string> {
    try {
      return await quota.reserve(request);
    } catch (err) {
      if (err instanceof AppError) return err.code;
      throw err;
    }
  }

  it('lets through no more than what was left of the budget, though the allowance is larger', async () => {
    await awayFromMidnight(30_000);
    // 0.7 of the 1-credit budget spent while Redis answers: 0.3 left.
    const spent = await quota.reserve(paid(700_000));
    await quota.settle(spent, 700_000);

    proxy.cut();
    const first = await outcome(paid(200_000));
    expect(typeof first).toBe('object');
    // 0.2 + 0.2 would exceed the 0.3 left, though well within the 5-credit allowance.
    expect(await outcome(paid(200_000))).toBe('service_unavailable');
    expect(await outcome(paid(100_000))).not.toBe('service_unavailable');
    expect(await outcome(paid(1))).toBe('service_unavailable');
    proxy.restore();
  });
});
