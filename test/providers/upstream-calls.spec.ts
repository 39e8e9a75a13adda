import type { ChatRequest } from '../../src/providers/dto/chat';
import { PROVIDER_ERRORS, UPSTREAM_REQUESTS, UPSTREAM_RETRIES } from '../../src/providers/providers.metrics';
import { startFakeUpstream, faults, type FakeKind, type FakeUpstream } from '../support/fake-upstreams';
import {
  closeInstances,
  createInstance,
  declaration,
  type DeclarationOverrides,
  drain,
  textOf,
  upstreamFailure,
  waitFor,
  within,
} from './helpers';

const fakes: Record<FakeKind, FakeUpstream> = {} as Record<FakeKind, FakeUpstream>;
const KINDS: FakeKind[] = ['openai', 'anthropic', 'ollama'];
const API_KEY = 'sk-test-0123456789-secret';

/** The fakes want API_KEY unless a test says otherwise. */
const keyed = (fake: FakeUpstream, overrides: DeclarationOverrides = {}) =>
  declaration(fake, { api_key: API_KEY, ...overrides });

const ask = (model: string): ChatRequest => ({
  model,
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Say hello.' },
  ],
  max_tokens: 50,
});

beforeAll(async () => {
  for (const kind of KINDS) fakes[kind] = await startFakeUpstream(kind, { apiKey: API_KEY });
});
afterEach(async () => {
  await closeInstances();
  for (const kind of KINDS) fakes[kind].reset();
});
afterAll(async () => {
  await Promise.all(KINDS.map((kind) => fakes[kind].close()));
});

describe.each(KINDS)('%s instance against its fake', (kind) => {
  const fake = () => fakes[kind];
  const model = () => fake().models[0];

  it('answers a chat with text, finish reason and usage, authenticated', async () => {
    const { instance } = createInstance(keyed(fake(), { api_key: API_KEY }));
    const result = await instance.chat(ask(model()));
    expect(result).toMatchObject({
      model: model(),
      text: 'Hello from the fake upstream.',
      finish_reason: 'stop',
      usage: { input_tokens: 12, output_tokens: 6 },
    });
    const [sent] = fake().requests;
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe({ openai: '/v1/chat/completions', anthropic: '/v1/messages', ollama: '/api/chat' }[kind]);
    expect(sent.body).toMatchObject({ model: model() });
  });

  it('streams deltas, then usage, then finish', async () => {
    const { instance } = createInstance(keyed(fake(), { api_key: API_KEY }));
    fake().reply.text = 'one two three';
    const { events, error } = await drain(instance.chatStream(ask(model())));
    expect(error).toBeUndefined();
    expect(events).toEqual([
      { type: 'delta', text: 'one ' },
      { type: 'delta', text: 'two ' },
      { type: 'delta', text: 'three' },
      { type: 'usage', usage: { input_tokens: 12, output_tokens: 6 } },
      { type: 'finish', finish_reason: 'stop' },
    ]);
  });

  it('keeps connections alive', async () => {
    const { instance } = createInstance(keyed(fake()));
    for (let i = 0; i < 3; i++) {
      await instance.chat(ask(model()));
      await drain(instance.chatStream(ask(model())));
    }
    // undici may open a second socket when a call follows the previous one in the same tick
    const ports = new Set(fake().requests.map((r) => r.remotePort));
    expect(fake().requests).toHaveLength(6);
    expect(ports.size).toBeLessThanOrEqual(2);
  });

  it('keeps a stream’s connection when the body ends some time after the end marker', async () => {
    const { instance } = createInstance(keyed(fake()));
    fake().reply.endDelayMs = 30;
    const { events } = await drain(instance.chatStream(ask(model())));
    expect(events[events.length - 1]).toEqual({ type: 'finish', finish_reason: 'stop' });
    const [streamed] = fake().requests;
    expect(streamed.answered).toBe(false); // the end marker came first: the rest is drained in the background
    // Had the client dropped the body at the end marker, the answer could never complete.
    await waitFor(() => streamed.answered, 1_000, 'the fake to finish its answer');
    expect(streamed.abortedByClient).toBe(false);
  });

  it('says 401 (our key refused) as auth_failed, never retried on the instance, counted against its breaker', async () => {
    const { instance, registry } = createInstance(keyed(fake(), { api_key: 'wrong-key-0000000000' }));
    for (let i = 0; i < 3; i++) {
      const failure = await upstreamFailure(instance.chat(ask(model())));
      expect(failure).toMatchObject({ errorClass: 'auth_failed', status: 401 });
      expect(failure.options.instanceId).toBe(instance.id);
    }
    expect(fake().requests).toHaveLength(3);
    expect(instance.info().breaker).toBe('open');
    expect(await registry.metrics()).toMatch(
      new RegExp(`conflux_upstream_auth_failures_total\\{provider="${instance.id}"\\} 3`),
    );
  });
});

describe('headers and paths', () => {
  it('sends OpenAI its bearer key under the declared /v1 base', async () => {
    const { instance } = createInstance(keyed(fakes.openai, { api_key: API_KEY }));
    await instance.chat(ask('gpt-4o-mini'));
    expect(fakes.openai.requests[0].headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(fakes.openai.requests[0].headers['content-type']).toBe('application/json');
  });

  it('sends Anthropic x-api-key and anthropic-version, without doubling /v1', async () => {
    const { instance } = createInstance(
      keyed(fakes.anthropic, { api_key: API_KEY, base_url: `${fakes.anthropic.origin}/v1` }),
    );
    await instance.chat(ask('claude-3-5-haiku-20241022'));
    const [sent] = fakes.anthropic.requests;
    expect(sent.path).toBe('/v1/messages');
    expect(sent.headers['x-api-key']).toBe(API_KEY);
    expect(sent.headers['anthropic-version']).toBe('2023-06-01');
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.body).toMatchObject({ system: 'Be brief.', max_tokens: 50 });
  });

  it('asks OpenAI for usage in streams', async () => {
    const { instance } = createInstance(keyed(fakes.openai, { api_key: API_KEY }));
    await drain(instance.chatStream(ask('gpt-4o-mini')));
    expect(fakes.openai.requests[0].body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });
});

describe('embeddings', () => {
  it.each(['openai', 'ollama'] as const)('embeds through %s', async (kind) => {
    const { instance } = createInstance(keyed(fakes[kind], { api_key: API_KEY }));
    const model = fakes[kind].models[1];
    const result = await instance.embed({ model, input: ['alpha beta', 'gamma'] });
    expect(result.model).toBe(model);
    expect(result.vectors).toHaveLength(2);
    expect(result.vectors[0]).toHaveLength(4);
    expect(result.usage).toEqual({ input_tokens: 3 });
    expect(fakes[kind].requests[0].path).toBe(kind === 'openai' ? '/v1/embeddings' : '/api/embed');
  });

  it('refuses embeddings on an anthropic instance without calling it', async () => {
    const { instance } = createInstance(keyed(fakes.anthropic));
    const failure = await upstreamFailure(instance.embed({ model: 'claude-3-5-haiku-20241022', input: ['x'] }));
    expect(failure.errorClass).toBe('http_4xx');
    expect(fakes.anthropic.requests).toHaveLength(0);
  });
});

describe('failures, retries and timeouts', () => {
  const fake = () => fakes.openai;
  const chat = () => ask('gpt-4o-mini');

  it('retries 500s with exponential backoff, then fails with http_5xx', async () => {
    const { instance, metric } = createInstance(
      keyed(fake(), { retry: { max_attempts: 3, base_delay_ms: 40, max_delay_ms: 1_000 } }),
      { random: () => 0.999 }, // the top of the jitter range: 39 ms, then 79 ms
    );
    fake().status(500);
    const failure = await upstreamFailure(instance.chat(chat()));
    expect(failure).toMatchObject({ errorClass: 'http_5xx', status: 500 });
    const times = fake().requests.map((r) => r.receivedAt);
    expect(times).toHaveLength(3);
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(35);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(75);
    expect(await metric(UPSTREAM_RETRIES, { provider: instance.id })).toBe(2);
    expect(await metric(UPSTREAM_REQUESTS, { provider: instance.id, model: 'gpt-4o-mini', outcome: 'http_5xx' })).toBe(
      3,
    );
    expect(await metric(PROVIDER_ERRORS, { provider: instance.id, kind: 'openai', class: 'http_5xx' })).toBe(3);
  });

  it('recovers when a retry succeeds', async () => {
    const { instance, metric } = createInstance(keyed(fake()));
    fake().enqueue(faults.status(503), faults.status(502));
    const result = await instance.chat(chat());
    expect(result.text).toBe('Hello from the fake upstream.');
    expect(fake().requests).toHaveLength(3);
    expect(await metric(UPSTREAM_REQUESTS, { provider: instance.id, model: 'gpt-4o-mini', outcome: 'success' })).toBe(
      1,
    );
    // The two failed attempts are provider errors; the success is not.
    expect(await metric(PROVIDER_ERRORS, { provider: instance.id, kind: 'openai', class: 'http_5xx' })).toBe(2);
    expect(await metric(PROVIDER_ERRORS, { provider: instance.id, class: 'success' })).toBe(0);
  });

  it('honours Retry-After (seconds) on 429', async () => {
    const { instance } = createInstance(keyed(fake()));
    fake().enqueue(faults.status(429, undefined, { 'retry-after': '1' }));
    await instance.chat(chat());
    const [first, second] = fake().requests.map((r) => r.receivedAt);
    expect(second - first).toBeGreaterThanOrEqual(990);
  });

  it('gives up on a 429 whose Retry-After passes the deadline, with retryAfterMs', async () => {
    const { instance } = createInstance(keyed(fake()));
    fake().status(429, undefined, { 'retry-after': '30' });
    const started = Date.now();
    const failure = await upstreamFailure(instance.chat(chat(), { deadline: Date.now() + 2_000 }));
    expect(failure).toMatchObject({ errorClass: 'http_429', status: 429, retryAfterMs: 30_000 });
    expect(fake().requests).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('never retries a 400 and never trips the breaker, however often it comes', async () => {
    const { instance } = createInstance(
      keyed(fake(), { api_key: API_KEY, breaker: { volume_threshold: 2, error_threshold_percentage: 1 } }),
    );
    fake().status(400, { error: { message: `Bad request from key ${API_KEY}`, type: 'invalid_request_error' } });
    for (let i = 0; i < 25; i++) {
      const failure = await upstreamFailure(instance.chat(chat()));
      expect(failure).toMatchObject({ errorClass: 'http_4xx', status: 400 });
      expect(failure.message).toContain('Bad request from key');
      expect(failure.message).not.toContain(API_KEY);
    }
    expect(fake().requests).toHaveLength(25);
    expect(instance.info().breaker).toBe('closed');
    expect(instance.available).toBe(true);
  });

  it('times out a hung upstream and really aborts the request', async () => {
    const { instance } = createInstance(keyed(fake(), { timeout_ms: 150, retry: { max_attempts: 1 } }));
    fake().hang();
    const started = Date.now();
    const failure = await upstreamFailure(instance.chat(chat()));
    expect(failure.errorClass).toBe('timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await within(fake().requests[0].aborted, 1_000, 'the fake seeing the connection closed');
  });

  it('bounds an attempt by the deadline when it is nearer than timeout_ms', async () => {
    const { instance } = createInstance(keyed(fake(), { timeout_ms: 5_000 }));
    fake().hang();
    const started = Date.now();
    const failure = await upstreamFailure(instance.chat(chat(), { deadline: Date.now() + 200 }));
    expect(failure.errorClass).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(fake().requests).toHaveLength(1);
  });

  it('calls an invalid JSON body malformed (and retries it)', async () => {
    const { instance } = createInstance(keyed(fake(), { retry: { max_attempts: 2 } }));
    fake().malformed();
    const failure = await upstreamFailure(instance.chat(chat()));
    expect(failure.errorClass).toBe('malformed');
    expect(fake().requests).toHaveLength(2);
  });

  it('says network when nothing listens', async () => {
    const { instance } = createInstance({
      ...keyed(fake(), { retry: { max_attempts: 1 } }),
      base_url: 'http://127.0.0.1:9/v1',
    });
    expect((await upstreamFailure(instance.chat(chat()))).errorClass).toBe('network');
  });

  it('cancels the upstream request when the caller aborts, without counting it against the breaker', async () => {
    const { instance, metric } = createInstance(keyed(fake(), { breaker: { volume_threshold: 1 } }));
    fake().hang();
    const controller = new AbortController();
    const call = upstreamFailure(instance.chat(chat(), { signal: controller.signal }));
    await waitFor(() => fake().requests.length === 1, 1_000, 'the request to arrive');
    controller.abort();
    expect((await call).errorClass).toBe('aborted');
    await within(fake().requests[0].aborted, 1_000, 'the fake seeing the connection closed');
    expect(fake().requests).toHaveLength(1); // not retried
    expect(instance.info().breaker).toBe('closed');
    expect(await metric(UPSTREAM_REQUESTS, { provider: instance.id, model: 'gpt-4o-mini', outcome: 'aborted' })).toBe(
      1,
    );
  });
});

describe('streams', () => {
  it.each(KINDS)('%s: a cut mid-stream throws stream_cut after the first deltas', async (kind) => {
    const fake = fakes[kind];
    const { instance } = createInstance(keyed(fake, { api_key: API_KEY }));
    fake.reply.text = 'one two three four five';
    fake.cutStreamAfter(2);
    const { events, error } = await drain(instance.chatStream(ask(fake.models[0])));
    expect(textOf(events)).toBe('one two ');
    expect(error?.errorClass).toBe('stream_cut');
    expect(fake.requests).toHaveLength(1); // never retried once events were yielded
  });

  it('retries a failure before the first event, then streams', async () => {
    const fake = fakes.anthropic;
    const { instance, metric } = createInstance(keyed(fake, { api_key: API_KEY }));
    fake.enqueue(faults.status(529), faults.malformed());
    const { events, error } = await drain(instance.chatStream(ask('claude-3-5-haiku-20241022')));
    expect(error).toBeUndefined();
    expect(textOf(events)).toBe('Hello from the fake upstream.');
    expect(fake.requests).toHaveLength(3);
    expect(await metric(UPSTREAM_RETRIES, { provider: instance.id })).toBe(2);
  });

  it('throws errors before the first event from the first next()', async () => {
    const fake = fakes.openai;
    const { instance } = createInstance(keyed(fake, { retry: { max_attempts: 1 } }));
    fake.status(400);
    const iterator = instance.chatStream(ask('gpt-4o-mini'))[Symbol.asyncIterator]();
    expect(fake.requests).toHaveLength(0); // nothing happens before next()
    const failure = await upstreamFailure(iterator.next());
    expect(failure).toMatchObject({ errorClass: 'http_4xx', status: 400 });
  });

  it('aborts the upstream request when the consumer stops reading', async () => {
    const fake = fakes.ollama;
    const { instance, metric } = createInstance(keyed(fake));
    fake.reply.text = 'a b c d e f g h i j k l m n o p';
    fake.reply.chunkDelayMs = 30;
    for await (const event of instance.chatStream(ask('llama3.2'))) {
      expect(event).toEqual({ type: 'delta', text: 'a ' });
      break;
    }
    await within(fake.requests[0].aborted, 1_000, 'the fake seeing the connection closed');
    expect(await metric(UPSTREAM_REQUESTS, { provider: instance.id, model: 'llama3.2', outcome: 'aborted' })).toBe(1);
    expect(instance.info().breaker).toBe('closed');
  });

  it('times out a stream that stalls between chunks', async () => {
    const fake = fakes.openai;
    const { instance } = createInstance(keyed(fake, { timeout_ms: 100 }));
    fake.reply.text = 'slow words here';
    fake.reply.chunkDelayMs = 300;
    const { events, error } = await drain(instance.chatStream(ask('gpt-4o-mini')));
    // the first delta itself comes too late: a timeout before any event, retried, then given up
    expect(events).toEqual([]);
    expect(error?.errorClass).toBe('timeout');
    expect(fake.requests).toHaveLength(3);
  });

  it('cuts a stream that stalls after its first events: stream_cut, upstream request aborted', async () => {
    const fake = fakes.anthropic;
    const { instance } = createInstance(keyed(fake, { timeout_ms: 150 }));
    fake.reply.text = 'quick then slow';
    fake.stallStreamAfter(1);
    const { events, error } = await drain(instance.chatStream(ask('claude-3-5-haiku-20241022')));
    expect(events).toEqual([{ type: 'delta', text: 'quick ' }]);
    expect(error?.errorClass).toBe('stream_cut');
    expect((error?.cause as { errorClass?: string } | undefined)?.errorClass).toBe('timeout');
    await within(fake.requests[0].aborted, 1_000, 'the fake seeing the connection closed');
    expect(fake.requests).toHaveLength(1);
  });
});
