import { FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import type { ApiResponse } from '../support/http';
import { Gateway, NO_RETRY, startGateway, waitForLedger } from './gateway-support';

const MESSAGES = [{ role: 'user', content: 'hello' }];
/** gpt-4o: 2.50 USD in, 10 USD out per 1M tokens; 100 credits per USD. */
const USAGE = { input_tokens: 1000, output_tokens: 500 };
const EXPECTED_CREDITS = ((1000 * 2.5 + 500 * 10) / 1e6) * 100;

let sequence = 0;
const requestId = (): string => `credits-${(sequence += 1)}-${Date.now()}`;

/** The `data:` payloads of an SSE answer, JSON-parsed ([DONE] left out). */
function dataOf(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: ') && line !== 'data: [DONE]')
    .map((line) => JSON.parse(line.slice(6)) as Record<string, unknown>);
}

/** Credits the gateway answers for each endpoint: the ledger row's, to the micro-credit. */
describe('credits of an answer: X-Conflux-Credits, and usage.credits in streams', () => {
  let upstream: FakeUpstream;
  let gw: Gateway;

  beforeAll(async () => {
    upstream = await startFakeUpstream('openai', { models: ['gpt-4o'] });
    gw = await startGateway({
      providers: [{ id: 'oa', kind: 'openai', base_url: upstream.baseUrl, models: ['gpt-4o'], retry: NO_RETRY }],
    });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });
  beforeEach(() => {
    upstream.reset();
    upstream.reply.usage = { ...USAGE };
  });

  /** The credits of the request's one ledger row (micro-credits / 1 000 000). */
  async function ledgerCredits(id: string): Promise<number> {
    const rows = await waitForLedger(gw.t.db.url, (r) => r.length > 0, 'request_id = $1', [id]);
    expect(rows).toHaveLength(1);
    return Number(rows[0].micro_credits) / 1_000_000;
  }

  function post(path: string, body: Record<string, unknown>, id: string, headers = {}): Promise<ApiResponse> {
    return gw.api.post(path, body, { apiKey: gw.apiKey, headers: { 'x-request-id': id, ...headers } });
  }

  describe('JSON answers carry X-Conflux-Credits', () => {
    it.each([
      ['/v1/chat/completions', { model: 'gpt-4o', messages: MESSAGES, max_tokens: 600 }],
      ['/v1/messages', { model: 'gpt-4o', messages: MESSAGES, max_tokens: 600 }],
      ['/v1/responses', { model: 'gpt-4o', input: 'hello', max_output_tokens: 600 }],
      ['/api/v1/text/generate', { prompt: 'hello', max_tokens: 600 }],
    ])('%s', async (path, body) => {
      const id = requestId();
      const res = await post(path, body, id);
      expect(res.status).toBe(200);
      const header = res.headers.get('x-conflux-credits');
      expect(header).toMatch(/^\d+(\.\d+)?$/);
      expect(Number(header)).toBeCloseTo(EXPECTED_CREDITS, 9);
      expect(Number(header)).toBe(await ledgerCredits(id));
    });

    it('keeps the header when an idempotent answer is replayed', async () => {
      const body = { model: 'gpt-4o', messages: MESSAGES, max_tokens: 600 };
      const key = { 'idempotency-key': `credits-${Date.now()}` };
      const id = requestId();
      const first = await post('/v1/chat/completions', body, id, key);
      const replay = await post('/v1/chat/completions', body, requestId(), key);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.headers.get('x-conflux-credits')).toBe(first.headers.get('x-conflux-credits'));
      expect(Number(replay.headers.get('x-conflux-credits'))).toBe(await ledgerCredits(id));
      expect(upstream.requestsTo('/chat/completions')).toHaveLength(1);
    });

    it('is documented on the operations', async () => {
      const doc = (await gw.api.get('/docs-json')).body as {
        paths: Record<string, { post: { responses: Record<string, { headers?: Record<string, unknown> }> } }>;
      };
      for (const path of ['/v1/chat/completions', '/v1/messages', '/v1/responses', '/api/v1/text/generate']) {
        expect({ path, headers: Object.keys(doc.paths[path].post.responses['200'].headers ?? {}) }).toEqual({
          path,
          headers: expect.arrayContaining(['X-Conflux-Credits']),
        });
      }
    });
  });

  describe('streams carry usage.credits in their final usage event', () => {
    it('OpenAI chat completions with stream_options.include_usage: the usage chunk', async () => {
      const id = requestId();
      const res = await post(
        '/v1/chat/completions',
        { model: 'gpt-4o', messages: MESSAGES, max_tokens: 600, stream: true, stream_options: { include_usage: true } },
        id,
      );
      expect(res.status).toBe(200);
      expect(res.headers.get('x-conflux-credits')).toBeNull();
      const chunks = dataOf(res.text);
      const last = chunks[chunks.length - 1] as { choices: unknown[]; usage: Record<string, number> };
      expect(last.choices).toEqual([]);
      expect(last.usage).toMatchObject({ prompt_tokens: 1000, completion_tokens: 500, credits: expect.any(Number) });
      expect(last.usage.credits).toBeCloseTo(EXPECTED_CREDITS, 9);
      expect(last.usage.credits).toBe(await ledgerCredits(id));
      // No other chunk has usage.
      expect(chunks.filter((c) => c.usage !== undefined)).toHaveLength(1);
    });

    it('OpenAI chat completions without include_usage: no usage chunk, as before', async () => {
      const res = await post(
        '/v1/chat/completions',
        { model: 'gpt-4o', messages: MESSAGES, stream: true },
        requestId(),
      );
      expect(res.status).toBe(200);
      expect(dataOf(res.text).filter((c) => c.usage !== undefined)).toEqual([]);
    });

    it('Anthropic messages: the message_delta usage', async () => {
      const id = requestId();
      const res = await post(
        '/v1/messages',
        { model: 'gpt-4o', messages: MESSAGES, max_tokens: 600, stream: true },
        id,
      );
      expect(res.status).toBe(200);
      const delta = dataOf(res.text).find((e) => e.type === 'message_delta') as { usage: Record<string, number> };
      expect(delta.usage).toMatchObject({ output_tokens: 500, credits: expect.any(Number) });
      expect(delta.usage.credits).toBe(await ledgerCredits(id));
      expect(delta.usage.credits).toBeCloseTo(EXPECTED_CREDITS, 9);
    });

    it('Responses: the usage of response.completed', async () => {
      const id = requestId();
      const res = await post('/v1/responses', { model: 'gpt-4o', input: 'hello', stream: true }, id);
      expect(res.status).toBe(200);
      const events = dataOf(res.text);
      const completed = events.find((e) => e.type === 'response.completed') as {
        response: { usage: Record<string, number> };
      };
      expect(completed.response.usage).toMatchObject({ input_tokens: 1000, output_tokens: 500 });
      expect(completed.response.usage.credits).toBe(await ledgerCredits(id));
      expect(completed.response.usage.credits).toBeCloseTo(EXPECTED_CREDITS, 9);
    });
  });
});
