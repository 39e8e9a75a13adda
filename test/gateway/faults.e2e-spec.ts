import OpenAI from 'openai';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { FAST_BREAKER as FAST, Gateway, NO_RETRY, startGateway, waitForLedger } from './gateway-support';

/**
 * Two upstreams: `primary` serves a free local model and `backup` gpt-4o-mini, so that
 * `auto` with cost_optimized always tries the primary first and falls back to the backup.
 */
/** Open long enough that a loaded machine still asks a few times before the half-open trial. */
const FAST_BREAKER = { ...FAST, reset_timeout_ms: 1_500 };

describe('fault injection: breakers, fallbacks and the ledger', () => {
  let primary: FakeUpstream;
  let backup: FakeUpstream;
  let gw: Gateway;
  let openai: OpenAI;

  beforeAll(async () => {
    primary = await startFakeUpstream('openai', { models: ['llama-3.1-8b'], reply: { text: 'from primary' } });
    backup = await startFakeUpstream('openai', { models: ['gpt-4o-mini'], reply: { text: 'from backup' } });
    gw = await startGateway({
      providers: [
        {
          id: 'a-primary',
          kind: 'openai',
          base_url: primary.baseUrl,
          models: ['llama-3.1-8b'],
          timeout_ms: 400,
          breaker: FAST_BREAKER,
          retry: NO_RETRY,
        },
        {
          id: 'b-backup',
          kind: 'openai',
          base_url: backup.baseUrl,
          models: ['gpt-4o-mini'],
          timeout_ms: 400,
          breaker: FAST_BREAKER,
          retry: NO_RETRY,
        },
      ],
      // A small price for the local model, so that billed streams show in credits too.
      models: [{ name: 'llama-3.1-8b', input_usd_per_1m: 0.01, output_usd_per_1m: 0.02 }],
      env: { GATEWAY_DEADLINE_MS: '5000' },
    });
    openai = new OpenAI({ apiKey: gw.apiKey, baseURL: `${gw.t.url}/v1`, maxRetries: 0 });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([primary?.close(), backup?.close()]);
  });

  beforeEach(async () => {
    primary.reset();
    backup.reset();
    primary.reply.text = 'from primary';
    backup.reply.text = 'from backup';
    // Let any breaker opened by a previous test pass its reset time and close on a healthy call.
    await new Promise((resolve) => setTimeout(resolve, FAST_BREAKER.reset_timeout_ms + 50));
  });

  async function ask(): Promise<{
    text: string | null;
    provider: string | null;
    attempts: string | null;
    requestId: string | null;
  }> {
    const { data, response } = await openai.chat.completions
      .create(
        { model: 'auto', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 },
        { headers: { 'X-Conflux-Strategy': 'cost_optimized' } },
      )
      .withResponse();
    return {
      text: data.choices[0].message.content,
      provider: response.headers.get('x-conflux-provider'),
      attempts: response.headers.get('x-conflux-attempts'),
      requestId: response.headers.get('x-request-id'),
    };
  }

  it.each([
    ['500', (f: FakeUpstream) => f.status(500, { error: { message: 'boom' } }), 'http_5xx'],
    ['hang (timeout)', (f: FakeUpstream) => f.hang(), 'timeout'],
    ['malformed JSON', (f: FakeUpstream) => f.malformed(), 'malformed'],
    ['429', (f: FakeUpstream) => f.status(429, { error: { message: 'slow down' } }), 'http_429'],
  ])('primary %s → the fallback serves, both attempts are in the ledger', async (_name, breakIt, errorClass) => {
    breakIt(primary);
    const res = await ask();
    expect(res).toMatchObject({ text: 'from backup', provider: 'b-backup', attempts: '2' });
    const rows = await waitForLedger(gw.t.db.url, (r) => r.length === 2, 'request_id = $1', [res.requestId]);
    expect(rows.map((r) => [r.attempt, r.provider, r.status, r.error_class])).toEqual([
      [1, 'a-primary', 'error', errorClass],
      [2, 'b-backup', 'success', null],
    ]);
    expect(rows[0].micro_credits).toBe('0');
  });

  it('exports fallbacks, billed tokens and credits as metrics', async () => {
    primary.status(500);
    await ask();
    const text = await (await fetch(`${gw.t.url}/metrics`)).text();
    expect(text).toMatch(
      /conflux_llm_fallbacks_total\{provider="a-primary",model="llama-3.1-8b",error_class="http_5xx"\} [1-9]/,
    );
    expect(text).toMatch(
      /conflux_llm_tokens_total\{provider="b-backup",model="gpt-4o-mini",direction="output",project="[^"]+"\} [1-9]/,
    );
    expect(text).toMatch(
      /conflux_llm_credits_total\{provider="b-backup",model="gpt-4o-mini",project="[^"]+"\} [0-9.e-]+/,
    );
    expect(text).toMatch(
      /conflux_upstream_requests_total\{provider="a-primary",model="llama-3.1-8b",outcome="http_5xx"\} [1-9]/,
    );
    expect(text).toMatch(/conflux_provider_errors_total\{provider="a-primary",kind="openai",class="http_5xx"\} [1-9]/);
    expect(text).toMatch(/conflux_ledger_buffer_depth \d+/);
  });

  it('a hanging upstream call is really aborted', async () => {
    primary.hang();
    await ask();
    const hung = primary.requestsTo('/chat/completions')[0];
    await expect(
      Promise.race([hung.aborted.then(() => 'aborted'), new Promise((r) => setTimeout(() => r('still open'), 2000))]),
    ).resolves.toBe('aborted');
  });

  it('opens the breaker after the configured failures, skips the instance, and closes it again after a half-open success', async () => {
    primary.status(503);
    for (let i = 0; i < 3; i += 1) expect((await ask()).provider).toBe('b-backup');
    const triedWhileFailing = primary.requestsTo('/chat/completions').length;
    // Open: the primary is skipped without being called.
    for (let i = 0; i < 3; i += 1) expect(await ask()).toMatchObject({ provider: 'b-backup', attempts: '1' });
    expect(primary.requestsTo('/chat/completions').length).toBe(triedWhileFailing);
    const metrics = await (await fetch(`${gw.t.url}/metrics`)).text();
    expect(metrics).toMatch(/circuit_breaker_state\{provider="a-primary",kind="openai"\} 2/);

    // After reset_timeout, the half-open trial goes to the (now healthy) primary and closes the breaker.
    primary.ok();
    await new Promise((resolve) => setTimeout(resolve, FAST_BREAKER.reset_timeout_ms + 100));
    expect(await ask()).toMatchObject({ provider: 'a-primary', attempts: '1' });
    expect(await ask()).toMatchObject({ provider: 'a-primary', attempts: '1' });
    const after = await (await fetch(`${gw.t.url}/metrics`)).text();
    expect(after).toMatch(/circuit_breaker_state\{provider="a-primary",kind="openai"\} 0/);
  });

  it("a client's own 4xx is answered as is, never retried elsewhere and never trips the breaker", async () => {
    primary.status(400, { error: { message: 'context too long' } });
    for (let i = 0; i < 6; i += 1) {
      await expect(ask()).rejects.toMatchObject({ status: 400 });
    }
    expect(backup.requestsTo('/chat/completions')).toHaveLength(0);
    primary.ok();
    expect(await ask()).toMatchObject({ provider: 'a-primary' });
  });

  it('all candidates failing answers 502 with the attempts, and releases the hold', async () => {
    primary.status(500);
    backup.status(500);
    const res = await fetch(`${gw.t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': gw.apiKey },
      body: JSON.stringify({
        model: 'auto',
        messages: [{ role: 'user', content: 'hi' }],
        max_tokens: 5,
        conflux_strategy: 'cost_optimized',
      }),
    });
    const body = (await res.json()) as {
      error: { code: string };
      details: { attempts: { provider: string; error_class: string }[] };
    };
    expect(res.status).toBe(502);
    expect(body.error.code).toBe('upstream_error');
    expect(body.details.attempts.map((a) => a.error_class)).toEqual(['http_5xx', 'http_5xx']);
    const quota = (await (
      await fetch(`${gw.t.url}/projects/${gw.projectId}/quota`, { headers: { 'x-api-key': gw.apiKey } })
    ).json()) as {
      daily: { reserved: number };
    };
    expect(quota.daily.reserved).toBe(0);
  });

  describe('streams', () => {
    async function streamText(): Promise<{ text: string; error: unknown }> {
      let text = '';
      try {
        const stream = await openai.chat.completions.create(
          { model: 'auto', messages: [{ role: 'user', content: 'stream' }], max_tokens: 50, stream: true },
          { headers: { 'X-Conflux-Strategy': 'cost_optimized' } },
        );
        for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
        return { text, error: null };
      } catch (error) {
        return { text, error };
      }
    }

    it('a failure before the first token falls through to the next candidate', async () => {
      primary.status(500);
      const { text, error } = await streamText();
      expect(error).toBeNull();
      expect(text).toBe('from backup');
    });

    it('a cut after the first token ends the stream with an error (no clean [DONE]) and bills what was streamed', async () => {
      primary.reply.text = 'one two three four five six';
      primary.cutStreamAfter(2);
      const { text, error } = await streamText();
      expect(error).toBeInstanceOf(Error);
      // The SDK raises the error event in OpenAI's own shape.
      expect(error).toMatchObject({ type: 'server_error', code: 'stream_cut' });
      expect(text.length).toBeGreaterThan(0);
      expect('one two three four five six'.startsWith(text)).toBe(true);
      expect(backup.requestsTo('/chat/completions')).toHaveLength(0);
      const rows = await waitForLedger(
        gw.t.db.url,
        (r) => r.length >= 1,
        "provider = 'a-primary' AND error_class = 'stream_cut'",
      );
      expect(rows.length).toBeGreaterThanOrEqual(1);
      expect(rows[rows.length - 1].output_tokens).toBeGreaterThan(0);
      expect(Number(rows[rows.length - 1].micro_credits)).toBeGreaterThan(0);
    });

    it('a client that disconnects mid-stream aborts the upstream call and is billed for what was produced', async () => {
      primary.reply.text = 'a b c d e f g h i j k l m n o p';
      primary.reply.chunkDelayMs = 100;
      const controller = new AbortController();
      const stream = await openai.chat.completions.create(
        { model: 'auto', messages: [{ role: 'user', content: 'long' }], max_tokens: 50, stream: true },
        { signal: controller.signal, headers: { 'X-Conflux-Strategy': 'cost_optimized' } },
      );
      let received = 0;
      try {
        for await (const chunk of stream) {
          if (chunk.choices[0]?.delta?.content) received += 1;
          if (received === 2) controller.abort();
        }
      } catch {
        // the abort surfaces as an error in the SDK
      }
      const upstreamCall = primary.requestsTo('/chat/completions')[0];
      await expect(
        Promise.race([
          upstreamCall.aborted.then(() => 'aborted'),
          new Promise((r) => setTimeout(() => r('still open'), 3000)),
        ]),
      ).resolves.toBe('aborted');
      const rows = await waitForLedger(gw.t.db.url, (r) => r.length >= 1, "error_class = 'client_disconnected'");
      expect(rows[rows.length - 1].output_tokens).toBeGreaterThan(0);
    });
  });
});
