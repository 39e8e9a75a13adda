import { countChatTokens } from '../../src/metering/tokenizer';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { createApiKey, createProject } from '../support/fixtures';
import type { ApiResponse } from '../support/http';
import { delay, RedisServer, startRedisServer, uniqueRedisPrefix } from '../support/services';
import { proxiedUrl, TcpProxy } from '../support/tcp-proxy';
import { Gateway, ledgerRows, NO_RETRY, startGateway, waitForLedger } from '../gateway/gateway-support';
import { QuotaStatusBody } from './helpers';

/**
 * Redis restarted empty (no persistence) under a running deployment: no answered request
 * loses its ledger row, and budgets go on from what the ledger says was spent.
 */
const MESSAGES = [{ role: 'user' as const, content: 'One sentence about budgets, please.' }];
const MAX_TOKENS = 8000;
/** Daily budget of the scenario, in credits. */
const BUDGET = 3.2;

describe('Redis restarted empty', () => {
  let upstream: FakeUpstream;
  let redis: RedisServer;
  let proxy: TcpProxy;
  let first: Gateway;
  let second: Gateway;
  /** The exact cost of one request in micro-credits: the upstream reports exactly what was reserved. */
  let cost: number;

  beforeAll(async () => {
    const inputTokens = countChatTokens(MESSAGES, 'gpt-4o-mini');
    // gpt-4o-mini: 15 / 60 micro-credits per input / output token.
    cost = inputTokens * 15 + MAX_TOKENS * 60;
    upstream = await startFakeUpstream('openai', {
      models: ['gpt-4o-mini'],
      reply: { text: 'Budgets hold.', usage: { input_tokens: inputTokens, output_tokens: MAX_TOKENS } },
    });
    redis = await startRedisServer();
    const providers = [
      { id: 'openai', kind: 'openai' as const, base_url: upstream.baseUrl, models: ['gpt-4o-mini'], retry: NO_RETRY },
    ];
    const env = {
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: uniqueRedisPrefix(),
      // A healthy but loaded machine: decisions stay with Redis.
      QUOTA_REDIS_TIMEOUT_MS: '2000',
      API_KEY_CACHE_TTL_SECONDS: '600',
      DATABASE_CONNECT_TIMEOUT_MS: '500',
    };
    first = await startGateway({ providers, env });
    proxy = await TcpProxy.forUrl(first.t.db.url);
    second = await startGateway({
      providers,
      env,
      db: first.t.db,
      databaseUrl: proxiedUrl(first.t.db.url, proxy),
      project: { id: first.projectId, key: first.apiKey },
    });
  });

  afterAll(async () => {
    proxy?.restore();
    await second?.close();
    await first?.close();
    await proxy?.close();
    await redis?.stop();
    await upstream?.close();
  });

  async function restartRedisEmpty(): Promise<void> {
    await redis.stop();
    await redis.start();
  }

  function chat(gw: Gateway, apiKey: string): Promise<ApiResponse<Record<string, unknown>>> {
    return gw.api.post(
      '/v1/chat/completions',
      { model: 'gpt-4o-mini', messages: MESSAGES, max_tokens: MAX_TOKENS },
      { apiKey },
    );
  }

  /** One request, sent again while the answer is a 503 (Redis reconnecting, counters being rebuilt). */
  async function chatPatiently(gw: Gateway, apiKey: string): Promise<ApiResponse<Record<string, unknown>>> {
    for (let i = 0; ; i++) {
      const res = await chat(gw, apiKey);
      if (res.status !== 503 || i >= 40) return res;
      await delay(250);
    }
  }

  async function quotaPatiently(gw: Gateway, projectId: string): Promise<ApiResponse<QuotaStatusBody>> {
    for (let i = 0; ; i++) {
      const res = await gw.api.get<QuotaStatusBody>(`/projects/${projectId}/quota`, { token: gw.adminToken });
      if (res.status !== 503 || i >= 40) return res;
      await delay(250);
    }
  }

  it('keeps the ledger row of every answered request, those only in the stream at the loss included', async () => {
    // A project without budget, served by the instance whose Postgres is about to be cut.
    const project = await createProject(second.api, second.adminToken, 'ledger-loss');
    const { key } = await createApiKey(second.api, second.adminToken, project.id, 'ledger-loss');
    const served: string[] = [];
    const serve = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        const res = await chatPatiently(second, key);
        expect(res.status).toBe(200);
        served.push(res.headers.get('x-request-id') ?? '');
      }
    };
    await serve(3);
    await waitForLedger(first.t.db.url, (rows) => rows.length === 3, 'project_id = $1', [project.id]);

    // Postgres unreachable for this instance: its rows wait in the Redis stream…
    proxy.cut();
    await serve(6);
    // …which Redis then loses. (A restarted Redis may have missed key revocations: keys are
    // verified again, so Postgres comes back before the next requests.)
    await restartRedisEmpty();
    proxy.restore();
    await serve(3);

    const rows = await waitForLedger(
      first.t.db.url,
      (r) => r.length >= served.length,
      "project_id = $1 AND status = 'success'",
      [project.id],
      30_000,
    );
    expect(rows.map((r) => r.request_id).sort()).toEqual([...served].sort());
    // Nothing written twice, even what was appended again.
    await delay(1000);
    expect(await ledgerRows(first.t.db.url, "project_id = $1 AND status = 'success'", [project.id])).toHaveLength(
      served.length,
    );
  }, 90_000);

  it('serves no more than the budget across the restart, and the balance keeps what was spent before it', async () => {
    const put = await first.api.request('PUT', `/projects/${first.projectId}/quota`, {
      token: first.adminToken,
      body: { daily_credits: BUDGET },
    });
    expect(put.status).toBe(200);
    const affordable = Math.floor((BUDGET * 1e6) / cost);
    expect(affordable).toBeGreaterThanOrEqual(5);

    const before = 4;
    for (let i = 0; i < before; i++) expect((await chatPatiently(first, first.apiKey)).status).toBe(200);
    await waitForLedger(first.t.db.url, (rows) => rows.length === before, 'project_id = $1', [first.projectId]);
    const spentBefore = await quotaPatiently(first, first.projectId);
    expect(Math.round(spentBefore.body.daily.spent * 1e6)).toBe(before * cost);

    const marks = [first.t.logs.lines.length, second.t.logs.lines.length];
    await restartRedisEmpty();

    // The balance is rebuilt from the ledger, not shown from zero (asked of the other instance).
    const after = await quotaPatiently(second, first.projectId);
    expect(after.status).toBe(200);
    expect(Math.round(after.body.daily.spent * 1e6)).toBe(before * cost);
    expect(after.body.daily.reserved).toBe(0);

    // Both instances serve the rest of the budget, and no more.
    const outcomes: number[] = [];
    for (let i = 0; i < 10; i++)
      outcomes.push((await chatPatiently(i % 2 === 0 ? first : second, first.apiKey)).status);
    expect(outcomes.filter((s) => s === 200)).toHaveLength(affordable - before);
    expect(outcomes.filter((s) => s !== 200).every((s) => s === 402)).toBe(true);

    const final = await quotaPatiently(first, first.projectId);
    expect(Math.round(final.body.daily.spent * 1e6)).toBe(affordable * cost);
    expect(final.body.daily.spent).toBeLessThanOrEqual(BUDGET);
    const rows = await waitForLedger(
      first.t.db.url,
      (r) => r.length === affordable,
      "project_id = $1 AND status = 'success'",
      [first.projectId],
    );
    expect(rows.reduce((sum, r) => sum + Number(r.micro_credits), 0)).toBe(affordable * cost);
    // One instance rebuilt the counters; the other waited for them.
    const rebuilt = [...first.t.logs.lines.slice(marks[0]), ...second.t.logs.lines.slice(marks[1])].filter((line) =>
      line.includes(`Quota counters of project ${first.projectId} rebuilt`),
    );
    expect(rebuilt).toHaveLength(1);
  }, 90_000);
});
