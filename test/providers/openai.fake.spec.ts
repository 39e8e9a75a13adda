import OpenAI from 'openai';
import { startFakeUpstream, type FakeUpstream, type OpenAIFakeToolCall } from '../support/fake-upstreams';
import { closeInstances, createInstance, declaration, drain } from './helpers';

const CALLS: OpenAIFakeToolCall[] = [
  { id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', name: 'get_weather', arguments: '{"location":"Paris, France"}' },
  { id: 'call_kL2q8bC7YqQSxWvt4nJd0aXo', name: 'get_weather', arguments: '{"location":"Bogotá, Colombia"}' },
];

const TOOL_CALLS = CALLS.map((c) => ({
  id: c.id,
  type: 'function',
  function: { name: c.name, arguments: c.arguments },
}));

/** The scripted openai fake, checked by the official SDK and used through a provider instance. */
describe('openai fake: parallel tool calls and usage details', () => {
  let fake: FakeUpstream;

  beforeAll(async () => {
    fake = await startFakeUpstream('openai', { apiKey: 'sk-fake' });
  });
  beforeEach(() => {
    fake.reset();
    fake.reply.text = '';
    fake.reply.openai = { toolCalls: CALLS, cachedTokens: 8, reasoningTokens: 4 };
  });
  afterEach(() => closeInstances());
  afterAll(() => fake.close());

  const sdk = () => new OpenAI({ baseURL: fake.baseUrl, apiKey: 'sk-fake', maxRetries: 0 });
  const params = {
    model: 'gpt-4o-mini',
    messages: [{ role: 'user' as const, content: 'Weather in Paris and Bogotá?' }],
  };

  it('answers the SDK with the scripted calls, as JSON and as a stream', async () => {
    const completion = await sdk().chat.completions.create(params);
    expect(completion.choices[0]).toMatchObject({
      message: { content: null, tool_calls: TOOL_CALLS },
      finish_reason: 'tool_calls',
    });
    expect(completion.usage).toMatchObject({
      prompt_tokens_details: { cached_tokens: 8 },
      completion_tokens_details: { reasoning_tokens: 4 },
    });

    const stream = sdk().chat.completions.stream({ ...params, stream_options: { include_usage: true } });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0]).toMatchObject({ message: { tool_calls: TOOL_CALLS }, finish_reason: 'tool_calls' });
    expect(final.usage).toMatchObject({ prompt_tokens_details: { cached_tokens: 8 } });
  });

  it('carries tool calls and usage details back through an instance, as JSON and as a stream', async () => {
    const { instance } = createInstance(declaration(fake, { api_key: 'sk-fake' }));
    const request = {
      model: 'gpt-4o-mini',
      messages: params.messages,
      tools: [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object' } } }],
      parallel_tool_calls: true,
      extra: { min_p: 0.05 },
    };
    const usage = { input_tokens: 12, output_tokens: 6, cached_input_tokens: 8, reasoning_tokens: 4 };
    expect(await instance.chat(request)).toMatchObject({ tool_calls: TOOL_CALLS, finish_reason: 'tool_calls', usage });
    expect(fake.requests[0].body).toMatchObject({ tools: request.tools, parallel_tool_calls: true, min_p: 0.05 });

    const { events, error } = await drain(instance.chatStream(request));
    expect(error).toBeUndefined();
    const calls = events.flatMap((e) => (e.type === 'tool_call' ? [e] : []));
    expect(calls.filter((c) => c.id !== undefined)).toEqual([
      { type: 'tool_call', index: 0, id: CALLS[0].id, name: 'get_weather', arguments: '' },
      { type: 'tool_call', index: 1, id: CALLS[1].id, name: 'get_weather', arguments: '' },
    ]);
    for (const [index, call] of CALLS.entries()) {
      const pieces = calls.filter((c) => c.index === index).map((c) => c.arguments);
      expect(pieces.join('')).toBe(call.arguments);
    }
    expect(events.slice(-2)).toEqual([
      { type: 'usage', usage },
      { type: 'finish', finish_reason: 'tool_calls' },
    ]);
  });
});
