import { FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { OPENAI_ERROR_401 } from '../providers/fixtures/recorded';
import { Gateway, NO_RETRY, quotaOf, startGateway, waitForLedger } from './gateway-support';

/** The key the gateway holds for the refusing instances: never to be seen by a client, a log or a metric. */
const WRONG_KEY = 'sk-wrongkey-4f8a2c9e1b7d3a6f0e5c';

/** OpenAI's 403 for a project without access to a model (as the API sends it). */
const OPENAI_ERROR_403 = {
  error: {
    message: 'Project `proj_abc123` does not have access to model `gpt-4o-mini`',
    type: 'invalid_request_error',
    param: null,
    code: 'model_not_found',
  },
};
const ANTHROPIC_ERROR_401 = { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } };
const ANTHROPIC_ERROR_403 = {
  type: 'error',
  error: { type: 'permission_error', message: 'Your API key does not have permission to use the specified resource.' },
};

/** A breaker that never opens within these tests: each request reaches the refusing upstream. */
const PATIENT_BREAKER = {
  error_threshold_percentage: 50,
  reset_timeout_ms: 500,
  volume_threshold: 1000,
  rolling_window_ms: 10_000,
};

/**
 * An upstream refusing our own credentials (401/403) is the gateway's fault: 502 upstream_auth_failed in
 * the client's dialect, never 400; another instance serves when routing has one; the ledger says
 * auth_failed; the instance is named in a metric and a warning, the key nowhere.
 */
describe('an upstream refusing the gateway credentials', () => {
  let badOpenai: FakeUpstream;
  let badAnthropic: FakeUpstream;
  let good: FakeUpstream;
  let gw: Gateway;

  beforeAll(async () => {
    badOpenai = await startFakeUpstream('openai', { models: ['llama-3.1-8b'] });
    badAnthropic = await startFakeUpstream('anthropic', { models: ['claude-3-haiku-20240307'] });
    good = await startFakeUpstream('openai', { models: ['gpt-4o-mini'], reply: { text: 'from the good one' } });
    gw = await startGateway({
      providers: [
        {
          id: 'refusing-openai',
          kind: 'openai',
          base_url: badOpenai.baseUrl,
          models: ['llama-3.1-8b'],
          api_key_env: 'REFUSED_KEY',
          breaker: PATIENT_BREAKER,
          retry: NO_RETRY,
        },
        {
          id: 'refusing-anthropic',
          kind: 'anthropic',
          base_url: badAnthropic.baseUrl,
          models: ['claude-3-haiku-20240307'],
          api_key_env: 'REFUSED_KEY',
          breaker: PATIENT_BREAKER,
          retry: NO_RETRY,
        },
        { id: 'good-openai', kind: 'openai', base_url: good.baseUrl, models: ['gpt-4o-mini'], retry: NO_RETRY },
      ],
      models: [{ name: 'llama-3.1-8b', input_usd_per_1m: 0.01, output_usd_per_1m: 0.02 }],
      env: { REFUSED_KEY: WRONG_KEY },
    });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([badOpenai?.close(), badAnthropic?.close(), good?.close()]);
  });

  beforeEach(() => {
    for (const fake of [badOpenai, badAnthropic, good]) fake.reset();
    good.reply.text = 'from the good one';
  });

  async function post(path: string, body: object, headers: Record<string, string> = {}) {
    const res = await fetch(`${gw.t.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': gw.apiKey, ...headers },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, text, body: JSON.parse(text) as Record<string, unknown>, headers: res.headers };
  }

  async function reserved(): Promise<number> {
    return (await quotaOf(gw)).reserved;
  }

  async function expectLedgerAuthFailed(requestId: string | null, provider: string): Promise<void> {
    const rows = await waitForLedger(gw.t.db.url, (r) => r.length === 1, 'request_id = $1', [requestId]);
    expect(rows.map((r) => [r.attempt, r.provider, r.status, r.error_class])).toEqual([
      [1, provider, 'error', 'auth_failed'],
    ]);
  }

  it.each([
    ['401', 401, OPENAI_ERROR_401],
    ['403', 403, OPENAI_ERROR_403],
  ])('OpenAI upstream %s → 502 upstream_auth_failed in the OpenAI shape', async (_name, status, upstreamBody) => {
    badOpenai.status(status, upstreamBody);
    const res = await post('/v1/chat/completions', {
      model: 'llama-3.1-8b',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 5,
    });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({
      error: { type: 'server_error', code: 'upstream_auth_failed', message: expect.stringMatching(/credentials/) },
      details: { attempts: [{ provider: 'refusing-openai', model: 'llama-3.1-8b', error_class: 'auth_failed' }] },
    });
    // Our key was sent, and is nowhere in the answer.
    expect(badOpenai.requestsTo('/chat/completions')[0].headers.authorization).toBe(`Bearer ${WRONG_KEY}`);
    expect(res.text).not.toContain(WRONG_KEY);
    expect(res.text).not.toContain('wrongkey');
    await expectLedgerAuthFailed(res.headers.get('x-request-id'), 'refusing-openai');
    expect(await reserved()).toBe(0);
  });

  it.each([
    ['401', 401, ANTHROPIC_ERROR_401],
    ['403', 403, ANTHROPIC_ERROR_403],
  ])('Anthropic upstream %s → 502 api_error in the Anthropic shape', async (_name, status, upstreamBody) => {
    badAnthropic.status(status, upstreamBody);
    const res = await post('/v1/messages', {
      model: 'claude-3-haiku-20240307',
      max_tokens: 5,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({
      type: 'error',
      error: { type: 'api_error', message: expect.stringMatching(/credentials/) },
      details: { attempts: [{ provider: 'refusing-anthropic', error_class: 'auth_failed' }] },
    });
    expect(badAnthropic.requestsTo('/messages')[0].headers['x-api-key']).toBe(WRONG_KEY);
    expect(res.text).not.toContain(WRONG_KEY);
    await expectLedgerAuthFailed(res.headers.get('x-request-id'), 'refusing-anthropic');
    expect(await reserved()).toBe(0);
  });

  it('a stream request refused before its first event is a 502 too (no stream is opened)', async () => {
    badOpenai.status(401, OPENAI_ERROR_401);
    const res = await post('/v1/chat/completions', {
      model: 'llama-3.1-8b',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ error: { code: 'upstream_auth_failed' } });
    expect(await reserved()).toBe(0);
  });

  it('falls back to another instance when routing has one; both attempts are in the ledger', async () => {
    badOpenai.status(401, OPENAI_ERROR_401);
    const res = await post(
      '/v1/chat/completions',
      { model: 'auto', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 },
      { 'x-conflux-strategy': 'cost_optimized' },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-conflux-provider')).toBe('good-openai');
    expect(res.headers.get('x-conflux-attempts')).toBe('2');
    expect(res.body).toMatchObject({ choices: [{ message: { content: 'from the good one' } }] });
    expect(badOpenai.requestsTo('/chat/completions')).toHaveLength(1);
    const rows = await waitForLedger(gw.t.db.url, (r) => r.length === 2, 'request_id = $1', [
      res.headers.get('x-request-id'),
    ]);
    expect(rows.map((r) => [r.attempt, r.provider, r.status, r.error_class])).toEqual([
      [1, 'refusing-openai', 'error', 'auth_failed'],
      [2, 'good-openai', 'success', null],
    ]);
  });

  it('names the instance in a metric and a warning, never the key', async () => {
    badOpenai.status(403, OPENAI_ERROR_403);
    await post('/v1/chat/completions', { model: 'llama-3.1-8b', messages: [{ role: 'user', content: 'hi' }] });
    const metrics = await (await fetch(`${gw.t.url}/metrics`)).text();
    expect(metrics).toMatch(/conflux_upstream_auth_failures_total\{provider="refusing-openai"\} [1-9]/);
    expect(metrics).toMatch(/conflux_upstream_auth_failures_total\{provider="refusing-anthropic"\} [1-9]/);
    expect(metrics).not.toContain(WRONG_KEY);
    const logs = gw.t.logs.text;
    expect(logs).toMatch(/Provider refusing-openai refused the gateway's credentials/);
    expect(logs).not.toContain(WRONG_KEY);
  });
});
