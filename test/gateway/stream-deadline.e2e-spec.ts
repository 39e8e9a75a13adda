import { FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { Gateway, NO_RETRY, quotaOf, startGateway, waitForLedger } from './gateway-support';

/** The request deadline of these tests (GATEWAY_DEADLINE_MS), and the generous margin a stream may take past it. */
const DEADLINE_MS = 2_000;
const MARGIN_MS = 3_000;
/** What the upstreams trickle: 40 words, one every 200 ms, 8 s in all, far past the deadline. */
const WORDS = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
const CHUNK_DELAY_MS = 200;

const OPENAI_MODEL = 'gpt-4o-mini';
const ANTHROPIC_MODEL = 'claude-3-haiku-20240307';

interface Frame {
  event?: string;
  data: string;
}

interface StreamAnswer {
  status: number;
  requestId: string;
  frames: Frame[];
  /** From sending the request to the end of the body. */
  elapsedMs: number;
}

function parseSse(text: string): Frame[] {
  return text
    .split(/\n\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const frame: Frame = { data: '' };
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) frame.event = line.slice(7);
        else if (line.startsWith('data: ')) frame.data += line.slice(6);
      }
      return frame;
    });
}

/**
 * A trickling upstream under a short request deadline: every stream, whatever its dialect, ends at
 * the deadline with the dialect's error event, the upstream call is closed, what was streamed is
 * billed (counted from the text: the upstream never got to report its usage), and the hold is released.
 */
describe('streams end at their deadline', () => {
  let openaiFake: FakeUpstream;
  let anthropicFake: FakeUpstream;
  let gw: Gateway;

  beforeAll(async () => {
    openaiFake = await startFakeUpstream('openai', { models: [OPENAI_MODEL] });
    anthropicFake = await startFakeUpstream('anthropic', { models: [ANTHROPIC_MODEL] });
    gw = await startGateway({
      providers: [
        // timeout_ms (the bound of each wait between chunks) is well above the gap between chunks.
        {
          id: 'trickle-openai',
          kind: 'openai',
          base_url: openaiFake.baseUrl,
          models: [OPENAI_MODEL],
          timeout_ms: 1_500,
          retry: NO_RETRY,
        },
        {
          id: 'trickle-anthropic',
          kind: 'anthropic',
          base_url: anthropicFake.baseUrl,
          models: [ANTHROPIC_MODEL],
          timeout_ms: 1_500,
          retry: NO_RETRY,
        },
      ],
      env: { GATEWAY_DEADLINE_MS: String(DEADLINE_MS) },
    });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([openaiFake?.close(), anthropicFake?.close()]);
  });

  beforeEach(() => {
    for (const fake of [openaiFake, anthropicFake]) {
      fake.reset();
      fake.reply.text = WORDS;
      fake.reply.chunkDelayMs = CHUNK_DELAY_MS;
    }
  });

  async function stream(path: string, body: object): Promise<StreamAnswer> {
    const started = Date.now();
    const res = await fetch(`${gw.t.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': gw.apiKey },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    return {
      status: res.status,
      requestId: res.headers.get('x-request-id') ?? '',
      frames: parseSse(text),
      elapsedMs: Date.now() - started,
    };
  }

  /** The ledger row of the stream, its partial usage billed; the hold released; the upstream call closed. */
  async function expectBilledAndReleased(answer: StreamAnswer, fake: FakeUpstream, provider: string): Promise<void> {
    const rows = await waitForLedger(gw.t.db.url, (r) => r.length === 1, 'request_id = $1', [answer.requestId]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ provider, status: 'error', error_class: 'deadline_exceeded' });
    // Some words, not all of them: counted from the text received.
    expect(rows[0].output_tokens).toBeGreaterThan(0);
    expect(rows[0].output_tokens).toBeLessThan(40);
    expect(rows[0].input_tokens).toBeGreaterThan(0);
    expect(Number(rows[0].micro_credits)).toBeGreaterThan(0);

    const quota = await quotaOf(gw);
    expect(quota.reserved).toBe(0);
    expect(quota.spent).toBeGreaterThan(0);

    const upstreamCall = fake.requests.find((r) => r.method === 'POST');
    expect(upstreamCall?.answered).toBe(false);
    await expect(
      Promise.race([
        upstreamCall?.aborted.then(() => 'closed'),
        new Promise((resolve) => setTimeout(() => resolve('still open'), 2_000)),
      ]),
    ).resolves.toBe('closed');
  }

  it('OpenAI chat: an error event with code deadline_exceeded, no [DONE]', async () => {
    const answer = await stream('/v1/chat/completions', {
      model: OPENAI_MODEL,
      messages: [{ role: 'user', content: 'tell me everything' }],
      stream: true,
    });
    expect(answer.status).toBe(200);
    expect(answer.elapsedMs).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    const data = answer.frames.map((f) => f.data);
    expect(data).not.toContain('[DONE]');
    const deltas = data.slice(0, -1).map((d) => JSON.parse(d) as { choices: { delta: { content?: string } }[] });
    expect(deltas.map((d) => d.choices[0]?.delta.content ?? '').join('')).toMatch(/^word0 word1 /);
    expect(JSON.parse(data[data.length - 1])).toEqual({
      error: {
        message: expect.stringMatching(/deadline/),
        type: 'server_error',
        param: null,
        code: 'deadline_exceeded',
      },
    });
    await expectBilledAndReleased(answer, openaiFake, 'trickle-openai');
  });

  it('Anthropic messages: event: error with a timeout_error, no message_stop', async () => {
    const answer = await stream('/v1/messages', {
      model: ANTHROPIC_MODEL,
      max_tokens: 200,
      messages: [{ role: 'user', content: 'tell me everything' }],
      stream: true,
    });
    expect(answer.status).toBe(200);
    expect(answer.elapsedMs).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    const events = answer.frames.map((f) => f.event);
    expect(events).toContain('content_block_delta');
    expect(events).not.toContain('message_stop');
    const last = answer.frames[answer.frames.length - 1];
    expect(last.event).toBe('error');
    expect(JSON.parse(last.data)).toEqual({
      type: 'error',
      error: { type: 'timeout_error', message: expect.stringMatching(/deadline/) },
    });
    await expectBilledAndReleased(answer, anthropicFake, 'trickle-anthropic');
  });

  it('Responses: an error event with code deadline_exceeded, then response.failed', async () => {
    const answer = await stream('/v1/responses', {
      model: OPENAI_MODEL,
      input: 'tell me everything',
      stream: true,
    });
    expect(answer.status).toBe(200);
    expect(answer.elapsedMs).toBeLessThan(DEADLINE_MS + MARGIN_MS);
    const events = answer.frames.map((f) => f.event);
    expect(events).toContain('response.output_text.delta');
    expect(events).not.toContain('response.completed');
    expect(events.slice(-2)).toEqual(['error', 'response.failed']);
    const [error, failed] = answer.frames.slice(-2).map((f) => JSON.parse(f.data) as Record<string, unknown>);
    expect(error).toMatchObject({
      type: 'error',
      code: 'deadline_exceeded',
      message: expect.stringMatching(/deadline/),
    });
    expect(failed).toMatchObject({
      type: 'response.failed',
      response: { status: 'failed', error: { code: 'server_error', message: expect.stringMatching(/deadline/) } },
    });
    await expectBilledAndReleased(answer, openaiFake, 'trickle-openai');
  });
});

describe('GATEWAY_STREAM_DEADLINE_MS', () => {
  let fake: FakeUpstream;
  let gw: Gateway;
  const STREAM_DEADLINE_MS = 4_000;

  beforeAll(async () => {
    fake = await startFakeUpstream('openai', { models: [OPENAI_MODEL], reply: { chunkDelayMs: CHUNK_DELAY_MS } });
    fake.reply.text = WORDS;
    gw = await startGateway({
      providers: [{ id: 'trickle', kind: 'openai', base_url: fake.baseUrl, models: [OPENAI_MODEL], timeout_ms: 1_500 }],
      env: { GATEWAY_DEADLINE_MS: String(DEADLINE_MS), GATEWAY_STREAM_DEADLINE_MS: String(STREAM_DEADLINE_MS) },
    });
  });

  afterAll(async () => {
    await gw?.close();
    await fake?.close();
  });

  it('lets a stream run past the request deadline, up to its own', async () => {
    const started = Date.now();
    const res = await fetch(`${gw.t.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': gw.apiKey },
      body: JSON.stringify({ model: OPENAI_MODEL, messages: [{ role: 'user', content: 'go on' }], stream: true }),
      signal: AbortSignal.timeout(30_000),
    });
    const frames = parseSse(await res.text());
    const elapsedMs = Date.now() - started;
    // A timer never fires early: the stream cannot have been cut before its own deadline.
    expect(elapsedMs).toBeGreaterThanOrEqual(STREAM_DEADLINE_MS);
    expect(elapsedMs).toBeLessThan(STREAM_DEADLINE_MS + MARGIN_MS);
    expect(JSON.parse(frames[frames.length - 1].data)).toMatchObject({ error: { code: 'deadline_exceeded' } });
  });
});
