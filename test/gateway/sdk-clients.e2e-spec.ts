import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { Gateway, NO_RETRY, startGateway, waitForLedger } from './gateway-support';

const REPLY = 'The quick brown fox jumps over the lazy dog.';

describe('official SDKs as clients, through Conflux, to fake upstreams of another kind', () => {
  let anthropicFake: FakeUpstream;
  let openaiFake: FakeUpstream;
  let ollamaFake: FakeUpstream;
  let gw: Gateway;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    anthropicFake = await startFakeUpstream('anthropic', {
      models: ['claude-3-haiku-20240307'],
      reply: { text: REPLY, usage: { input_tokens: 21, output_tokens: 9 } },
    });
    openaiFake = await startFakeUpstream('openai', {
      models: ['gpt-4o-mini'],
      reply: { text: REPLY, usage: { input_tokens: 17, output_tokens: 9 } },
    });
    ollamaFake = await startFakeUpstream('ollama', {
      models: ['llama3.1:8b', 'nomic-embed-text'],
      reply: { text: REPLY, usage: { input_tokens: 15, output_tokens: 9 } },
    });
    gw = await startGateway({
      providers: [
        {
          id: 'anthropic-a',
          kind: 'anthropic',
          base_url: anthropicFake.baseUrl,
          models: ['claude-3-haiku-20240307'],
          retry: NO_RETRY,
        },
        { id: 'openai-a', kind: 'openai', base_url: openaiFake.baseUrl, models: ['gpt-4o-mini'], retry: NO_RETRY },
        {
          id: 'ollama-a',
          kind: 'ollama',
          base_url: ollamaFake.baseUrl,
          models: ['llama3.1:8b', 'nomic-embed-text'],
          retry: NO_RETRY,
        },
      ],
    });
    openai = new OpenAI({ apiKey: gw.apiKey, baseURL: `${gw.t.url}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: gw.apiKey, baseURL: gw.t.url, maxRetries: 0 });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([anthropicFake?.close(), openaiFake?.close(), ollamaFake?.close()]);
  });

  beforeEach(() => {
    anthropicFake.reset();
    openaiFake.reset();
    ollamaFake.reset();
    anthropicFake.reply.text = REPLY;
    anthropicFake.reply.usage = { input_tokens: 21, output_tokens: 9 };
    openaiFake.reply.text = REPLY;
    openaiFake.reply.usage = { input_tokens: 17, output_tokens: 9 };
    ollamaFake.reply.text = REPLY;
    ollamaFake.reply.usage = { input_tokens: 15, output_tokens: 9 };
  });

  it('openai SDK → /v1/chat/completions → Anthropic upstream (JSON)', async () => {
    const { data, response } = await openai.chat.completions
      .create({
        model: 'claude-3-haiku',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Say something.' },
        ],
        max_tokens: 50,
      })
      .withResponse();
    expect(data.choices[0].message.content).toBe(REPLY);
    expect(data.choices[0].finish_reason).toBe('stop');
    expect(data.usage).toMatchObject({ prompt_tokens: 21, completion_tokens: 9, total_tokens: 30 });
    expect(response.headers.get('x-conflux-provider')).toBe('anthropic-a');
    expect(response.headers.get('x-conflux-model')).toBe('claude-3-haiku-20240307');
    const sent = anthropicFake.requestsTo('/v1/messages')[0].body as Record<string, unknown>;
    expect(sent).toMatchObject({ model: 'claude-3-haiku-20240307', system: 'Be brief.', max_tokens: 50 });
    expect(sent.messages).toEqual([{ role: 'user', content: 'Say something.' }]);
  });

  it('openai SDK streaming → Anthropic upstream SSE, usage included', async () => {
    const stream = await openai.chat.completions.create({
      model: 'claude-3-haiku-20240307',
      messages: [{ role: 'user', content: 'Stream please.' }],
      max_tokens: 50,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(REPLY);
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({ prompt_tokens: 21, completion_tokens: 9 });
  });

  it('anthropic SDK → /v1/messages → OpenAI-compatible upstream (JSON)', async () => {
    const message = await anthropic.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 64,
      system: 'You are terse.',
      messages: [{ role: 'user', content: 'Hello?' }],
    });
    expect(message.type).toBe('message');
    expect(message.content).toEqual([{ type: 'text', text: REPLY }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage).toMatchObject({ input_tokens: 17, output_tokens: 9 });
    const sent = openaiFake.requestsTo('/chat/completions')[0].body as { messages: unknown[]; max_tokens: number };
    expect(sent.messages).toEqual([
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Hello?' },
    ]);
    expect(sent.max_tokens).toBe(64);
  });

  it('anthropic SDK reads our request id where Anthropic sends it (request-id), for answers and streams', async () => {
    const message = await anthropic.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'Id?' }],
    });
    const rows = await waitForLedger(gw.t.db.url, (r) => r.length === 1, 'request_id = $1', [message._request_id]);
    expect(rows[0]).toMatchObject({ model: 'gpt-4o-mini' });
    const stream = anthropic.messages.stream(
      { model: 'llama3.1:8b', max_tokens: 16, messages: [{ role: 'user', content: 'Stream an id.' }] },
      { headers: { 'X-Request-Id': 'stream-id-42' } },
    );
    await stream.finalMessage();
    expect(stream.request_id).toBe('stream-id-42');
  });

  it('anthropic SDK streaming → Ollama upstream (NDJSON)', async () => {
    const stream = anthropic.messages.stream({
      model: 'llama3.1:8b',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Stream from ollama.' }],
    });
    const deltas: string[] = [];
    stream.on('text', (delta) => deltas.push(delta));
    const final = await stream.finalMessage();
    expect(deltas.join('')).toBe(REPLY);
    expect(deltas.length).toBeGreaterThan(1);
    expect(final.content).toEqual([{ type: 'text', text: REPLY }]);
    expect(final.usage.output_tokens).toBe(9);
    expect(ollamaFake.requestsTo('/api/chat')[0].body).toMatchObject({ model: 'llama3.1:8b', stream: true });
  });

  it('passes vision content parts through to a model that supports them', async () => {
    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    const res = await openai.chat.completions.create({
      model: 'claude-3-haiku-20240307',
      max_tokens: 20,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in this image?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
          ],
        },
      ],
    });
    expect(res.choices[0].message.content).toBe(REPLY);
    const sent = anthropicFake.requestsTo('/v1/messages')[0].body as { messages: { content: unknown[] }[] };
    expect(sent.messages[0].content).toEqual([
      { type: 'text', text: 'What is in this image?' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
    ]);
  });

  it('refuses images for a model without vision, before any upstream call', async () => {
    await expect(
      openai.chat.completions.create({
        model: 'llama3.1:8b',
        messages: [
          { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
        ],
      }),
    ).rejects.toMatchObject({ status: 400 });
    expect(ollamaFake.requests).toHaveLength(0);
  });

  it('embeddings through the openai SDK to an Ollama upstream', async () => {
    const res = await openai.embeddings.create({ model: 'nomic-embed-text', input: ['alpha', 'beta'] });
    expect(res.data).toHaveLength(2);
    expect(res.data[0].embedding.length).toBeGreaterThan(0);
    expect(res.data[0].embedding).not.toEqual(res.data[1].embedding);
    expect(ollamaFake.requestsTo('/api/embed')[0].body).toMatchObject({
      model: 'nomic-embed-text',
      input: ['alpha', 'beta'],
    });
  });

  it('lists served models with /v1/models', async () => {
    const ids: string[] = [];
    for await (const model of openai.models.list()) ids.push(model.id);
    expect(ids.sort()).toEqual(['claude-3-haiku-20240307', 'gpt-4o-mini', 'llama-3.1-8b', 'nomic-embed-text']);
  });

  it('retrieves one served model by name or alias with /v1/models/{model}, and 404s another', async () => {
    const model = await openai.models.retrieve('gpt-4o-mini');
    expect(model).toMatchObject({ id: 'gpt-4o-mini', object: 'model', providers: ['openai-a'] });
    expect((await openai.models.retrieve('llama3.1:8b')).id).toBe('llama-3.1-8b');
    const missing = await openai.models.retrieve('org/no-such-model').then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect(missing).toMatchObject({ status: 404, code: 'model_not_found' });
    expect((missing as Error).message).toContain('org/no-such-model');
  });

  it('lists and retrieves models through the anthropic SDK too', async () => {
    const ids: string[] = [];
    for await (const model of anthropic.models.list()) {
      expect(model).toMatchObject({ type: 'model', display_name: model.id, created_at: expect.any(String) });
      ids.push(model.id);
    }
    expect(ids.sort()).toEqual(['claude-3-haiku-20240307', 'gpt-4o-mini', 'llama-3.1-8b', 'nomic-embed-text']);
    expect(await anthropic.models.retrieve('claude-3-haiku')).toMatchObject({
      id: 'claude-3-haiku-20240307',
      type: 'model',
    });
    await expect(anthropic.models.retrieve('no-such-model')).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  });

  it('records every call in the ledger with the reported usage and its cost', async () => {
    const { response } = await openai.chat.completions
      .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'bill me' }], max_tokens: 10 })
      .withResponse();
    const requestId = response.headers.get('x-request-id');
    const rows = await waitForLedger(gw.t.db.url, (r) => r.length === 1, 'request_id = $1', [requestId]);
    // gpt-4o-mini: 17 in × 0.15 + 9 out × 0.60 (USD per 1M) × 100 credits/USD → micro-credits
    expect(rows).toEqual([
      expect.objectContaining({
        attempt: 1,
        provider: 'openai-a',
        model: 'gpt-4o-mini',
        input_tokens: 17,
        output_tokens: 9,
        micro_credits: String(Math.round(17 * 15 + 9 * 60)),
        status: 'success',
        error_class: null,
        endpoint: '/v1/chat/completions',
      }),
    ]);
  });
});
