/**
 * The vLLM + Ollama service's contract (GET /models, POST /chat, GET /stats) served by Conflux: the
 * models' size, parameters and template come from the Ollama instances themselves (/api/tags,
 * /api/show), cached, and an Ollama that stops answering never fails the list.
 */
import { FakeOllamaModel, FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { Gateway, NO_RETRY, startGateway } from '../gateway/gateway-support';

interface LegacyModel {
  name: string;
  size: string | null;
  parameters: string | null;
  template: string | null;
  size_bytes: number | null;
  family: string | null;
  quantization_level: string | null;
  capabilities: string[] | null;
  context_length: number | null;
  modified_at: string | null;
  described_at: string | null;
  provider: string;
  kind: string;
  available: boolean;
}

interface LegacyModelList {
  status: string;
  models: LegacyModel[];
  total_count: number;
  timestamp: string;
  providers: { id: string; kind: string; status: string; models: string[] }[];
}

const GPT_OSS: FakeOllamaModel = {
  size: 13_780_173_839,
  family: 'gptoss',
  parameter_size: '20.9B',
  quantization_level: 'MXFP4',
  template:
    '<|start|>system<|message|>{{ .System }}<|end|>{{ range .Messages }}<|start|>{{ .Role }}<|message|>{{ .Content }}<|end|>{{ end }}<|start|>assistant',
  capabilities: ['completion', 'tools', 'thinking'],
  context_length: 131_072,
};

/** What `ollama show bge-m3` says: an embedding model, whose template is only the prompt. */
const BGE_M3: FakeOllamaModel = {
  size: 1_157_672_605,
  family: 'bert',
  parameter_size: '566.70M',
  quantization_level: 'F16',
  template: '{{ .Prompt }}',
  capabilities: ['embedding'],
  context_length: 8192,
};

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('vLLM + Ollama service contract', () => {
  let ollama: FakeUpstream;
  let discovering: FakeUpstream;
  let hosted: FakeUpstream;
  let gw: Gateway;
  const key = (): { apiKey: string } => ({ apiKey: gw.apiKey });
  const list = async (): Promise<LegacyModelList> => {
    const res = await gw.api.get<LegacyModelList>('/models', key());
    expect(res.status).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    ollama = await startFakeUpstream('ollama', {
      models: ['gpt-oss:20b', 'bge-m3'],
      ollamaModels: { 'gpt-oss:20b': GPT_OSS, 'bge-m3': BGE_M3 },
      reply: { text: 'Привет! Чем могу помочь?', usage: { input_tokens: 45, output_tokens: 128 } },
    });
    discovering = await startFakeUpstream('ollama', { models: ['llama3.2'] });
    hosted = await startFakeUpstream('openai', { models: ['gpt-4o-mini'] });
    gw = await startGateway({
      providers: [
        { id: 'local', kind: 'ollama', base_url: ollama.baseUrl, models: ['gpt-oss:20b', 'bge-m3'], retry: NO_RETRY },
        { id: 'tags', kind: 'ollama', base_url: discovering.baseUrl, retry: NO_RETRY },
        { id: 'hosted', kind: 'openai', base_url: hosted.baseUrl, models: ['gpt-4o-mini'], retry: NO_RETRY },
      ],
    });
    // The discovering instance serves what its first probe listed.
    await waitFor(async () => (await list()).models.some((m) => m.provider === 'tags'), 'the first probe');
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([ollama?.close(), discovering?.close(), hosted?.close()]);
  });

  describe('GET /models', () => {
    it("answers the service's shape, the details coming from Ollama's /api/tags and /api/show", async () => {
      const body = await list();
      expect(body).toEqual({
        status: 'success',
        models: [
          {
            name: 'gpt-oss:20b',
            size: '13GB',
            parameters: '20.9B',
            template: GPT_OSS.template,
            size_bytes: 13_780_173_839,
            family: 'gptoss',
            quantization_level: 'MXFP4',
            capabilities: ['completion', 'tools', 'thinking'],
            context_length: 131_072,
            modified_at: '2024-10-22T10:00:00.000000+00:00',
            described_at: expect.stringMatching(ISO),
            provider: 'local',
            kind: 'ollama',
            available: true,
          },
          {
            name: 'bge-m3',
            size: '1.2GB',
            parameters: '566.70M',
            template: 'embedding',
            size_bytes: 1_157_672_605,
            family: 'bert',
            quantization_level: 'F16',
            capabilities: ['embedding'],
            context_length: 8192,
            modified_at: '2024-10-22T10:00:00.000000+00:00',
            described_at: expect.stringMatching(ISO),
            provider: 'local',
            kind: 'ollama',
            available: true,
          },
          expect.objectContaining({
            name: 'llama3.2:latest',
            size: '2.0GB',
            parameters: '3.2B',
            template: expect.stringContaining('{{ .Content }}'),
            capabilities: ['completion', 'tools'],
            provider: 'tags',
            kind: 'ollama',
            available: true,
          }),
          {
            name: 'gpt-4o-mini',
            size: null,
            parameters: null,
            template: null,
            size_bytes: null,
            family: null,
            quantization_level: null,
            capabilities: null,
            context_length: null,
            modified_at: null,
            described_at: null,
            provider: 'hosted',
            kind: 'openai',
            available: true,
          },
        ],
        total_count: 4,
        timestamp: expect.stringMatching(ISO),
        providers: [
          expect.objectContaining({ id: 'local', kind: 'ollama', status: 'available' }),
          expect.objectContaining({ id: 'tags', kind: 'ollama', status: 'available' }),
          expect.objectContaining({ id: 'hosted', kind: 'openai', status: 'available', models: ['gpt-4o-mini'] }),
        ],
      });
      expect(ollama.requestsTo('/api/show').map((r) => r.body)).toEqual(
        expect.arrayContaining([{ model: 'gpt-oss:20b' }, { model: 'bge-m3:latest' }]),
      );
    });

    it('answers from its cache within MODELS_CACHE_TTL_MS: no new /api/tags or /api/show call', async () => {
      await list();
      const tags = ollama.requestsTo('/api/tags').length;
      const shows = ollama.requestsTo('/api/show').length;
      expect(shows).toBe(2);
      await Promise.all([list(), list(), list()]);
      expect(ollama.requestsTo('/api/tags').length).toBe(tags);
      expect(ollama.requestsTo('/api/show').length).toBe(shows);
    });

    it('needs authentication as before', async () => {
      expect((await gw.api.get('/models')).status).toBe(401);
      expect((await gw.api.get('/models', { token: gw.adminToken })).status).toBe(200);
    });
  });

  describe('POST /chat and GET /stats', () => {
    it('answers the documented example {"message": "Привет!", "model": "gpt-oss:20b"}', async () => {
      const res = await gw.api.post('/chat', { message: 'Привет!', model: 'gpt-oss:20b' }, key());
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        status: 'success',
        response: 'Привет! Чем могу помочь?',
        model: 'gpt-oss:20b',
        prompt_tokens: 45,
        response_tokens: 128,
        total_tokens: 173,
        timestamp: expect.stringMatching(ISO),
      });
      const sent = ollama.requestsTo('/api/chat').at(-1)?.body as { model: string; messages: unknown[] };
      expect(sent.model).toBe('gpt-oss:20b');
      expect(sent.messages).toEqual([{ role: 'user', content: 'Привет!' }]);
    });

    it('answers the documented example with history and max_tokens', async () => {
      const res = await gw.api.post(
        '/chat',
        {
          message: 'Расскажи о машинном обучении',
          model: 'gpt-oss:20b',
          history: [
            { role: 'user', content: 'Привет' },
            { role: 'assistant', content: 'Здравствуйте!' },
          ],
          max_tokens: 2048,
        },
        key(),
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ status: 'success', model: 'gpt-oss:20b', total_tokens: 173 });
      const sent = ollama.requestsTo('/api/chat').at(-1)?.body as {
        messages: unknown[];
        options?: { num_predict?: number };
      };
      expect(sent.messages).toEqual([
        { role: 'user', content: 'Привет' },
        { role: 'assistant', content: 'Здравствуйте!' },
        { role: 'user', content: 'Расскажи о машинном обучении' },
      ]);
      expect(sent.options?.num_predict).toBe(2048);
    });

    it('GET /stats counts the chats', async () => {
      const res = await gw.api.get<{
        total_requests: number;
        success_rate: number;
        providers: Record<string, { total_requests: number; total_tokens: number }>;
      }>('/stats', key());
      expect(res.status).toBe(200);
      expect(res.body.total_requests).toBeGreaterThanOrEqual(2);
      expect(res.body.providers.local).toMatchObject({ total_requests: 2, total_tokens: 346 });
    });
  });
});

describe('GET /models when an Ollama instance stops answering', () => {
  const TTL_MS = 300;
  const TIMEOUT_MS = 500;
  let ollama: FakeUpstream;
  let silent: FakeUpstream;
  let gw: Gateway;

  /** One /models call, with how long it took. */
  const timed = async (): Promise<{ body: LegacyModelList; ms: number }> => {
    const started = Date.now();
    const res = await gw.api.get<LegacyModelList>('/models', { apiKey: gw.apiKey });
    expect(res.status).toBe(200);
    return { body: res.body, ms: Date.now() - started };
  };
  const entry = (body: LegacyModelList, provider: string): LegacyModel | undefined =>
    body.models.find((m) => m.provider === provider);

  beforeAll(async () => {
    ollama = await startFakeUpstream('ollama', { models: ['gpt-oss:20b'], ollamaModels: { 'gpt-oss:20b': GPT_OSS } });
    silent = await startFakeUpstream('ollama', { models: ['llama3.1:8b'] });
    silent.hang();
    gw = await startGateway({
      providers: [
        { id: 'local', kind: 'ollama', base_url: ollama.baseUrl, models: ['gpt-oss:20b'], retry: NO_RETRY },
        { id: 'silent', kind: 'ollama', base_url: silent.baseUrl, models: ['llama3.1:8b'], timeout_ms: 5_000 },
      ],
      env: { MODELS_CACHE_TTL_MS: String(TTL_MS), MODELS_DETAILS_TIMEOUT_MS: String(TIMEOUT_MS) },
    });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([ollama?.close(), silent?.close()]);
  });

  it('answers 200 within MODELS_DETAILS_TIMEOUT_MS, with nulls for an instance never described', async () => {
    const { body, ms } = await timed();
    expect(ms).toBeLessThan(TIMEOUT_MS + 1_000);
    expect(entry(body, 'local')).toMatchObject({ name: 'gpt-oss:20b', size: '13GB', parameters: '20.9B' });
    expect(entry(body, 'silent')).toMatchObject({
      name: 'llama3.1:8b',
      size: null,
      parameters: null,
      template: null,
      described_at: null,
      kind: 'ollama',
    });
  });

  it('past the TTL, concurrent requests share one refresh, and a model whose digest did not change is not asked about again', async () => {
    await sleep(TTL_MS + 100);
    const tags = ollama.requestsTo('/api/tags').length;
    const shows = ollama.requestsTo('/api/show').length;
    await Promise.all(Array.from({ length: 5 }, () => timed()));
    expect(ollama.requestsTo('/api/tags').length).toBe(tags + 1);
    expect(ollama.requestsTo('/api/show').length).toBe(shows);
  });

  it('serves what it knew when the instance stops answering, within the bound', async () => {
    const before = entry((await timed()).body, 'local');
    ollama.hang();
    try {
      await sleep(TTL_MS + 100);
      const tags = ollama.requestsTo('/api/tags').length;
      const { body, ms } = await timed();
      expect(ollama.requestsTo('/api/tags').length).toBe(tags + 1);
      expect(ms).toBeLessThan(TIMEOUT_MS + 1_000);
      expect(entry(body, 'local')).toEqual(before);
      expect(entry(body, 'local')).toMatchObject({ size: '13GB', parameters: '20.9B', template: GPT_OSS.template });
    } finally {
      ollama.ok();
    }
  });

  it('asks about a model again once its digest changed (a new pull)', async () => {
    ollama.ollamaModels['gpt-oss:20b'] = { ...GPT_OSS, digest: 'f'.repeat(64), parameter_size: '21.0B' };
    await sleep(TTL_MS + 100);
    const shows = ollama.requestsTo('/api/show').length;
    const { body } = await timed();
    expect(ollama.requestsTo('/api/show').length).toBe(shows + 1);
    expect(entry(body, 'local')).toMatchObject({ parameters: '21.0B' });
  });
});
