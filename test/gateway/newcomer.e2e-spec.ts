import { startApp, type TestApp } from '../support/app';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { createApiKey, createProject, signInAdmin } from '../support/fixtures';
import { Api, type ApiResponse } from '../support/http';
import { Gateway, NO_RETRY, startGateway, waitForLedger } from './gateway-support';

const chat = (model: string): Record<string, unknown> => ({
  model,
  messages: [{ role: 'user', content: 'hello' }],
  max_tokens: 10,
});

/** Polls until `check` holds. */
async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('a newcomer with no provider configured', () => {
  let t: TestApp;
  let api: Api;
  let apiKey: string;

  beforeAll(async () => {
    t = await startApp();
    api = new Api(t.url);
    const adminToken = await signInAdmin(api);
    const projectId = (await createProject(api, adminToken, 'newcomer')).id;
    apiKey = (await createApiKey(api, adminToken, projectId, 'newcomer')).key;
  });

  afterAll(async () => {
    await t?.close();
  });

  it('is told at startup that the LLM routes need PROVIDERS_FILE', () => {
    expect(t.logs.lines.join('\n')).toContain('No provider instance: the LLM routes answer 503 no_providers');
  });

  it.each([
    ['/v1/chat/completions', chat('gpt-4o-mini')],
    ['/v1/chat/completions', { ...chat('gpt-4o-mini'), stream: true }],
    ['/v1/messages', { model: 'claude-3-haiku', max_tokens: 10, messages: [{ role: 'user', content: 'hello' }] }],
    ['/v1/embeddings', { model: 'text-embedding-3-small', input: 'hello' }],
    ['/api/v1/request', { prompt: 'hello', strategy: 'cost_optimized', max_tokens: 5 }],
    ['/api/v1/text/generate', { prompt: 'hello', max_tokens: 5 }],
    ['/chat', { message: 'hello' }],
  ])('POST %s answers 503 no_providers naming PROVIDERS_FILE and the README section', async (path, body) => {
    const res: ApiResponse = await api.post(path, body, { apiKey });
    expect(res.status).toBe(503);
    // The envelope differs by route (each API's own error shape); the hint does not. Anthropic's shape
    // has no code: its type says overloaded (503), as Anthropic's own does.
    expect(res.text).toContain(path === '/v1/messages' ? '"type":"overloaded_error"' : '"no_providers"');
    expect(res.text).toContain('PROVIDERS_FILE');
    expect(res.text).toContain('README, section \\"LLM gateway\\"');
  });

  it('prices catalog models with POST /api/v1/estimate', async () => {
    const pinned = await api.post(
      '/api/v1/estimate',
      { model: 'gpt-4', input_tokens: 1500, output_tokens: 500, strategy: 'cost_optimized', modality: 'chat' },
      { apiKey },
    );
    expect(pinned.status).toBe(200);
    expect(pinned.body).toMatchObject({ primary_model: 'gpt-4', estimated_credits: 7.5, estimated_usd: 0.075 });
    const auto = await api.post<{ primary_model: string; fallback_chain: unknown[] }>(
      '/api/v1/estimate',
      { prompt: 'Summarise the plan.', output_tokens: 200, strategy: 'quality_optimized' },
      { apiKey },
    );
    expect(auto.status).toBe(200);
    expect(auto.body.primary_model).toBe('claude-3-opus-20240229');
    expect(auto.body.fallback_chain.length).toBeGreaterThan(0);
    expect(
      (
        await api.post(
          '/api/v1/estimate',
          { model: 'nope', input_tokens: 1, output_tokens: 1, strategy: 'cost_optimized' },
          { apiKey },
        )
      ).status,
    ).toBe(404);
  });
});

describe('self-hosted instances', () => {
  let ollamaFake: FakeUpstream;
  let vllmFake: FakeUpstream;
  let gw: Gateway;

  beforeAll(async () => {
    ollamaFake = await startFakeUpstream('ollama', { models: ['qwen2.5:7b'], reply: { text: 'from ollama' } });
    vllmFake = await startFakeUpstream('openai', { models: ['my-finetune'], reply: { text: 'from vllm' } });
    gw = await startGateway({
      providers: [
        { id: 'ollama', kind: 'ollama', base_url: ollamaFake.baseUrl, retry: NO_RETRY },
        {
          id: 'vllm',
          kind: 'openai',
          base_url: vllmFake.baseUrl,
          models: ['my-finetune'],
          self_hosted: true,
          retry: NO_RETRY,
        },
      ],
    });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([ollamaFake?.close(), vllmFake?.close()]);
  });

  it('logs each instance with its host and models', () => {
    const text = gw.t.logs.lines.join('\n');
    expect(text).toContain(`Provider vllm: openai at ${new URL(vllmFake.baseUrl).host}, models: my-finetune`);
    expect(text).toContain(`Provider ollama: ollama at ${new URL(ollamaFake.baseUrl).host}, models: what /api/tags`);
  });

  it('serves what an ollama instance without models reports, and unpriced self-hosted models, at no cost', async () => {
    await eventually(async () => {
      const listed = await gw.api.get<{ data: { id: string }[] }>('/v1/models', { apiKey: gw.apiKey });
      return listed.body.data.some((m) => m.id === 'qwen2.5:7b');
    });
    for (const [model, provider, text] of [
      ['qwen2.5:7b', 'ollama', 'from ollama'],
      ['my-finetune', 'vllm', 'from vllm'],
    ]) {
      const res = await gw.api.post<{ choices: { message: { content: string } }[] }>(
        '/v1/chat/completions',
        chat(model),
        {
          apiKey: gw.apiKey,
        },
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('x-conflux-provider')).toBe(provider);
      expect(res.body.choices[0].message.content).toBe(text);
    }
    const rows = await waitForLedger(gw.t.db.url, (r) => r.length >= 2, `project_id = $1`, [gw.projectId]);
    expect(rows.map((r) => [r.model, r.status, r.micro_credits])).toEqual([
      ['qwen2.5:7b', 'success', '0'],
      ['my-finetune', 'success', '0'],
    ]);
  });
});
