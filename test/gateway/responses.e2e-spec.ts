import OpenAI from 'openai';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { Gateway, NO_RETRY, startGateway, waitForLedger } from './gateway-support';

const WEATHER: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Current weather of a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: true,
};

const USAGE = { input_tokens: 30, output_tokens: 8 };

describe('the Responses API through Conflux, official openai SDK, OpenAI-kind and Anthropic upstreams', () => {
  let openaiFake: FakeUpstream;
  let anthropicFake: FakeUpstream;
  let gw: Gateway;
  let client: OpenAI;

  beforeAll(async () => {
    openaiFake = await startFakeUpstream('openai', { models: ['gpt-4o-mini'], reply: { usage: USAGE } });
    anthropicFake = await startFakeUpstream('anthropic', {
      models: ['claude-3-haiku-20240307'],
      reply: { usage: USAGE },
    });
    gw = await startGateway({
      providers: [
        { id: 'openai-a', kind: 'openai', base_url: openaiFake.baseUrl, models: ['gpt-4o-mini'], retry: NO_RETRY },
        {
          id: 'anthropic-a',
          kind: 'anthropic',
          base_url: anthropicFake.baseUrl,
          models: ['claude-3-haiku-20240307'],
          retry: NO_RETRY,
        },
      ],
    });
    client = new OpenAI({ apiKey: gw.apiKey, baseURL: `${gw.t.url}/v1`, maxRetries: 0 });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([openaiFake?.close(), anthropicFake?.close()]);
  });

  beforeEach(() => {
    openaiFake.reset();
    anthropicFake.reset();
  });

  const upstreamBodies = (fake: FakeUpstream): Record<string, unknown>[] =>
    fake.requests.filter((r) => r.method === 'POST').map((r) => r.body as Record<string, unknown>);

  /** The request's ledger rows: exactly one, a success on `provider`. */
  async function expectOneLedgerRow(requestId: string | null, provider: string): Promise<void> {
    const rows = await waitForLedger(gw.t.db.url, (r) => r.length >= 1, 'request_id = $1', [requestId]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ provider, endpoint: '/v1/responses', status: 'success', attempt: 1 });
    expect(BigInt(rows[0].micro_credits)).toBeGreaterThan(0n);
  }

  async function expectNothingHeld(): Promise<void> {
    const quota = await gw.api.get<{ daily: { reserved: number } }>(`/projects/${gw.projectId}/quota`, {
      headers: { authorization: `Bearer ${gw.apiKey}` },
    });
    expect(quota.body.daily.reserved).toBe(0);
  }

  it('JSON round trip on an OpenAI-kind upstream: function_call → function_call_output → final text', async () => {
    openaiFake.reply.text = '';
    openaiFake.reply.openai = { toolCalls: [{ id: 'call_w1', name: 'get_weather', arguments: '{"city":"Oslo"}' }] };
    const input: OpenAI.Responses.ResponseInput = [{ role: 'user', content: 'Weather in Oslo?' }];
    const { data: first, response } = await client.responses
      .create({
        model: 'gpt-4o-mini',
        instructions: 'Answer briefly.',
        input,
        tools: [WEATHER],
        tool_choice: 'required',
        parallel_tool_calls: false,
        temperature: 0.2,
        metadata: { team: 'a' },
      })
      .withResponse();
    expect(first).toMatchObject({
      object: 'response',
      status: 'completed',
      model: 'gpt-4o-mini',
      error: null,
      incomplete_details: null,
      tool_choice: 'required',
      parallel_tool_calls: false,
      temperature: 0.2,
      instructions: 'Answer briefly.',
      metadata: { team: 'a' },
      usage: {
        input_tokens: 30,
        input_tokens_details: { cached_tokens: 0 },
        output_tokens: 8,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 38,
      },
    });
    expect(first.id).toMatch(/^resp_/);
    expect(first.output).toEqual([
      {
        type: 'function_call',
        id: expect.stringMatching(/^fc_/) as unknown,
        call_id: 'call_w1',
        name: 'get_weather',
        arguments: '{"city":"Oslo"}',
        status: 'completed',
      },
    ]);
    expect(upstreamBodies(openaiFake)[0]).toMatchObject({
      messages: [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: 'Weather in Oslo?' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: WEATHER.parameters, strict: true } }],
      tool_choice: 'required',
      parallel_tool_calls: false,
      temperature: 0.2,
    });
    await expectOneLedgerRow(response.headers.get('x-request-id'), 'openai-a');

    openaiFake.reply.openai = undefined;
    openaiFake.reply.text = 'It is 3°C in Oslo.';
    const call = first.output[0] as OpenAI.Responses.ResponseFunctionToolCall;
    const second = await client.responses.create({
      model: 'gpt-4o-mini',
      input: [
        ...input,
        ...(first.output as OpenAI.Responses.ResponseInputItem[]),
        { type: 'function_call_output', call_id: call.call_id, output: '{"temp":3}' },
      ],
      tools: [WEATHER],
    });
    expect(second.status).toBe('completed');
    expect(second.output_text).toBe('It is 3°C in Oslo.');
    expect(second.output).toEqual([
      {
        type: 'message',
        id: expect.stringMatching(/^msg_/) as unknown,
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text: 'It is 3°C in Oslo.', annotations: [] }],
      },
    ]);
    expect(upstreamBodies(openaiFake)[1].messages).toEqual([
      { role: 'user', content: 'Weather in Oslo?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_w1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_w1', content: '{"temp":3}' },
    ]);
    await expectNothingHeld();
  });

  it('JSON round trip on an Anthropic upstream: the tool_use id is the call_id, and comes back', async () => {
    anthropicFake.reply.anthropic = {
      content: [{ type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { city: 'Oslo' } }],
    };
    const input: OpenAI.Responses.ResponseInput = [{ role: 'user', content: 'Weather in Oslo?' }];
    const first = await client.responses.create({
      model: 'claude-3-haiku-20240307',
      instructions: 'Answer briefly.',
      input,
      tools: [WEATHER],
      max_output_tokens: 300,
    });
    const call = first.output[0] as OpenAI.Responses.ResponseFunctionToolCall;
    expect(call).toMatchObject({ type: 'function_call', call_id: 'toolu_01A', name: 'get_weather' });
    expect(JSON.parse(call.arguments)).toEqual({ city: 'Oslo' });
    expect(upstreamBodies(anthropicFake)[0]).toMatchObject({
      system: 'Answer briefly.',
      max_tokens: 300,
      tools: [{ name: 'get_weather', input_schema: WEATHER.parameters }],
    });

    anthropicFake.reply.anthropic = undefined;
    anthropicFake.reply.text = 'It is 3°C.';
    const { data: second, response } = await client.responses
      .create({
        model: 'claude-3-haiku-20240307',
        input: [
          ...input,
          ...(first.output as OpenAI.Responses.ResponseInputItem[]),
          { type: 'function_call_output', call_id: 'toolu_01A', output: '3°C' },
        ],
        tools: [WEATHER],
        max_output_tokens: 300,
      })
      .withResponse();
    expect(second.output_text).toBe('It is 3°C.');
    const messages = upstreamBodies(anthropicFake)[1].messages as { role: string; content: unknown }[];
    expect(messages[1]).toMatchObject({
      role: 'assistant',
      content: [{ type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { city: 'Oslo' } }],
    });
    expect(messages[2]).toMatchObject({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'toolu_01A' }],
    });
    await expectOneLedgerRow(response.headers.get('x-request-id'), 'anthropic-a');
  });

  it('stream with a function tool: the documented events, numbered, ending with response.completed', async () => {
    openaiFake.reply.text = 'Let me check. ';
    openaiFake.reply.openai = { toolCalls: [{ id: 'call_s1', name: 'get_weather', arguments: '{"city":"Rome"}' }] };
    const { data: stream, response } = await client.responses
      .create({ model: 'gpt-4o-mini', input: 'Weather in Rome?', tools: [WEATHER], stream: true })
      .withResponse();
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const types = events.map((e) => e.type);
    expect(types.slice(0, 4)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
    ]);
    expect(types).toContain('response.output_text.delta');
    const afterText = types.indexOf('response.output_text.done');
    expect(types.slice(afterText)).toEqual([
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.output_item.added',
      ...types.filter((t) => t === 'response.function_call_arguments.delta'),
      'response.function_call_arguments.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const deltas = events.filter((e) => e.type === 'response.function_call_arguments.delta');
    expect(deltas.map((e) => e.delta).join('')).toBe('{"city":"Rome"}');
    const completed = events[events.length - 1] as OpenAI.Responses.ResponseCompletedEvent;
    expect(completed.response.status).toBe('completed');
    expect(completed.response.output).toMatchObject([
      { type: 'message', content: [{ type: 'output_text', text: 'Let me check. ' }] },
      { type: 'function_call', call_id: 'call_s1', name: 'get_weather', arguments: '{"city":"Rome"}' },
    ]);
    expect(completed.response.usage).toMatchObject({ input_tokens: 30, output_tokens: 8 });
    await expectOneLedgerRow(response.headers.get('x-request-id'), 'openai-a');
  });

  it('stream helper on an Anthropic upstream: finalResponse() assembles text and call', async () => {
    anthropicFake.reply.anthropic = {
      content: [
        { type: 'text', text: 'Checking the weather.' },
        { type: 'tool_use', id: 'toolu_02B', name: 'get_weather', input: { city: 'Rome' } },
      ],
    };
    const stream = client.responses.stream({
      model: 'claude-3-haiku-20240307',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'Weather in Rome?' }] }],
      tools: [WEATHER],
    });
    const argumentDeltas: string[] = [];
    stream.on('response.function_call_arguments.delta', (e) => argumentDeltas.push(e.delta));
    const final = await stream.finalResponse();
    expect(final.status).toBe('completed');
    expect(final.output_text).toBe('Checking the weather.');
    expect(final.output[1]).toMatchObject({ type: 'function_call', call_id: 'toolu_02B', name: 'get_weather' });
    expect(JSON.parse(argumentDeltas.join(''))).toEqual({ city: 'Rome' });
  });

  it('json_schema through text.format, forwarded as response_format', async () => {
    openaiFake.reply.text = '{"city":"Oslo","temp":3}';
    const schema = {
      type: 'object',
      properties: { city: { type: 'string' }, temp: { type: 'number' } },
      required: ['city', 'temp'],
      additionalProperties: false,
    };
    const res = await client.responses.create({
      model: 'gpt-4o-mini',
      input: 'Weather in Oslo as JSON.',
      text: { format: { type: 'json_schema', name: 'weather', schema, strict: true } },
    });
    expect(JSON.parse(res.output_text)).toEqual({ city: 'Oslo', temp: 3 });
    expect(res.text).toEqual({ format: { type: 'json_schema', name: 'weather', schema, strict: true } });
    expect(upstreamBodies(openaiFake)[0].response_format).toEqual({
      type: 'json_schema',
      json_schema: { name: 'weather', schema, strict: true },
    });
  });

  it('max_output_tokens reached: status incomplete with its reason', async () => {
    openaiFake.reply.finishReason = 'length';
    const res = await client.responses.create({ model: 'gpt-4o-mini', input: 'Tell a story.', max_output_tokens: 5 });
    expect(res.status).toBe('incomplete');
    expect(res.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(upstreamBodies(openaiFake)[0].max_tokens).toBe(5);
  });

  it('a stream cut after its first token ends with an error event and response.failed, never completed', async () => {
    openaiFake.cutStreamAfter(2);
    const stream = await client.responses.create({ model: 'gpt-4o-mini', input: 'Hello', stream: true });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types.slice(-2)).toEqual(['error', 'response.failed']);
    expect(types).not.toContain('response.completed');
  });

  describe('refused by name, before any upstream call', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ['previous_response_id', { previous_response_id: 'resp_123' }, 'previous_response_id is not supported'],
      ['store: true', { store: true }, 'store is not supported'],
      ['conversation', { conversation: 'conv_1' }, 'conversation is not supported'],
      ['background', { background: true }, 'background is not supported'],
      ['a hosted tool', { tools: [{ type: 'web_search' }] }, '"web_search" is a hosted tool'],
      ['an unsupported input item', { input: [{ type: 'item_reference', id: 'x' }] }, '"item_reference"'],
    ];

    it.each(cases)('%s', async (_name, fields, message) => {
      const res = await gw.api.post<{ error: { message: string; type: string; code: string } }>(
        '/v1/responses',
        { model: 'gpt-4o-mini', input: 'Hello', ...fields },
        { headers: { authorization: `Bearer ${gw.apiKey}` } },
      );
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'invalid_request_error', code: 'validation_failed' });
      expect(res.body.error.message).toContain(message);
      expect(upstreamBodies(openaiFake)).toHaveLength(0);
    });

    it('malformed JSON, refused before routing, answers in the OpenAI shape too', async () => {
      const res = await fetch(`${gw.t.url}/v1/responses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.apiKey}` },
        body: '{"model": ',
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'malformed_json' } });
    });

    it('the SDK throws a 400 naming previous_response_id', async () => {
      await expect(
        client.responses.create({ model: 'gpt-4o-mini', input: 'Hello', previous_response_id: 'resp_123' }),
      ).rejects.toMatchObject({
        status: 400,
        message: expect.stringContaining('previous_response_id is not supported') as unknown,
      });
    });
  });
});
