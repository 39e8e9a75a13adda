import OpenAI from 'openai';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { Gateway, NO_RETRY, startGateway } from './gateway-support';
import { WEATHER } from './weather-tool';

const MODEL = 'claude-3-haiku-20240307';

const THOUGHT = {
  type: 'thinking' as const,
  thinking: 'The user wants the weather. I will look it up.',
  signature: 'EqQBCgIYAhIM',
};
const REDACTED = { type: 'redacted_thinking' as const, data: 'EmwKAhgBEgy3va3pzix' };
const OSLO = { type: 'tool_use' as const, id: 'toolu_01Oslo', name: 'get_weather', input: { city: 'Oslo' } };

/** The answer's thinking fields, which the OpenAI SDK's types do not name. */
interface Reasoning {
  reasoning_content?: string;
  thinking_blocks?: unknown[];
}

interface SentBody {
  max_tokens: number;
  thinking?: unknown;
  reasoning_effort?: unknown;
  messages: { role: string; content: unknown }[];
}

/**
 * OpenAI's reasoning_effort (Chat Completions) and reasoning.effort (Responses) served by an Anthropic
 * model as extended thinking, through the official OpenAI SDK to a fake Anthropic upstream: the budget
 * it is sent, the thinking it answers with (reasoning_content, thinking_blocks), and a tool loop that
 * sends the blocks back.
 */
describe('reasoning effort on an Anthropic upstream, through the OpenAI routes', () => {
  let fake: FakeUpstream;
  let gw: Gateway;
  let openai: OpenAI;

  beforeAll(async () => {
    fake = await startFakeUpstream('anthropic', { models: [MODEL] });
    gw = await startGateway({
      providers: [{ id: 'anthropic-a', kind: 'anthropic', base_url: fake.baseUrl, models: [MODEL], retry: NO_RETRY }],
    });
    openai = new OpenAI({ apiKey: gw.apiKey, baseURL: `${gw.t.url}/v1`, maxRetries: 0 });
  });

  afterAll(async () => {
    await gw?.close();
    await fake?.close();
  });

  beforeEach(() => fake.reset());

  const sent = (): SentBody[] => fake.requestsTo('/v1/messages').map((r) => r.body as SentBody);

  it('sends the effort as a thinking budget and answers with the thinking, then a tool loop sends it back', async () => {
    fake.reply.anthropic = { content: [THOUGHT, REDACTED, OSLO] };
    const ask: OpenAI.ChatCompletionMessageParam = { role: 'user', content: 'Weather in Oslo?' };
    const first = await openai.chat.completions.create({
      model: MODEL,
      max_completion_tokens: 4000,
      reasoning_effort: 'medium',
      tools: [WEATHER],
      messages: [ask],
    });
    expect(sent()[0]).toMatchObject({ max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 2048 } });
    expect(sent()[0]).not.toHaveProperty('reasoning_effort');
    const message = first.choices[0].message as OpenAI.ChatCompletionMessage & Reasoning;
    expect(first.choices[0].finish_reason).toBe('tool_calls');
    expect(message.reasoning_content).toBe(THOUGHT.thinking);
    expect(message.thinking_blocks).toEqual([THOUGHT, REDACTED]);
    expect(message.tool_calls?.[0]).toMatchObject({ id: OSLO.id, function: { name: 'get_weather' } });

    // The client sends the assistant message back as it came, with the tool's result.
    fake.reply.anthropic = { content: [{ type: 'text', text: 'It is 3°C in Oslo.' }] };
    const second = await openai.chat.completions.create({
      model: MODEL,
      max_completion_tokens: 4000,
      reasoning_effort: 'medium',
      tools: [WEATHER],
      messages: [ask, message, { role: 'tool', tool_call_id: OSLO.id, content: '3°C' }],
    });
    expect(second.choices[0].message.content).toBe('It is 3°C in Oslo.');
    expect(sent()[1].thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
    expect(sent()[1].messages[1]).toEqual({ role: 'assistant', content: [THOUGHT, REDACTED, OSLO] });
  });

  it('in a tool loop whose assistant turn lost its thinking, asks for none rather than be refused', async () => {
    fake.reply.anthropic = { content: [{ type: 'text', text: 'It is 3°C.' }] };
    const answer = await openai.chat.completions.create({
      model: MODEL,
      max_completion_tokens: 4000,
      reasoning_effort: 'medium',
      tools: [WEATHER],
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: OSLO.id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
          ],
        },
        { role: 'tool', tool_call_id: OSLO.id, content: '3°C' },
      ],
    });
    expect(answer.choices[0].message.content).toBe('It is 3°C.');
    expect(sent()[0]).not.toHaveProperty('thinking');
  });

  it('streams the thinking as reasoning_content pieces and each whole block as thinking_blocks', async () => {
    fake.reply.anthropic = { content: [THOUGHT, { type: 'text', text: 'Cold.' }] };
    const stream = await openai.chat.completions.create({
      model: MODEL,
      max_completion_tokens: 4000,
      reasoning_effort: 'low',
      stream: true,
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
    });
    let reasoning = '';
    let text = '';
    const blocks: unknown[] = [];
    for await (const chunk of stream) {
      const delta = (chunk.choices[0]?.delta ?? {}) as OpenAI.ChatCompletionChunk.Choice.Delta & Reasoning;
      reasoning += delta.reasoning_content ?? '';
      text += delta.content ?? '';
      blocks.push(...(delta.thinking_blocks ?? []));
    }
    expect(sent()[0]).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 1024 }, stream: true });
    expect(reasoning).toBe(THOUGHT.thinking);
    expect(blocks).toEqual([THOUGHT]);
    expect(text).toBe('Cold.');
  });

  it('refuses a max_tokens not above the budget with a 400 naming both, before any upstream call', async () => {
    const err = await openai.chat.completions
      .create({
        model: MODEL,
        max_completion_tokens: 1000,
        reasoning_effort: 'low',
        messages: [{ role: 'user', content: 'Hi' }],
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as Error).message).toMatch(
      /max_tokens \(1000\) must be above the 1024 thinking tokens of reasoning_effort low/,
    );
    expect(sent()).toHaveLength(0);
  });

  it('refuses malformed thinking_blocks with a 400 naming the field', async () => {
    const res = await gw.api.post(
      '/v1/chat/completions',
      {
        model: MODEL,
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Hello', thinking_blocks: [{ type: 'thinking', signature: 7 }] },
          { role: 'user', content: 'Again' },
        ],
      },
      { apiKey: gw.apiKey },
    );
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'validation_failed', param: 'messages.1.thinking_blocks' } });
    expect(sent()).toHaveLength(0);
  });

  it('answers /v1/responses with reasoning items, and a tool loop sending them back goes on thinking', async () => {
    fake.reply.anthropic = { content: [THOUGHT, REDACTED, OSLO] };
    const tools: OpenAI.Responses.FunctionTool[] = [
      { type: 'function', name: 'get_weather', parameters: WEATHER.function.parameters ?? null, strict: true },
    ];
    const first = await openai.responses.create({
      model: MODEL,
      max_output_tokens: 4000,
      reasoning: { effort: 'medium', summary: 'auto' },
      include: ['reasoning.encrypted_content'],
      tools,
      input: 'Weather in Oslo?',
    });
    expect(first.reasoning).toMatchObject({ effort: 'medium', summary: 'auto' });
    expect(first.output.map((item) => item.type)).toEqual(['reasoning', 'reasoning', 'function_call']);
    const [thought, redacted] = first.output as OpenAI.Responses.ResponseReasoningItem[];
    expect(thought.summary).toEqual([{ type: 'summary_text', text: THOUGHT.thinking }]);
    expect(thought.encrypted_content).toEqual(expect.any(String));
    expect(redacted.summary).toEqual([]);
    expect(JSON.stringify(first)).not.toContain(THOUGHT.signature);

    fake.reply.anthropic = { content: [{ type: 'text', text: 'It is 3°C in Oslo.' }] };
    const call = first.output[2] as OpenAI.Responses.ResponseFunctionToolCall;
    const second = await openai.responses.create({
      model: MODEL,
      max_output_tokens: 4000,
      reasoning: { effort: 'medium' },
      tools,
      input: [
        { role: 'user', content: 'Weather in Oslo?' },
        ...(first.output as OpenAI.Responses.ResponseInputItem[]),
        { type: 'function_call_output', call_id: call.call_id, output: '3°C' },
      ],
    });
    expect(second.output_text).toBe('It is 3°C in Oslo.');
    expect(second.output.map((item) => item.type)).toEqual(['message']);
    expect(sent()[1].thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
    expect(sent()[1].messages[1]).toEqual({ role: 'assistant', content: [THOUGHT, REDACTED, OSLO] });
  });

  it('streams reasoning items with their summary events, as the SDK assembles them', async () => {
    fake.reply.anthropic = { content: [THOUGHT, { type: 'text', text: 'Cold.' }] };
    const events: string[] = [];
    const stream = openai.responses.stream({
      model: MODEL,
      max_output_tokens: 4000,
      reasoning: { effort: 'low', summary: 'detailed' },
      input: 'Weather in Oslo?',
    });
    stream.on('event', (event) => events.push(event.type));
    const final = await stream.finalResponse();
    expect(final.output_text).toBe('Cold.');
    expect(final.output[0]).toMatchObject({
      type: 'reasoning',
      summary: [{ type: 'summary_text', text: THOUGHT.thinking }],
      encrypted_content: expect.any(String),
    });
    expect(events).toEqual(
      expect.arrayContaining([
        'response.reasoning_summary_part.added',
        'response.reasoning_summary_text.delta',
        'response.reasoning_summary_text.done',
        'response.reasoning_summary_part.done',
      ]),
    );
    expect(events.indexOf('response.reasoning_summary_text.done')).toBeLessThan(
      events.indexOf('response.output_text.delta'),
    );
    // The streamed item can be sent back as the JSON answer's can.
    const reasoning = final.output[0] as OpenAI.Responses.ResponseReasoningItem;
    fake.reply.anthropic = { content: [{ type: 'text', text: 'Still cold.' }] };
    await openai.responses.create({
      model: MODEL,
      max_output_tokens: 4000,
      input: [
        { role: 'user', content: 'Weather in Oslo?' },
        reasoning,
        { role: 'assistant', content: 'Cold.' },
        { role: 'user', content: 'And now?' },
      ],
    });
    expect(sent()[1].messages[1]).toEqual({
      role: 'assistant',
      content: [THOUGHT, { type: 'text', text: 'Cold.' }],
    });
  });

  it('leaves out reasoning items it cannot give back, and thinking that no text or call followed', async () => {
    fake.reply.anthropic = { content: [{ type: 'text', text: 'Fine.' }] };
    const sealed = (part: object): string =>
      `cfx-thinking.v1.${Buffer.from(JSON.stringify(part)).toString('base64url')}`;
    await openai.responses.create({
      model: MODEL,
      max_output_tokens: 4000,
      input: [
        { role: 'user', content: 'One?' },
        { type: 'reasoning', id: 'rs_other', summary: [], encrypted_content: 'gAAAAABo-another-servers' },
        { type: 'reasoning', id: 'rs_bad', summary: [], encrypted_content: sealed({ type: 'thinking', thinking: 5 }) },
        { role: 'assistant', content: 'First.' },
        { role: 'user', content: 'Two?' },
        { type: 'reasoning', id: 'rs_alone', summary: [], encrypted_content: sealed(THOUGHT) },
        { role: 'user', content: 'Three?' },
      ],
    });
    expect(sent()[0].messages).toEqual([
      { role: 'user', content: 'One?' },
      { role: 'assistant', content: 'First.' },
      { role: 'user', content: 'Two?' },
      { role: 'user', content: 'Three?' },
    ]);
  });

  it('refuses include values it cannot honour, and malformed reasoning items, with a 400', async () => {
    const logprobs = await gw.api.post(
      '/v1/responses',
      { model: MODEL, input: 'Hi', include: ['message.output_text.logprobs'] },
      { apiKey: gw.apiKey },
    );
    expect(logprobs.status).toBe(400);
    expect(JSON.stringify(logprobs.body)).toContain('message.output_text.logprobs');
    const item = await gw.api.post(
      '/v1/responses',
      { model: MODEL, input: [{ type: 'reasoning', summary: 'thought' }] },
      { apiKey: gw.apiKey },
    );
    expect(item.status).toBe(400);
    expect(JSON.stringify(item.body)).toContain('reasoning needs summary');
    expect(sent()).toHaveLength(0);
  });

  it('takes reasoning.effort on /v1/responses the same way', async () => {
    fake.reply.anthropic = { content: [THOUGHT, { type: 'text', text: 'Cold.' }] };
    const response = await openai.responses.create({
      model: MODEL,
      max_output_tokens: 4000,
      reasoning: { effort: 'medium' },
      input: 'Weather in Oslo?',
    });
    expect(response.output_text).toBe('Cold.');
    expect(sent()[0]).toMatchObject({ max_tokens: 4000, thinking: { type: 'enabled', budget_tokens: 2048 } });
  });
});

/**
 * The same effort on an Ollama upstream: Ollama's `think` (a level, as Ollama's own OpenAI endpoint sends
 * it), and its `message.thinking` answered as reasoning_content, streamed too, and given back.
 */
describe('reasoning effort on an Ollama upstream, through the OpenAI routes', () => {
  const OLLAMA_MODEL = 'llama3.1:8b';
  const THINKING = 'Two and two make four.';
  let fake: FakeUpstream;
  let gw: Gateway;
  let openai: OpenAI;

  beforeAll(async () => {
    fake = await startFakeUpstream('ollama', { models: [OLLAMA_MODEL] });
    gw = await startGateway({
      providers: [{ id: 'ollama-a', kind: 'ollama', base_url: fake.baseUrl, models: [OLLAMA_MODEL], retry: NO_RETRY }],
    });
    openai = new OpenAI({ apiKey: gw.apiKey, baseURL: `${gw.t.url}/v1`, maxRetries: 0 });
  });

  afterAll(async () => {
    await gw?.close();
    await fake?.close();
  });

  beforeEach(() => fake.reset());

  const chats = (): { think?: unknown; messages: Record<string, unknown>[] }[] =>
    fake.requestsTo('/api/chat').map((r) => r.body as { think?: unknown; messages: Record<string, unknown>[] });

  it('sends the effort as think and answers with the thinking, which a next turn gives back', async () => {
    fake.reply.text = 'Four.';
    fake.reply.ollama = { thinking: THINKING };
    const first = await openai.chat.completions.create({
      model: OLLAMA_MODEL,
      reasoning_effort: 'high',
      messages: [{ role: 'user', content: '2+2?' }],
    });
    expect(chats()[0].think).toBe('high');
    const message = first.choices[0].message as OpenAI.ChatCompletionMessage & Reasoning;
    expect(message.content).toBe('Four.');
    expect(message.reasoning_content).toBe(THINKING);
    await openai.chat.completions.create({
      model: OLLAMA_MODEL,
      reasoning_effort: 'none',
      messages: [{ role: 'user', content: '2+2?' }, message, { role: 'user', content: 'And 3+3?' }],
    });
    expect(chats()[1].think).toBe(false);
    expect(chats()[1].messages[1]).toEqual({ role: 'assistant', content: 'Four.', thinking: THINKING });
  });

  it('streams the thinking as reasoning_content pieces before the answer', async () => {
    fake.reply.text = 'Four.';
    fake.reply.ollama = { thinking: THINKING };
    const stream = await openai.chat.completions.create({
      model: OLLAMA_MODEL,
      reasoning_effort: 'low',
      stream: true,
      messages: [{ role: 'user', content: '2+2?' }],
    });
    let reasoning = '';
    let text = '';
    let textBeforeReasoningEnded = false;
    for await (const chunk of stream) {
      const delta = (chunk.choices[0]?.delta ?? {}) as OpenAI.ChatCompletionChunk.Choice.Delta & Reasoning;
      if (delta.reasoning_content && text !== '') textBeforeReasoningEnded = true;
      reasoning += delta.reasoning_content ?? '';
      text += delta.content ?? '';
    }
    expect(chats()[0].think).toBe('low');
    expect(reasoning).toBe(THINKING);
    expect(text).toBe('Four.');
    expect(textBeforeReasoningEnded).toBe(false);
  });
});
