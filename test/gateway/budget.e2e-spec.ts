import { countChatTokens } from '../../src/metering/tokenizer';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { uniqueRedisPrefix } from '../support/services';
import { Gateway, ledgerRows, NO_RETRY, startGateway, waitForLedger } from './gateway-support';

const MESSAGES = [{ role: 'user' as const, content: 'Give me one short sentence about budgets.' }];
const MAX_TOKENS = 16;
const REQUESTS = 200;
const AFFORDABLE = 50;

describe('a project budget under 200 concurrent requests over two instances', () => {
  let upstream: FakeUpstream;
  let first: Gateway;
  let second: Gateway;
  /** The exact cost of one request: the upstream reports exactly what was reserved. */
  let cost: number;

  beforeAll(async () => {
    const inputTokens = countChatTokens(MESSAGES, 'gpt-4o-mini');
    // gpt-4o-mini: 0.15 / 0.60 USD per 1M tokens × 100 credits per USD = 15 / 60 micro-credits per token.
    cost = inputTokens * 15 + MAX_TOKENS * 60;
    upstream = await startFakeUpstream('openai', {
      models: ['gpt-4o-mini'],
      reply: { text: 'Budgets hold.', usage: { input_tokens: inputTokens, output_tokens: MAX_TOKENS } },
    });
    const providers = [
      { id: 'openai', kind: 'openai' as const, base_url: upstream.baseUrl, models: ['gpt-4o-mini'], retry: NO_RETRY },
    ];
    // Redis is healthy here: on a loaded machine a quota call may take longer than the 75 ms default,
    // which would turn the decision into the outage fallback that this test is not about.
    const env = { REDIS_KEY_PREFIX: uniqueRedisPrefix(), QUOTA_REDIS_TIMEOUT_MS: '2000' };
    first = await startGateway({ providers, env });
    second = await startGateway({
      providers,
      env,
      db: first.t.db,
      project: { id: first.projectId, key: first.apiKey },
    });
    // Enough for 50 requests and half of another one.
    const budgetMicro = AFFORDABLE * cost + Math.floor(cost / 2);
    const put = await first.api.request('PUT', `/projects/${first.projectId}/quota`, {
      token: first.adminToken,
      body: { daily_credits: budgetMicro / 1e6 },
    });
    expect(put.status).toBe(200);
  });

  afterAll(async () => {
    await second?.close();
    await first?.close();
    await upstream?.close();
  });

  it('settles exactly the affordable requests, refuses the rest with 402, and the ledger equals the settled total', async () => {
    const results = await Promise.all(
      Array.from({ length: REQUESTS }, (_, i) =>
        (i % 2 === 0 ? first : second).api.post(
          '/v1/chat/completions',
          { model: 'gpt-4o-mini', messages: MESSAGES, max_tokens: MAX_TOKENS },
          { apiKey: first.apiKey },
        ),
      ),
    );
    const served = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    // Each request holds exactly its cost: no request is refused while budget for it remains.
    expect(served).toHaveLength(AFFORDABLE);
    expect(new Set(refused.map((r) => `${r.status} ${String((r.body.error as { code?: unknown }).code)}`))).toEqual(
      new Set(['402 budget_exceeded']),
    );
    expect(upstream.requestsTo('/chat/completions')).toHaveLength(AFFORDABLE);

    const quota = await first.api.get<{ daily: { spent: number; reserved: number; limit: number } }>(
      `/projects/${first.projectId}/quota`,
      { apiKey: first.apiKey },
    );
    expect(quota.body.daily.reserved).toBe(0);
    expect(Math.round(quota.body.daily.spent * 1e6)).toBe(AFFORDABLE * cost);
    expect(quota.body.daily.spent).toBeLessThanOrEqual(quota.body.daily.limit);

    const rows = await waitForLedger(first.t.db.url, (r) => r.length === AFFORDABLE, "status = 'success'");
    expect(rows).toHaveLength(AFFORDABLE);
    const ledgerMicro = rows.reduce((sum, r) => sum + Number(r.micro_credits), 0);
    expect(ledgerMicro).toBe(AFFORDABLE * cost);
    const servedIds = new Set(served.map((r) => r.headers.get('x-request-id')));
    expect(new Set(rows.map((r) => r.request_id))).toEqual(servedIds);
    // The refusals are in the ledger too, as attempt 0 with no cost.
    const refusals = await waitForLedger(
      first.t.db.url,
      (r) => r.length === REQUESTS - AFFORDABLE,
      "error_class = 'budget_exceeded'",
    );
    expect(refusals.every((r) => r.attempt === 0 && r.micro_credits === '0')).toBe(true);
    expect((await ledgerRows(first.t.db.url)).length).toBe(REQUESTS);
  });
});
