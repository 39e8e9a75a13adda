import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { ANSWER_TOOL_NAME } from '../../src/providers/kinds/anthropic/anthropic.mapper';
import { FakeKind, FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { Gateway, NO_RETRY, startGateway } from './gateway-support';
import { WEATHER, WEATHER_TOOL } from './weather-tool';

/** The model each fake serves, as the clients name it. */
const MODEL: Record<FakeKind, string> = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-3-haiku-20240307',
  ollama: 'llama3.1:8b',
};

interface Call {
  id: string;
  name: string;
  input: Record<string, unknown>;
}

const OSLO: Call = { id: 'toolu_01Oslo', name: 'get_weather', input: { city: 'Oslo' } };
const ROME: Call = { id: 'toolu_02Rome', name: 'get_weather', input: { city: 'Rome' } };

/**
 * Tool calling and structured output from both official SDKs through Conflux to upstreams of
 * every kind: the client speaks one dialect, the fake upstream checks what its own kind received.
 */
describe('tool calling and structured output, both SDKs, every upstream kind', () => {
  const fakes = {} as Record<FakeKind, FakeUpstream>;
  let gw: Gateway;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    for (const kind of ['openai', 'anthropic', 'ollama'] as const) {
      fakes[kind] = await startFakeUpstream(kind, { models: [MODEL[kind]] });
    }
    gw = await startGateway({
      providers: (['openai', 'anthropic', 'ollama'] as const).map((kind) => ({
        id: `${kind}-a`,
        kind,
        base_url: fakes[kind].baseUrl,
        models: [MODEL[kind]],
        retry: NO_RETRY,
      })),
    });
    openai = new OpenAI({ apiKey: gw.apiKey, baseURL: `${gw.t.url}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: gw.apiKey, baseURL: gw.t.url, maxRetries: 0 });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all(Object.values(fakes).map((fake) => fake.close()));
  });

  beforeEach(() => Object.values(fakes).forEach((fake) => fake.reset()));

  /** The next answers of `kind`'s fake are these tool calls (Ollama's without ids, as Ollama sends them). */
  function scriptCalls(kind: FakeKind, calls: Call[]): void {
    const reply = fakes[kind].reply;
    reply.text = '';
    if (kind === 'openai') {
      reply.openai = { toolCalls: calls.map((c) => ({ id: c.id, name: c.name, arguments: JSON.stringify(c.input) })) };
    } else if (kind === 'anthropic') {
      reply.anthropic = { content: calls.map((c) => ({ type: 'tool_use', ...c })) };
    } else {
      reply.ollama = { toolCalls: calls.map((c) => ({ name: c.name, arguments: c.input })) };
    }
  }

  /** The next answers of `kind`'s fake are plain text. */
  function scriptText(kind: FakeKind, text: string): void {
    const reply = fakes[kind].reply;
    reply.text = text;
    reply.openai = undefined;
    reply.anthropic = undefined;
    reply.ollama = undefined;
  }

  /** The chat bodies `kind`'s fake received. */
  function sent(kind: FakeKind): Record<string, unknown>[] {
    return fakes[kind].requests.filter((r) => r.method === 'POST').map((r) => r.body as Record<string, unknown>);
  }

  /** The id the client gets for a scripted call: the upstream's own, or a generated one for Ollama. */
  function expectedId(kind: FakeKind, call: Call): string | RegExp {
    return kind === 'ollama' ? /^call_\w+$/ : call.id;
  }

  /** What `kind`'s upstream must receive for a turn [user, assistant tool call `id`, its result]. */
  function roundTripSeenBy(kind: FakeKind, id: string, result: string): unknown[] {
    const user = { role: 'user', content: 'Weather in Oslo?' };
    switch (kind) {
      case 'openai':
        return [
          user,
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } }],
          },
          { role: 'tool', tool_call_id: id, content: result },
        ];
      case 'anthropic':
        return [
          user,
          { role: 'assistant', content: [{ type: 'tool_use', id, name: 'get_weather', input: { city: 'Oslo' } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: result }] },
        ];
      case 'ollama':
        // Ollama has no call ids: the result names its function, found from the id.
        return [
          user,
          {
            role: 'assistant',
            content: '',
            tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Oslo' } } }],
          },
          { role: 'tool', content: result, tool_name: 'get_weather' },
        ];
    }
  }

  describe.each(['anthropic', 'ollama'] as const)('openai SDK → %s upstream', (kind) => {
    it('a tool call (JSON): the tools in the kind’s format, the call with its id', async () => {
      scriptCalls(kind, [OSLO]);
      const completion = await openai.chat.completions.create({
        model: MODEL[kind],
        messages: [{ role: 'user', content: 'Weather in Oslo?' }],
        tools: [WEATHER],
        tool_choice: 'auto',
      });
      const choice = completion.choices[0];
      expect(choice.finish_reason).toBe('tool_calls');
      expect(choice.message.content).toBeNull();
      expect(choice.message.tool_calls).toEqual([
        {
          id: expect.stringMatching(expectedId(kind, OSLO)),
          type: 'function',
          function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
        },
      ]);
      const body = sent(kind)[0];
      if (kind === 'anthropic') {
        expect(body.tools).toEqual([
          { name: 'get_weather', description: WEATHER_TOOL.description, input_schema: WEATHER_TOOL.input_schema },
        ]);
        expect(body.tool_choice).toEqual({ type: 'auto' });
      } else {
        expect(body.tools).toEqual([WEATHER]);
      }
    });

    it('parallel tool calls streamed as delta.tool_calls fragments', async () => {
      scriptCalls(kind, [OSLO, ROME]);
      const stream = openai.chat.completions.stream({
        model: MODEL[kind],
        messages: [{ role: 'user', content: 'Weather in Oslo and Rome?' }],
        tools: [WEATHER],
        stream_options: { include_usage: true },
      });
      const final = await stream.finalChatCompletion();
      expect(final.choices[0].finish_reason).toBe('tool_calls');
      const calls = final.choices[0].message.tool_calls ?? [];
      expect(calls.map((c) => [c.function.name, c.function.arguments])).toEqual([
        ['get_weather', '{"city":"Oslo"}'],
        ['get_weather', '{"city":"Rome"}'],
      ]);
      expect(calls[0].id).toMatch(expectedId(kind, OSLO));
      expect(calls[1].id).toMatch(expectedId(kind, ROME));
      expect(calls[0].id).not.toBe(calls[1].id);
      expect(final.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 6 });
    });

    it('a full round trip: the id the client got is the id it sends back, the upstream gets its own id or name', async () => {
      scriptCalls(kind, [OSLO]);
      const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Oslo?' }];
      const first = await openai.chat.completions.create({ model: MODEL[kind], messages, tools: [WEATHER] });
      const call = first.choices[0].message.tool_calls![0];
      messages.push(first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: '{"temp":3}' });
      scriptText(kind, 'It is 3°C in Oslo.');
      const second = await openai.chat.completions.create({ model: MODEL[kind], messages, tools: [WEATHER] });
      expect(second.choices[0].message.content).toBe('It is 3°C in Oslo.');
      expect(second.choices[0].finish_reason).toBe('stop');
      expect(sent(kind)[1].messages).toEqual(roundTripSeenBy(kind, call.id, '{"temp":3}'));
    });

    it('json_schema output: the JSON answer comes back as message content', async () => {
      const schema = {
        type: 'object',
        properties: { city: { type: 'string' }, temp: { type: 'number' } },
        required: ['city', 'temp'],
        additionalProperties: false,
      };
      if (kind === 'anthropic') {
        fakes.anthropic.reply.anthropic = {
          content: [{ type: 'tool_use', id: 'toolu_ans', name: ANSWER_TOOL_NAME, input: { city: 'Oslo', temp: 3 } }],
        };
      } else {
        scriptText(kind, '{"city":"Oslo","temp":3}');
      }
      const completion = await openai.chat.completions.create({
        model: MODEL[kind],
        messages: [{ role: 'user', content: 'Weather in Oslo as JSON.' }],
        response_format: { type: 'json_schema', json_schema: { name: 'weather', strict: true, schema } },
      });
      expect(JSON.parse(completion.choices[0].message.content!)).toEqual({ city: 'Oslo', temp: 3 });
      expect(completion.choices[0].message.tool_calls).toBeUndefined();
      expect(completion.choices[0].finish_reason).toBe('stop');
      const body = sent(kind)[0];
      if (kind === 'anthropic') {
        // A forced tool whose input is the answer.
        expect(body.tools).toEqual([expect.objectContaining({ name: ANSWER_TOOL_NAME, input_schema: schema })]);
        expect(body.tool_choice).toEqual({ type: 'tool', name: ANSWER_TOOL_NAME });
      } else {
        expect(body.format).toEqual(schema);
      }
    });
  });

  describe.each(['openai', 'anthropic', 'ollama'] as const)('anthropic SDK → %s upstream', (kind) => {
    it('tool_use streamed as input_json_delta, then a tool_result round trip with the same id', async () => {
      scriptCalls(kind, [OSLO]);
      const stream = anthropic.messages.stream({
        model: MODEL[kind],
        max_tokens: 200,
        messages: [{ role: 'user', content: 'Weather in Oslo?' }],
        tools: [WEATHER_TOOL],
      });
      const partials: string[] = [];
      stream.on('inputJson', (partial) => partials.push(partial));
      const first = await stream.finalMessage();
      expect(first.stop_reason).toBe('tool_use');
      expect(first.content).toEqual([
        {
          type: 'tool_use',
          id: expect.stringMatching(expectedId(kind, OSLO)),
          name: 'get_weather',
          input: { city: 'Oslo' },
        },
      ]);
      expect(partials.join('')).toBe('{"city":"Oslo"}');
      const use = first.content[0] as Anthropic.ToolUseBlock;

      scriptText(kind, 'It is 3°C.');
      const second = await anthropic.messages.create({
        model: MODEL[kind],
        max_tokens: 200,
        tools: [WEATHER_TOOL],
        messages: [
          { role: 'user', content: 'Weather in Oslo?' },
          { role: 'assistant', content: first.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '3°C' }] },
        ],
      });
      expect(second.content).toEqual([{ type: 'text', text: 'It is 3°C.' }]);
      expect(second.stop_reason).toBe('end_turn');
      expect(sent(kind)[1].messages).toEqual(roundTripSeenBy(kind, use.id, '3°C'));
    });
  });

  it('anthropic SDK → anthropic upstream: thinking blocks and cache_control reach it intact', async () => {
    fakes.anthropic.reply.anthropic = {
      content: [
        { type: 'thinking', thinking: 'It is cold there.', signature: 'EqQBCgIYAhIM' },
        { type: 'text', text: 'It is 3°C in Oslo.' },
      ],
      cacheRead: 900,
      cacheWrite: 100,
    };
    const system: Anthropic.TextBlockParam[] = [
      { type: 'text', text: 'You are a weather bot.' },
      { type: 'text', text: 'A long, cached preamble.', cache_control: { type: 'ephemeral' } },
    ];
    const tool: Anthropic.Tool = { ...WEATHER_TOOL, cache_control: { type: 'ephemeral' } };
    const assistant: Anthropic.ContentBlockParam[] = [
      { type: 'thinking', thinking: 'I need the weather.', signature: 'ErUBCkYIAxgCIkD' },
      { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix' },
      { type: 'tool_use', id: 'toolu_01Oslo', name: 'get_weather', input: { city: 'Oslo' } },
    ];
    const result: Anthropic.ContentBlockParam = {
      type: 'tool_result',
      tool_use_id: 'toolu_01Oslo',
      content: [{ type: 'text', text: '3°C', cache_control: { type: 'ephemeral' } }],
    };
    const message = await anthropic.messages.create({
      model: MODEL.anthropic,
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      system,
      tools: [tool],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather in Oslo?', cache_control: { type: 'ephemeral' } }] },
        { role: 'assistant', content: assistant },
        { role: 'user', content: [result] },
      ],
    });
    expect(message.content).toEqual([
      { type: 'thinking', thinking: 'It is cold there.', signature: 'EqQBCgIYAhIM' },
      { type: 'text', text: 'It is 3°C in Oslo.' },
    ]);
    expect(message.usage).toMatchObject({
      input_tokens: 12,
      cache_read_input_tokens: 900,
      cache_creation_input_tokens: 100,
    });
    expect(sent('anthropic')[0]).toMatchObject({
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      system,
      tools: [tool],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Weather in Oslo?', cache_control: { type: 'ephemeral' } }] },
        { role: 'assistant', content: assistant },
        { role: 'user', content: [result] },
      ],
    });
  });

  it('anthropic SDK streaming ← anthropic upstream: thinking, text and tool_use blocks and cache usage come back intact', async () => {
    const blocks = [
      { type: 'thinking' as const, thinking: 'I should look it up.', signature: 'EqQBCgIYAhIM' },
      { type: 'redacted_thinking' as const, data: 'EmwKAhgBEgy3' },
      { type: 'text' as const, text: 'Checking the weather.' },
      { type: 'tool_use' as const, ...OSLO },
      { type: 'tool_use' as const, ...ROME },
    ];
    fakes.anthropic.reply.anthropic = { content: blocks, cacheRead: 900, cacheWrite: 100 };
    const final = await anthropic.messages
      .stream({
        model: MODEL.anthropic,
        max_tokens: 2048,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        tools: [WEATHER_TOOL],
        messages: [{ role: 'user', content: 'Weather in Oslo and Rome?' }],
      })
      .finalMessage();
    expect(final.content).toEqual(blocks);
    expect(final.stop_reason).toBe('tool_use');
    expect(final.usage).toMatchObject({
      input_tokens: 12,
      output_tokens: 6,
      cache_read_input_tokens: 900,
      cache_creation_input_tokens: 100,
    });
  });
});
