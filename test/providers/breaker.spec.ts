import type { ChatRequest } from '../../src/providers/dto/chat';
import { BREAKER_STATE, UPSTREAM_REQUESTS } from '../../src/providers/providers.metrics';
import { faults, startFakeUpstream, type FakeUpstream } from '../support/fake-upstreams';
import { closeInstances, createInstance, declaration, drain, upstreamFailure, waitFor } from './helpers';

let fake: FakeUpstream;
const ask: ChatRequest = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] };

/** One attempt per call, so each call is one breaker outcome; opens at the 3rd failure. */
const breakerTest = (overrides: { reset_timeout_ms?: number; volume_threshold?: number } = {}) =>
  createInstance(
    declaration(fake, {
      retry: { max_attempts: 1 },
      breaker: { error_threshold_percentage: 50, reset_timeout_ms: 150, volume_threshold: 3, ...overrides },
    }),
  );

beforeAll(async () => {
  fake = await startFakeUpstream('openai');
});
afterEach(async () => {
  await closeInstances();
  fake.reset();
});
afterAll(async () => {
  await fake.close();
});

describe('circuit breaker per instance', () => {
  it('opens after the volume threshold of failures and then fails fast without calling', async () => {
    const { instance, metric } = breakerTest();
    fake.status(500);
    for (let i = 0; i < 2; i++) expect((await upstreamFailure(instance.chat(ask))).errorClass).toBe('http_5xx');
    expect(instance.info().breaker).toBe('closed'); // 2 calls: under the volume threshold
    expect((await upstreamFailure(instance.chat(ask))).errorClass).toBe('http_5xx');
    expect(instance.info().breaker).toBe('open');
    expect(instance.available).toBe(false);
    expect(await metric(BREAKER_STATE, { provider: instance.id, kind: 'openai' })).toBe(2);

    const started = Date.now();
    const failure = await upstreamFailure(instance.chat(ask));
    expect(failure).toMatchObject({ errorClass: 'breaker_open' });
    expect(failure.options.instanceId).toBe(instance.id);
    expect(Date.now() - started).toBeLessThan(50);
    expect(fake.requests).toHaveLength(3);
    expect(
      await metric(UPSTREAM_REQUESTS, { provider: instance.id, model: 'gpt-4o-mini', outcome: 'breaker_open' }),
    ).toBe(1);
  });

  it('stops retrying on the same instance once the breaker opened mid-retries', async () => {
    const { instance } = createInstance(
      declaration(fake, { retry: { max_attempts: 5 }, breaker: { volume_threshold: 2, reset_timeout_ms: 10_000 } }),
    );
    fake.status(502);
    expect((await upstreamFailure(instance.chat(ask))).errorClass).toBe('breaker_open');
    expect(fake.requests).toHaveLength(2);
  });

  it('goes half-open after reset_timeout, and a successful trial closes it', async () => {
    const { instance, metric } = breakerTest();
    fake.status(500);
    for (let i = 0; i < 3; i++) await upstreamFailure(instance.chat(ask));
    expect(instance.info().breaker).toBe('open');
    await waitFor(() => instance.info().breaker === 'half_open', 1_000, 'half-open');
    expect(instance.available).toBe(true);
    expect(await metric(BREAKER_STATE, { provider: instance.id })).toBe(1);
    fake.ok();
    expect((await instance.chat(ask)).text).toBe('Hello from the fake upstream.');
    expect(instance.info().breaker).toBe('closed');
    expect(await metric(BREAKER_STATE, { provider: instance.id })).toBe(0);
  });

  it('re-opens when the half-open trial fails', async () => {
    const { instance } = breakerTest();
    fake.status(500);
    for (let i = 0; i < 3; i++) await upstreamFailure(instance.chat(ask));
    await waitFor(() => instance.info().breaker === 'half_open', 1_000, 'half-open');
    fake.hang();
    const failure = await upstreamFailure(instance.chat(ask, { deadline: Date.now() + 100 }));
    expect(failure.errorClass).toBe('timeout');
    expect(instance.info().breaker).toBe('open');
  });

  it('a 4xx trial in half-open neither closes nor re-opens it', async () => {
    const { instance } = breakerTest();
    fake.status(500);
    for (let i = 0; i < 3; i++) await upstreamFailure(instance.chat(ask));
    await waitFor(() => instance.info().breaker === 'half_open', 1_000, 'half-open');
    fake.status(400);
    for (let i = 0; i < 3; i++) {
      expect((await upstreamFailure(instance.chat(ask))).errorClass).toBe('http_4xx');
      expect(instance.info().breaker).toBe('half_open');
    }
    fake.ok();
    await instance.chat(ask);
    expect(instance.info().breaker).toBe('closed');
  });

  it('lets one trial through at a time while half-open', async () => {
    const { instance } = breakerTest();
    fake.status(500);
    for (let i = 0; i < 3; i++) await upstreamFailure(instance.chat(ask));
    await waitFor(() => instance.info().breaker === 'half_open', 1_000, 'half-open');
    fake.delay(100);
    const trial = instance.chat(ask);
    await waitFor(() => fake.requests.length === 4, 1_000, 'the trial to reach the fake');
    expect((await upstreamFailure(instance.chat(ask))).errorClass).toBe('breaker_open');
    await trial;
    expect(instance.info().breaker).toBe('closed');
    expect(fake.requests).toHaveLength(4);
  });

  it('counts a stream as one call that settles when the stream ends, not at its first byte', async () => {
    const { instance } = breakerTest();
    fake.status(500);
    for (let i = 0; i < 3; i++) await upstreamFailure(instance.chat(ask));
    await waitFor(() => instance.info().breaker === 'half_open', 1_000, 'half-open');
    fake.ok();
    fake.reply.text = 'a b c d';
    fake.reply.chunkDelayMs = 20;
    const stream = instance.chatStream(ask)[Symbol.asyncIterator]();
    expect((await stream.next()).value).toEqual({ type: 'delta', text: 'a ' });
    expect(instance.info().breaker).toBe('half_open'); // the trial is still running
    expect((await upstreamFailure(instance.chat(ask))).errorClass).toBe('breaker_open');
    const rest = await drain({ [Symbol.asyncIterator]: () => stream });
    expect(rest.error).toBeUndefined();
    expect(instance.info().breaker).toBe('closed');
  });

  it('counts a stream cut as a failure of the instance', async () => {
    const { instance } = breakerTest({ volume_threshold: 1 });
    fake.cutStreamAfter(1);
    const { error } = await drain(instance.chatStream(ask));
    expect(error?.errorClass).toBe('stream_cut');
    expect(instance.info().breaker).toBe('open');
  });

  it('never trips on callers abandoning their calls', async () => {
    const { instance } = breakerTest({ volume_threshold: 1 });
    fake.enqueue(faults.hang(), faults.hang(), faults.hang());
    for (let i = 0; i < 3; i++) {
      const controller = new AbortController();
      const call = upstreamFailure(instance.chat(ask, { signal: controller.signal }));
      await waitFor(() => fake.requests.length === i + 1, 1_000, 'the request');
      controller.abort();
      expect((await call).errorClass).toBe('aborted');
    }
    expect(instance.info().breaker).toBe('closed');
  });
});
