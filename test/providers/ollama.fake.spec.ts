import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstreams';
import { closeInstances, createInstance, declaration, drain } from './helpers';

const CALLS = [
  { name: 'get_temperature', arguments: { city: 'New York' } },
  { name: 'get_temperature', arguments: { city: 'Toronto' } },
];

/** The scripted ollama fake on the wire, and a tool-call round trip through a provider instance. */
describe('ollama fake: tool calls', () => {
  let fake: FakeUpstream;

  beforeAll(async () => {
    fake = await startFakeUpstream('ollama');
  });
  beforeEach(() => {
    fake.reset();
    fake.reply.text = '';
    fake.reply.ollama = { toolCalls: CALLS };
  });
  afterEach(() => closeInstances());
  afterAll(() => fake.close());

  const post = async (stream: boolean): Promise<string> => {
    const res = await fetch(`${fake.origin}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({ model: 'llama3.2', messages: [{ role: 'user', content: 'x' }], stream }),
    });
    return res.text();
  };

  it('writes message.tool_calls without ids, arguments as objects, in JSON and NDJSON', async () => {
    expect(JSON.parse(await post(false))).toMatchObject({
      message: { role: 'assistant', content: '', tool_calls: CALLS.map((call) => ({ function: call })) },
      done_reason: 'stop',
      done: true,
    });
    const lines = (await post(true))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { message: { tool_calls?: unknown }; done: boolean });
    expect(lines.map((l) => l.message.tool_calls)).toEqual([
      [{ function: CALLS[0] }],
      [{ function: CALLS[1] }],
      undefined,
    ]);
    expect(lines.at(-1)?.done).toBe(true);
  });

  it('gives the calls ids the client sends back, and names the function of each result', async () => {
    const { instance } = createInstance(declaration(fake));
    const question = { role: 'user' as const, content: 'Temperature in New York and Toronto?' };
    const tools = [
      { type: 'function' as const, function: { name: 'get_temperature', parameters: { type: 'object' } } },
    ];
    const answer = await instance.chat({ model: 'llama3.2', messages: [question], tools });
    expect(answer.finish_reason).toBe('tool_calls');
    const calls = answer.tool_calls ?? [];
    expect(calls.map((c) => c.function)).toEqual([
      { name: 'get_temperature', arguments: '{"city":"New York"}' },
      { name: 'get_temperature', arguments: '{"city":"Toronto"}' },
    ]);
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);

    fake.reply = { ...fake.reply, text: 'New York 22°C, Toronto 18°C.', ollama: undefined };
    const { events, error } = await drain(
      instance.chatStream({
        model: 'llama3.2',
        messages: [
          question,
          { role: 'assistant', content: null, tool_calls: calls },
          { role: 'tool', tool_call_id: calls[1].id, content: '18°C' },
          { role: 'tool', tool_call_id: calls[0].id, content: '22°C' },
        ],
        tools,
      }),
    );
    expect(error).toBeUndefined();
    expect(events.at(-1)).toEqual({ type: 'finish', finish_reason: 'stop' });
    expect(fake.requests[1].body).toMatchObject({
      messages: [
        question,
        { role: 'assistant', content: '', tool_calls: CALLS.map((call) => ({ function: call })) },
        { role: 'tool', content: '18°C', tool_name: 'get_temperature' },
        { role: 'tool', content: '22°C', tool_name: 'get_temperature' },
      ],
    });
  });
});
