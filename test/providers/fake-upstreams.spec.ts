import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { faults, startFakeUpstream, type FakeUpstream } from '../support/fake-upstreams';
import { within } from './helpers';

/** The fakes must be good enough for the official SDKs (the llm module's tests rely on that). */
describe('fake upstreams speak the real wire formats', () => {
  let openaiFake: FakeUpstream;
  let anthropicFake: FakeUpstream;

  beforeAll(async () => {
    openaiFake = await startFakeUpstream('openai', { apiKey: 'sk-fake' });
    anthropicFake = await startFakeUpstream('anthropic', { apiKey: 'sk-ant-fake' });
  });
  afterEach(() => {
    openaiFake.reset();
    anthropicFake.reset();
  });
  afterAll(async () => {
    await Promise.all([openaiFake.close(), anthropicFake.close()]);
  });

  const openai = () => new OpenAI({ baseURL: openaiFake.baseUrl, apiKey: 'sk-fake', maxRetries: 0 });
  const anthropic = () => new Anthropic({ baseURL: anthropicFake.origin, apiKey: 'sk-ant-fake', maxRetries: 0 });

  it('OpenAI SDK: chat completion, stream with usage, embeddings, models', async () => {
    const client = openai();
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(completion.choices[0].message.content).toBe('Hello from the fake upstream.');
    expect(completion.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 6 });

    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe('Hello from the fake upstream.');
    expect(usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 6 });

    const embeddings = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    expect(embeddings.data.map((d) => d.embedding.length)).toEqual([4, 4]);
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual(openaiFake.models);
    expect(openaiFake.requests[0]).toMatchObject({
      method: 'POST',
      path: '/v1/chat/completions',
      body: { model: 'gpt-4o-mini' },
    });
  });

  it('OpenAI SDK: error statuses in OpenAI’s error shape, with headers', async () => {
    openaiFake.enqueue(faults.status(429, undefined, { 'retry-after': '7' }));
    const error = await openai()
      .chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('7');
    const unauthorized = new OpenAI({ baseURL: openaiFake.baseUrl, apiKey: 'wrong', maxRetries: 0 });
    await expect(unauthorized.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });

  it('Anthropic SDK: message, stream with usage and stop reason', async () => {
    const client = anthropic();
    const message = await client.messages.create({
      model: 'claude-3-5-haiku-20241022',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from the fake upstream.' }]);
    expect(message.usage).toMatchObject({ input_tokens: 12, output_tokens: 6 });

    anthropicFake.reply.finishReason = 'length';
    const stream = client.messages.stream({
      model: 'claude-3-5-haiku-20241022',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const final = await stream.finalMessage();
    expect(final.content).toEqual([{ type: 'text', text: 'Hello from the fake upstream.' }]);
    expect(final.stop_reason).toBe('max_tokens');
    expect(final.usage).toMatchObject({ input_tokens: 12, output_tokens: 6 });
    expect(anthropicFake.requests[1].headers['anthropic-version']).toBeDefined();
  });

  it('hang, delay and cut faults behave as described', async () => {
    const client = openai();
    openaiFake.delay(80);
    const started = Date.now();
    await client.models.list();
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);

    openaiFake.hang();
    const controller = new AbortController();
    const hung = client.models.list({ signal: controller.signal }).then(
      () => 'answered',
      () => 'aborted',
    );
    setTimeout(() => controller.abort(), 50);
    expect(await hung).toBe('aborted');
    await within(openaiFake.requests[1].aborted, 1_000, 'the fake seeing the client leave');
    expect(openaiFake.requests[1].abortedByClient).toBe(true);

    openaiFake.cutStreamAfter(2);
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    const pieces: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of stream) pieces.push(chunk.choices[0]?.delta.content ?? '');
      })(),
    ).rejects.toThrow();
    expect(pieces.join('')).toBe('Hello from ');
    expect(openaiFake.requests[2].abortedByClient).toBe(false); // the fake cut it, not the client
  });
});
