import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { performance } from 'node:perf_hooks';
import { createApiKey, createProject } from '../support/fixtures';
import { expectEnvelope } from '../support/http';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { Gateway, NO_RETRY, startGateway } from './gateway-support';

const MODEL = 'gpt-4o-mini';
const ASK = [{ role: 'user' as const, content: 'Say something.' }];

/** What a client's fetch saw of one attempt. */
interface Attempt {
  sentAt: number;
  answeredAt: number;
  status: number;
  retryAfter: string | null;
  body: unknown;
}

/** A fetch that records every attempt an SDK makes (its own retries included). */
function recordingFetch(attempts: Attempt[]): typeof fetch {
  return async (input, init) => {
    const sentAt = performance.now();
    const res = await fetch(input, init);
    const text = await res.clone().text();
    attempts.push({
      sentAt,
      answeredAt: performance.now(),
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      body: res.status >= 400 ? JSON.parse(text) : undefined,
    });
    return res;
  };
}

/** The error `work` throws (fails the test when it does not throw). */
async function thrown<E>(work: () => Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  try {
    await work();
  } catch (err) {
    expect(err).toBeInstanceOf(type);
    return err as E;
  }
  throw new Error('expected an error');
}

/** Waits while the current minute has less than 2 s left, so that the next request falls well inside one. */
async function awayFromTheEndOfAMinute(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 2_000) await new Promise((resolve) => setTimeout(resolve, left + 100));
}

/**
 * Moves this process's clock (Date.now, by which the quota cuts its one-minute rpm windows) to 950 ms
 * before the end of the minute `at` fell in, so that a request refused by rpm now is told Retry-After: 1,
 * and its retry a second later falls in the next minute.
 */
function nearTheEndOfTheMinuteOf(at: number): void {
  const realNow = Date.now.bind(Date);
  const offset = at - (at % 60_000) + 60_000 - 950 - realNow();
  jest.spyOn(Date, 'now').mockImplementation(() => realNow() + offset);
}

describe('errors in the native shapes of the compatible APIs, as the official SDKs read them', () => {
  let upstream: FakeUpstream;
  let gw: Gateway;
  let openai: OpenAI;
  let anthropic: Anthropic;
  /** API keys of a project with an exhausted budget and of projects limited to 1 request per minute. */
  let brokeKey: string;
  let limitedKeys: string[];

  async function projectKey(name: string, quota: Record<string, unknown>): Promise<string> {
    const project = await createProject(gw.api, gw.adminToken, name);
    const put = await gw.api.request('PUT', `/projects/${project.id}/quota`, { token: gw.adminToken, body: quota });
    expect(put.status).toBe(200);
    return (await createApiKey(gw.api, gw.adminToken, project.id, name)).key;
  }

  function openAiClient(apiKey: string, options: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}): OpenAI {
    return new OpenAI({ apiKey, baseURL: `${gw.t.url}/v1`, maxRetries: 0, ...options });
  }

  function anthropicClient(apiKey: string, options: Partial<ConstructorParameters<typeof Anthropic>[0]> = {}) {
    return new Anthropic({ apiKey, baseURL: gw.t.url, maxRetries: 0, ...options });
  }

  beforeAll(async () => {
    upstream = await startFakeUpstream('openai', {
      models: [MODEL],
      reply: { text: 'Fine.', usage: { input_tokens: 10, output_tokens: 2 } },
    });
    gw = await startGateway({
      providers: [{ id: 'openai-a', kind: 'openai', base_url: upstream.baseUrl, models: [MODEL], retry: NO_RETRY }],
    });
    openai = openAiClient(gw.apiKey);
    anthropic = anthropicClient(gw.apiKey);
    brokeKey = await projectKey('broke', { daily_credits: 0.000001 });
    limitedKeys = [await projectKey('limited-a', { rpm: 1 }), await projectKey('limited-b', { rpm: 1 })];
  });

  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  beforeEach(() => upstream.reset());

  afterEach(() => jest.restoreAllMocks());

  describe('OpenAI routes: {error: {message, type, param, code}}', () => {
    it('a validation failure names its one field in param', async () => {
      const err = await thrown(
        () => openai.chat.completions.create({ model: MODEL, messages: [] }),
        OpenAI.BadRequestError,
      );
      expect(err.status).toBe(400);
      expect(err).toMatchObject({ type: 'invalid_request_error', code: 'validation_failed', param: 'messages' });
      expect(err.error).toMatchObject({ message: expect.stringMatching(/^Request is invalid: messages: /) });
      expect(err.message).toBe(`400 ${(err.error as { message: string }).message}`);
      expect(err.requestID).toEqual(expect.any(String));
      expect(upstream.requests).toHaveLength(0);
    });

    it('a validation failure over several fields has a null param, and keeps the per-field details', async () => {
      const res = await gw.api.post(
        '/v1/chat/completions',
        { model: MODEL, messages: 'hello', temperature: 'hot' },
        { apiKey: gw.apiKey },
      );
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        error: {
          message: expect.stringMatching(/^Request is invalid: /),
          type: 'invalid_request_error',
          param: null,
          code: 'validation_failed',
        },
        request_id: res.headers.get('x-request-id'),
        details: expect.arrayContaining([expect.objectContaining({ field: 'temperature' })]),
      });
    });

    it('a bad API key is an AuthenticationError, on every OpenAI route', async () => {
      const client = openAiClient('cfx_not-a-key');
      for (const call of [
        () => client.chat.completions.create({ model: MODEL, messages: ASK }),
        () => client.embeddings.create({ model: MODEL, input: 'x' }),
        () => client.models.list(),
      ]) {
        const err = await thrown(call, OpenAI.AuthenticationError);
        expect(err).toMatchObject({ status: 401, type: 'authentication_error', code: 'invalid_token', param: null });
        expect(err.message).toBe('401 Invalid, expired or revoked API key');
      }
    });

    it('an unknown model is a NotFoundError with code model_not_found', async () => {
      const err = await thrown(
        () => openai.chat.completions.create({ model: 'no-such-model', messages: ASK }),
        OpenAI.NotFoundError,
      );
      expect(err).toMatchObject({ status: 404, type: 'invalid_request_error', code: 'model_not_found', param: null });
      expect(err.message).toBe('404 The model no-such-model does not exist or is not served here');
    });

    it('an exhausted budget is 402 insufficient_quota, with code budget_exceeded', async () => {
      const err = await thrown(
        () => openAiClient(brokeKey).chat.completions.create({ model: MODEL, messages: ASK, max_tokens: 5 }),
        OpenAI.APIError,
      );
      expect(err).toMatchObject({ status: 402, type: 'insufficient_quota', code: 'budget_exceeded' });
      expect(err.message).toBe("402 The project's daily credit budget is exhausted");
    });

    it('a failed upstream is 502 server_error, with code upstream_error', async () => {
      upstream.status(503);
      const err = await thrown(
        () => openai.chat.completions.create({ model: MODEL, messages: ASK, max_tokens: 5 }),
        OpenAI.InternalServerError,
      );
      expect(err).toMatchObject({ status: 502, type: 'server_error', code: 'upstream_error', param: null });
      expect(err.message).toMatch(/^502 All 1 upstream attempt\(s\) failed/);
    });

    it('on 429 the SDK retries after our Retry-After: 1, and the retry succeeds', async () => {
      const attempts: Attempt[] = [];
      const client = openAiClient(limitedKeys[0], { maxRetries: 1, fetch: recordingFetch(attempts) });
      await awayFromTheEndOfAMinute();
      const first = Date.now();
      await client.chat.completions.create({ model: MODEL, messages: ASK, max_tokens: 5 });
      nearTheEndOfTheMinuteOf(first);
      const retried = await client.chat.completions.create({ model: MODEL, messages: ASK, max_tokens: 5 });

      expect(retried.choices[0].message.content).toBe('Fine.');
      expect(attempts.map((a) => a.status)).toEqual([200, 429, 200]);
      const [, refused, retry] = attempts;
      expect(refused.retryAfter).toBe('1');
      expect(refused.body).toMatchObject({
        error: { type: 'rate_limit_error', code: 'rate_limited', param: null, message: expect.any(String) },
      });
      expect(retry.sentAt - refused.answeredAt).toBeGreaterThanOrEqual(990);
    });

    it('errors raised before routing take the shape too: malformed JSON, an oversized body', async () => {
      const malformed = await fetch(`${gw.t.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': gw.apiKey },
        body: '{"model": ',
      });
      expect(malformed.status).toBe(400);
      expect(await malformed.json()).toEqual({
        error: {
          message: 'Request body is not valid JSON',
          type: 'invalid_request_error',
          param: null,
          code: 'malformed_json',
        },
        request_id: malformed.headers.get('x-request-id'),
      });
      const large = await fetch(`${gw.t.url}/v1/embeddings/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': gw.apiKey },
        body: JSON.stringify({ model: MODEL, input: 'x'.repeat(11 * 1024 * 1024) }),
      });
      expect(large.status).toBe(413);
      expect(await large.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'payload_too_large' } });
    });
  });

  describe('Anthropic route: {type: "error", error: {type, message}}', () => {
    it('a validation failure is an invalid_request_error', async () => {
      const err = await thrown(
        () => anthropic.messages.create({ model: MODEL, max_tokens: 5, messages: [] }),
        Anthropic.BadRequestError,
      );
      expect(err.status).toBe(400);
      expect(err.type).toBe('invalid_request_error');
      expect(err.apiMessage).toMatch(/^Request is invalid: messages: /);
      expect(err.error).toEqual({
        type: 'error',
        error: { type: 'invalid_request_error', message: err.apiMessage },
        request_id: err.headers?.get('x-request-id'),
        details: expect.any(Array),
      });
      // Anthropic's SDK reads the request id from `request-id`, also on errors refused before the route runs.
      expect(err.requestID).toBe(err.headers?.get('x-request-id'));
    });

    it('a bad API key is an authentication_error', async () => {
      const err = await thrown(
        () => anthropicClient('cfx_not-a-key').messages.create({ model: MODEL, max_tokens: 5, messages: ASK }),
        Anthropic.AuthenticationError,
      );
      expect({ status: err.status, type: err.type, message: err.apiMessage }).toEqual({
        status: 401,
        type: 'authentication_error',
        message: 'Invalid, expired or revoked API key',
      });
      expect(err.requestID).toEqual(expect.any(String));
      expect(err.requestID).toBe(err.headers?.get('x-request-id'));
    });

    it('an unknown model is a not_found_error', async () => {
      const err = await thrown(
        () => anthropic.messages.create({ model: 'no-such-model', max_tokens: 5, messages: ASK }),
        Anthropic.NotFoundError,
      );
      expect({ status: err.status, type: err.type, message: err.apiMessage }).toEqual({
        status: 404,
        type: 'not_found_error',
        message: 'The model no-such-model does not exist or is not served here',
      });
    });

    it('an exhausted budget is 402 billing_error', async () => {
      const err = await thrown(
        () => anthropicClient(brokeKey).messages.create({ model: MODEL, max_tokens: 5, messages: ASK }),
        Anthropic.APIError,
      );
      expect({ status: err.status, type: err.type, message: err.apiMessage }).toEqual({
        status: 402,
        type: 'billing_error',
        message: "The project's daily credit budget is exhausted",
      });
    });

    it('a failed upstream is 502 api_error', async () => {
      upstream.status(500);
      const err = await thrown(
        () => anthropic.messages.create({ model: MODEL, max_tokens: 5, messages: ASK }),
        Anthropic.InternalServerError,
      );
      expect({ status: err.status, type: err.type }).toEqual({ status: 502, type: 'api_error' });
      expect(err.apiMessage).toMatch(/^All 1 upstream attempt\(s\) failed/);
    });

    it('on 429 the SDK retries after our Retry-After: 1, and the retry succeeds', async () => {
      const attempts: Attempt[] = [];
      const client = anthropicClient(limitedKeys[1], { maxRetries: 1, fetch: recordingFetch(attempts) });
      await awayFromTheEndOfAMinute();
      const first = Date.now();
      await client.messages.create({ model: MODEL, max_tokens: 5, messages: ASK });
      nearTheEndOfTheMinuteOf(first);
      const retried = await client.messages.create({ model: MODEL, max_tokens: 5, messages: ASK });

      expect(retried.content).toEqual([{ type: 'text', text: 'Fine.' }]);
      expect(attempts.map((a) => a.status)).toEqual([200, 429, 200]);
      const [, refused, retry] = attempts;
      expect(refused.retryAfter).toBe('1');
      expect(refused.body).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
      expect(retry.sentAt - refused.answeredAt).toBeGreaterThanOrEqual(990);
    });

    it('errors raised before routing take the shape too: an oversized body is request_too_large', async () => {
      const res = await fetch(`${gw.t.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': gw.apiKey },
        body: JSON.stringify({
          model: MODEL,
          max_tokens: 5,
          messages: [{ role: 'user', content: 'x'.repeat(11 * 1024 * 1024) }],
        }),
      });
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({
        type: 'error',
        error: { type: 'request_too_large', message: expect.stringMatching(/^Request body exceeds the limit/) },
        request_id: res.headers.get('x-request-id'),
      });
    });
  });

  describe('every other route keeps the envelope {error, message, request_id}', () => {
    it('legacy LLM routes, other routes, and errors raised before routing', async () => {
      expectEnvelope(
        await gw.api.post('/api/v1/request', { prompt: 5 }, { apiKey: gw.apiKey }),
        400,
        'validation_failed',
      );
      expectEnvelope(await gw.api.get('/models', { apiKey: 'cfx_not-a-key' }), 401, 'invalid_token');
      expectEnvelope(await gw.api.get('/v1/unknown', { apiKey: gw.apiKey }), 404, 'not_found');
      const malformed = await fetch(`${gw.t.url}/api/v1/request`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': gw.apiKey },
        body: '{"prompt": ',
      });
      expect(malformed.status).toBe(400);
      expect(await malformed.json()).toEqual({
        error: 'malformed_json',
        message: 'Request body is not valid JSON',
        request_id: malformed.headers.get('x-request-id'),
      });
    });
  });
});
