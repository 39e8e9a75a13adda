import Anthropic from '@anthropic-ai/sdk';
import { startFakeUpstream, type AnthropicFakeBlock, type FakeUpstream } from '../support/fake-upstreams';
import { ANSWER_TOOL_NAME } from '../../src/providers/kinds/anthropic/anthropic.mapper';
import { closeInstances, createInstance, declaration, drain, textOf } from './helpers';

const BLOCKS: AnthropicFakeBlock[] = [
  { type: 'thinking', thinking: 'I should look it up.', signature: 'EqQBCgIYAhIM' },
  { type: 'redacted_thinking', data: 'EmwKAhgBEgy3' },
  { type: 'text', text: 'Checking the weather.' },
  { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { location: 'Paris', unit: 'celsius' } },
];

/** The scripted anthropic fake, checked by the official SDK and used through a provider instance. */
describe('anthropic fake: tool use, thinking and prompt-cache usage', () => {
  let fake: FakeUpstream;

  beforeAll(async () => {
    fake = await startFakeUpstream('anthropic', { apiKey: 'sk-ant-fake' });
  });
  beforeEach(() => {
    fake.reset();
    fake.reply.anthropic = { content: BLOCKS, cacheRead: 100, cacheWrite: 20 };
  });
  afterEach(() => closeInstances());
  afterAll(() => fake.close());

  const sdk = () => new Anthropic({ baseURL: fake.origin, apiKey: 'sk-ant-fake', maxRetries: 0 });
  const params = {
    model: 'claude-3-5-haiku-20241022',
    max_tokens: 100,
    messages: [{ role: 'user' as const, content: 'Weather in Paris?' }],
  };

  it('answers the SDK with the scripted blocks, as JSON and as a stream', async () => {
    const message = await sdk().messages.create(params);
    expect(message.content).toEqual(BLOCKS);
    expect(message.stop_reason).toBe('tool_use');
    expect(message.usage).toMatchObject({ cache_read_input_tokens: 100, cache_creation_input_tokens: 20 });

    const streamed = await sdk().messages.stream(params).finalMessage();
    expect(streamed.content).toEqual(BLOCKS);
    expect(streamed.stop_reason).toBe('tool_use');
    expect(streamed.usage).toMatchObject({ input_tokens: 12, output_tokens: 6, cache_read_input_tokens: 100 });
  });

  it('carries tools to the upstream and tool calls, thinking and cache usage back', async () => {
    const { instance } = createInstance(declaration(fake, { api_key: 'sk-ant-fake' }));
    const result = await instance.chat({
      model: 'claude-3-5-haiku-20241022',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
      tool_choice: 'required',
      max_output_tokens: 8192,
    });
    expect(fake.requests[0].body).toMatchObject({
      max_tokens: 8192,
      tools: [{ name: 'get_weather', input_schema: { type: 'object' } }],
      tool_choice: { type: 'any' },
    });
    expect(result).toMatchObject({
      text: 'Checking the weather.',
      tool_calls: [
        {
          id: 'toolu_01A',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"location":"Paris","unit":"celsius"}' },
        },
      ],
      thinking: [
        { type: 'thinking', thinking: 'I should look it up.', signature: 'EqQBCgIYAhIM' },
        { type: 'redacted_thinking', data: 'EmwKAhgBEgy3' },
      ],
      finish_reason: 'tool_calls',
      usage: { input_tokens: 132, output_tokens: 6, cached_input_tokens: 100, cache_write_input_tokens: 20 },
    });
  });

  it('streams thinking and two tool calls out of the assembler: calls 0 and 1, cache usage, finish tool_calls', async () => {
    fake.reply.anthropic = {
      content: [...BLOCKS, { type: 'tool_use', id: 'toolu_01B', name: 'get_time', input: { zone: 'Europe/Paris' } }],
      cacheRead: 100,
      cacheWrite: 20,
    };
    const { instance } = createInstance(declaration(fake, { api_key: 'sk-ant-fake' }));
    const { events, error } = await drain(
      instance.chatStream({
        model: 'claude-3-5-haiku-20241022',
        messages: [{ role: 'user', content: 'Weather and time in Paris?' }],
        thinking: { type: 'enabled', budget_tokens: 1024 },
      }),
    );
    expect(error).toBeUndefined();
    expect(fake.requests[0].body).toMatchObject({ thinking: { type: 'enabled', budget_tokens: 1024 } });
    // Anthropic numbers content blocks (the tool_use blocks are 3 and 4); the calls are 0 and 1.
    const calls = events.filter((e) => e.type === 'tool_call');
    expect(calls.filter((c) => c.id !== undefined)).toEqual([
      { type: 'tool_call', index: 0, id: 'toolu_01A', name: 'get_weather', arguments: '' },
      { type: 'tool_call', index: 1, id: 'toolu_01B', name: 'get_time', arguments: '' },
    ]);
    const argumentsOf = (index: number): string => calls.map((c) => (c.index === index ? c.arguments : '')).join('');
    expect(JSON.parse(argumentsOf(0))).toEqual({ location: 'Paris', unit: 'celsius' });
    expect(JSON.parse(argumentsOf(1))).toEqual({ zone: 'Europe/Paris' });
    const thinking = events.filter((e) => e.type === 'thinking');
    expect(thinking.map((t) => t.thinking ?? '').join('')).toBe('I should look it up.');
    expect(thinking).toContainEqual({ type: 'thinking', signature: 'EqQBCgIYAhIM' });
    expect(thinking).toContainEqual({ type: 'thinking', redacted: 'EmwKAhgBEgy3' });
    expect(textOf(events)).toBe('Checking the weather.');
    expect(events.slice(-2)).toEqual([
      {
        type: 'usage',
        usage: { input_tokens: 132, output_tokens: 6, cached_input_tokens: 100, cache_write_input_tokens: 20 },
      },
      { type: 'finish', finish_reason: 'tool_calls' },
    ]);
  });

  it('streams a structured answer as text', async () => {
    fake.reply.anthropic = {
      content: [{ type: 'tool_use', id: 'toolu_02', name: ANSWER_TOOL_NAME, input: { city: 'Paris', temp_c: 21 } }],
    };
    const { instance } = createInstance(declaration(fake, { api_key: 'sk-ant-fake' }));
    const { events, error } = await drain(
      instance.chatStream({
        model: 'claude-3-5-haiku-20241022',
        messages: [{ role: 'user', content: 'Weather in Paris, as JSON' }],
        response_format: { type: 'json_schema', json_schema: { name: 'weather', schema: { type: 'object' } } },
      }),
    );
    expect(error).toBeUndefined();
    expect(fake.requests[0].body).toMatchObject({ tool_choice: { type: 'tool', name: ANSWER_TOOL_NAME } });
    expect(JSON.parse(textOf(events))).toEqual({ city: 'Paris', temp_c: 21 });
    expect(events.at(-1)).toEqual({ type: 'finish', finish_reason: 'stop' });
  });
});
