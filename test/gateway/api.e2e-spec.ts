import { FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { expectOpenAiError } from '../support/http';
import { Gateway, NO_RETRY, startGateway, waitForLedger } from './gateway-support';

const chatBody = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'hello' }],
  max_tokens: 10,
  ...extra,
});

describe('gateway API contracts', () => {
  let openaiFake: FakeUpstream;
  let localFake: FakeUpstream;
  let gw: Gateway;
  const key = (): { apiKey: string } => ({ apiKey: gw.apiKey });

  beforeAll(async () => {
    openaiFake = await startFakeUpstream('openai', {
      models: ['gpt-4o-mini', 'gpt-4', 'gpt-4o'],
      reply: { text: 'hosted answer' },
    });
    localFake = await startFakeUpstream('ollama', { models: ['llama3.1:8b'], reply: { text: 'local answer' } });
    gw = await startGateway({
      providers: [
        {
          id: 'openai',
          kind: 'openai',
          base_url: openaiFake.baseUrl,
          models: ['gpt-4o-mini', 'gpt-4', 'gpt-4o'],
          retry: NO_RETRY,
        },
        { id: 'ollama', kind: 'ollama', base_url: localFake.baseUrl, models: ['llama3.1:8b'], retry: NO_RETRY },
      ],
      env: { LEGACY_PROMPT_MAX_CHARS: '100' },
    });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([openaiFake?.close(), localFake?.close()]);
  });

  beforeEach(() => {
    openaiFake.reset();
    localFake.reset();
    openaiFake.reply.text = 'hosted answer';
    localFake.reply.text = 'local answer';
  });

  describe('estimate', () => {
    it('matches the catalog arithmetic: GPT-4, 1500 in + 500 out = $0.075 = 7.5 credits', async () => {
      const res = await gw.api.post(
        '/api/v1/estimate',
        { model: 'gpt-4', input_tokens: 1500, output_tokens: 500, strategy: 'cost_optimized', modality: 'chat' },
        key(),
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        primary_model: 'gpt-4',
        estimated_credits: 7.5,
        estimated_usd: 0.075,
        input_tokens: 1500,
      });
      expect(openaiFake.requests).toHaveLength(0);
    });

    it('gives a primary and a fallback chain per strategy', async () => {
      const ask = async (strategy: string): Promise<{ primary_model: string; fallback_chain: { model: string }[] }> =>
        (
          await gw.api.post<{ primary_model: string; fallback_chain: { model: string }[] }>(
            '/api/v1/estimate',
            { prompt: 'Summarise the plan.', output_tokens: 200, strategy },
            key(),
          )
        ).body;
      expect((await ask('cost_optimized')).primary_model).toBe('llama-3.1-8b');
      expect((await ask('quality_optimized')).primary_model).toBe('gpt-4o');
      const balanced = await ask('balanced');
      expect(balanced.fallback_chain.length).toBeGreaterThan(0);
      expect(balanced.fallback_chain.map((c) => c.model)).not.toContain(balanced.primary_model);
    });
  });

  describe('strategies on real calls', () => {
    it.each([
      ['cost_optimized', 'ollama', 'local answer'],
      ['quality_optimized', 'openai', 'hosted answer'],
    ])('%s routes auto to %s', async (strategy, provider, text) => {
      const res = await gw.api.post<{ choices: { message: { content: string } }[] }>(
        '/v1/chat/completions',
        chatBody({ model: 'auto' }),
        { ...key(), headers: { 'x-conflux-strategy': strategy } },
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('x-conflux-provider')).toBe(provider);
      expect(res.body.choices[0].message.content).toBe(text);
    });
  });

  describe('idempotency', () => {
    it('replays the stored response for the same key and body, with a single upstream call', async () => {
      const headers = { 'idempotency-key': `replay-${Date.now()}` };
      const first = await gw.api.post('/v1/chat/completions', chatBody(), { ...key(), headers });
      const second = await gw.api.post('/v1/chat/completions', chatBody(), { ...key(), headers });
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      expect(second.body).toEqual(first.body);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(second.headers.get('x-conflux-provider')).toBe('openai');
      expect(openaiFake.requestsTo('/chat/completions')).toHaveLength(1);
    });

    it('answers 422 for the same key with another body', async () => {
      const headers = { 'idempotency-key': `mismatch-${Date.now()}` };
      expect((await gw.api.post('/v1/chat/completions', chatBody(), { ...key(), headers })).status).toBe(200);
      const other = await gw.api.post('/v1/chat/completions', chatBody({ max_tokens: 11 }), { ...key(), headers });
      expectOpenAiError(other, 422, 'unprocessable_entity');
      expect(openaiFake.requestsTo('/chat/completions')).toHaveLength(1);
    });

    it('lets a concurrent duplicate through to no second upstream call (409)', async () => {
      openaiFake.delay(300);
      const headers = { 'idempotency-key': `concurrent-${Date.now()}` };
      const [a, b] = await Promise.all([
        gw.api.post('/v1/chat/completions', chatBody(), { ...key(), headers }),
        new Promise((r) => setTimeout(r, 50)).then(() =>
          gw.api.post('/v1/chat/completions', chatBody(), { ...key(), headers }),
        ),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      expect(openaiFake.requestsTo('/chat/completions')).toHaveLength(1);
      // Once the first has finished, the duplicate replays.
      const later = await gw.api.post('/v1/chat/completions', chatBody(), { ...key(), headers });
      expect(later.status).toBe(200);
      expect(later.headers.get('idempotent-replayed')).toBe('true');
    });
  });

  describe('bad input: a 4xx error, no upstream call, no quota consumed', () => {
    const cases: [string, Record<string, unknown>, number, string][] = [
      ['unknown model', chatBody({ model: 'no-such-model' }), 404, 'model_not_found'],
      ['empty messages', chatBody({ messages: [] }), 400, 'validation_failed'],
      ['negative max_tokens', chatBody({ max_tokens: -5 }), 400, 'validation_failed'],
      ['wrong types', chatBody({ messages: 'hello', temperature: 'hot' }), 400, 'validation_failed'],
      ['unknown role', chatBody({ messages: [{ role: 'robot', content: 'x' }] }), 400, 'validation_failed'],
      [
        'oversize prompt for the context window',
        chatBody({ model: 'gpt-4', messages: [{ role: 'user', content: 'word '.repeat(9000) }] }),
        400,
        'validation_failed',
      ],
      ['unknown strategy', chatBody({ model: 'auto', conflux_strategy: 'cheapest' }), 400, 'validation_failed'],
    ];

    it.each(cases)('%s', async (_name, body, status, error) => {
      const res = await gw.api.post('/v1/chat/completions', body, key());
      expectOpenAiError(res, status, error);
      expect(openaiFake.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
      expect(localFake.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
      const quota = await gw.api.get<{ daily: { spent: number; reserved: number } }>(
        `/projects/${gw.projectId}/quota`,
        key(),
      );
      expect(quota.body.daily.reserved).toBe(0);
    });

    it('a body over the size limit is 413', async () => {
      const res = await gw.api.post(
        '/v1/chat/completions',
        chatBody({ messages: [{ role: 'user', content: 'x'.repeat(11 * 1024 * 1024) }] }),
        key(),
      );
      expectOpenAiError(res, 413, 'payload_too_large');
    });

    it('a signed-in user must name a project they belong to', async () => {
      const missing = await gw.api.post('/v1/chat/completions', chatBody(), { token: gw.adminToken });
      expectOpenAiError(missing, 400, 'validation_failed');
      const ok = await gw.api.post('/v1/chat/completions', chatBody(), {
        token: gw.adminToken,
        headers: { 'x-conflux-project': gw.projectId },
      });
      expect(ok.status).toBe(200);
    });
  });

  describe('legacy contracts', () => {
    it('POST /api/v1/request → text, model, tokens, credits', async () => {
      const res = await gw.api.post(
        '/api/v1/request',
        { prompt: 'hi', strategy: 'quality_optimized', max_tokens: 5 },
        key(),
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        text: 'hosted answer',
        model: 'gpt-4o',
        tokens: { input: 12, output: 6, total: 18 },
      });
      expect(typeof res.body.credits).toBe('number');
    });

    it('POST /api/v1/text/generate keeps its shape and its prompt limit', async () => {
      const res = await gw.api.post('/api/v1/text/generate', { prompt: 'hello', max_tokens: 5 }, key());
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        success: true,
        data: { text: expect.any(String), generated_tokens: 6, input_tokens: 12 },
        metrics: {
          generation_time: expect.any(Number),
          total_time: expect.any(Number),
          tokens_per_second: expect.any(Number),
        },
        request_id: res.headers.get('x-request-id'),
      });
      const tooLong = await gw.api.post('/api/v1/text/generate', { prompt: 'x'.repeat(101) }, key());
      expect({ status: tooLong.status, body: tooLong.body }).toEqual({
        status: 400,
        body: {
          error: 'validation_error',
          message: 'Prompt too long. Maximum length: 100 characters',
          request_id: tooLong.headers.get('x-request-id'),
        },
      });
    });

    it('POST /chat keeps its shape', async () => {
      const res = await gw.api.post(
        '/chat',
        {
          message: 'and now?',
          model: 'gpt-4o-mini',
          history: [
            { role: 'user', content: 'before' },
            { role: 'assistant', content: 'ok' },
          ],
        },
        key(),
      );
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        status: 'success',
        response: 'hosted answer',
        model: 'gpt-4o-mini',
        prompt_tokens: 12,
        response_tokens: 6,
        total_tokens: 18,
        timestamp: expect.any(String),
      });
      const sent = openaiFake.requestsTo('/chat/completions')[0].body as { messages: unknown[] };
      expect(sent.messages).toHaveLength(3);
    });

    it('GET /models lists every (model, instance) with its status and the instances, GET /stats counts per provider', async () => {
      const models = await gw.api.get<{
        status: string;
        models: { name: string; provider: string; kind: string; available: boolean; parameters: string | null }[];
        total_count: number;
        providers: { id: string; status: string; models: string[] }[];
      }>('/models', key());
      expect(models.body.status).toBe('success');
      expect(models.body.models.map((m) => [m.name, m.provider, m.kind, m.available, m.parameters])).toEqual([
        ['gpt-4o-mini', 'openai', 'openai', true, null],
        ['gpt-4', 'openai', 'openai', true, null],
        ['gpt-4o', 'openai', 'openai', true, null],
        ['llama3.1:8b', 'ollama', 'ollama', true, '3.2B'],
      ]);
      expect(models.body.total_count).toBe(4);
      expect(models.body.providers.map((p) => [p.id, p.status])).toEqual([
        ['openai', 'available'],
        ['ollama', 'available'],
      ]);
      await gw.api.post('/v1/chat/completions', chatBody(), key());
      const stats = await gw.api.get<{
        total_requests: number;
        providers: Record<string, { total_requests: number; success_rate: number }>;
      }>('/stats', key());
      expect(stats.body.total_requests).toBeGreaterThan(0);
      expect(stats.body.providers.openai.success_rate).toBe(1);
    });
  });

  it('records a request refused before any upstream call as attempt 0', async () => {
    const res = await gw.api.post(
      '/v1/chat/completions',
      chatBody({ model: 'gpt-4', messages: [{ role: 'user', content: 'word '.repeat(9000) }] }),
      key(),
    );
    const rows = await waitForLedger(gw.t.db.url, (r) => r.length === 1, 'request_id = $1', [
      res.headers.get('x-request-id'),
    ]);
    expect(rows[0]).toMatchObject({
      attempt: 0,
      provider: null,
      status: 'error',
      error_class: 'validation_failed',
      micro_credits: '0',
    });
  });
});
