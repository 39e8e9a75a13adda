import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { Gateway, NO_RETRY, startGateway } from './gateway-support';
import { WEATHER as SHARED_WEATHER } from './weather-tool';

/** One scripted answer of the OpenAI-compatible upstream. */
interface Scripted {
  content: string | null;
  tool_calls?: { id: string; name: string; arguments: string }[];
}

/**
 * A minimal OpenAI-compatible upstream answering from a script, in OpenAI's wire format: a
 * chat.completion, or chunks with `delta.tool_calls` fragments (id, type and name first, then
 * argument pieces), `finish_reason: "tool_calls"` and a usage chunk with its details.
 */
class ScriptedOpenAi {
  readonly bodies: Record<string, unknown>[] = [];
  readonly script: Scripted[] = [];
  private server!: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      req.on('end', () => {
        if (req.method === 'GET') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model' }] }));
          return;
        }
        const body = JSON.parse(raw) as Record<string, unknown>;
        this.bodies.push(body);
        const answer = this.script.shift() ?? { content: 'ok' };
        if (body.stream === true) this.stream(res, answer);
        else this.json(res, answer);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private json(res: import('node:http').ServerResponse, answer: Scripted): void {
    const calls = answer.tool_calls?.map((c) => ({
      id: c.id,
      type: 'function',
      function: { name: c.name, arguments: c.arguments },
    }));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: 'chatcmpl-up',
        object: 'chat.completion',
        created: 1,
        model: 'gpt-4o-mini',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: answer.content, ...(calls ? { tool_calls: calls } : {}) },
            finish_reason: calls ? 'tool_calls' : 'stop',
            logprobs: null,
          },
        ],
        usage: USAGE,
      }),
    );
  }

  private stream(res: import('node:http').ServerResponse, answer: Scripted): void {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunk = (delta: object, finish: string | null, usage?: object): void => {
      const choices = usage ? [] : [{ index: 0, delta, finish_reason: finish }];
      res.write(
        `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'gpt-4o-mini', choices, usage })}\n\n`,
      );
    };
    chunk({ role: 'assistant', content: answer.content === null ? null : '' }, null);
    if (answer.content) chunk({ content: answer.content }, null);
    for (const [index, call] of (answer.tool_calls ?? []).entries()) {
      chunk(
        { tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] },
        null,
      );
      const half = Math.floor(call.arguments.length / 2);
      for (const piece of [call.arguments.slice(0, half), call.arguments.slice(half)]) {
        chunk({ tool_calls: [{ index, function: { arguments: piece } }] }, null);
      }
    }
    chunk({}, answer.tool_calls ? 'tool_calls' : 'stop');
    chunk({}, null, USAGE);
    res.end('data: [DONE]\n\n');
  }
}

const USAGE = {
  prompt_tokens: 40,
  completion_tokens: 12,
  total_tokens: 52,
  prompt_tokens_details: { cached_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 0 },
};

const WEATHER: OpenAI.ChatCompletionFunctionTool = {
  ...SHARED_WEATHER,
  function: { ...SHARED_WEATHER.function, strict: true },
};

describe('tool calling and structured output through Conflux, official SDKs, OpenAI-kind upstream', () => {
  const upstream = new ScriptedOpenAi();
  let gw: Gateway;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    const baseUrl = await upstream.start();
    gw = await startGateway({
      providers: [{ id: 'openai-a', kind: 'openai', base_url: baseUrl, models: ['gpt-4o-mini'], retry: NO_RETRY }],
    });
    openai = new OpenAI({ apiKey: gw.apiKey, baseURL: `${gw.t.url}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: gw.apiKey, baseURL: gw.t.url, maxRetries: 0 });
  });

  afterAll(async () => {
    await gw?.close();
    await upstream.close();
  });

  beforeEach(() => {
    upstream.bodies.length = 0;
    upstream.script.length = 0;
  });

  it('openai SDK: a tool call (JSON) with tools, tool_choice and parameters forwarded, unknown fields kept', async () => {
    upstream.script.push({
      content: null,
      tool_calls: [{ id: 'call_abc', name: 'get_weather', arguments: '{"city":"Oslo"}' }],
    });
    const completion = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      tools: [WEATHER],
      tool_choice: 'required',
      parallel_tool_calls: false,
      seed: 7,
      presence_penalty: 0.5,
      // @ts-expect-error: a vLLM extra the SDK does not know
      min_p: 0.1,
    });
    const choice = completion.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toEqual([
      { id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
    ]);
    expect(upstream.bodies[0]).toMatchObject({
      tools: [WEATHER],
      tool_choice: 'required',
      parallel_tool_calls: false,
      seed: 7,
      presence_penalty: 0.5,
      min_p: 0.1,
    });
    // No limit from the client: none is sent.
    expect(upstream.bodies[0].max_tokens).toBeUndefined();
  });

  it('openai SDK: parallel tool calls streamed as delta.tool_calls fragments', async () => {
    upstream.script.push({
      content: null,
      tool_calls: [
        { id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
        { id: 'call_2', name: 'get_weather', arguments: '{"city":"Rome"}' },
      ],
    });
    const stream = openai.chat.completions.stream({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather in Oslo and Rome?' }],
      tools: [WEATHER],
      stream_options: { include_usage: true },
    });
    const final = await stream.finalChatCompletion();
    expect(final.choices[0].finish_reason).toBe('tool_calls');
    expect(final.choices[0].message.tool_calls?.map((c) => [c.id, c.function.name, c.function.arguments])).toEqual([
      ['call_1', 'get_weather', '{"city":"Oslo"}'],
      ['call_2', 'get_weather', '{"city":"Rome"}'],
    ]);
    expect(final.usage).toMatchObject({ prompt_tokens: 40, completion_tokens: 12 });
  });

  it('openai SDK: a full round trip, call → tool result → final answer, ids kept', async () => {
    upstream.script.push(
      { content: null, tool_calls: [{ id: 'call_rt', name: 'get_weather', arguments: '{"city":"Oslo"}' }] },
      { content: 'It is 3°C in Oslo.' },
    );
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Oslo?' }];
    const first = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, tools: [WEATHER] });
    const call = first.choices[0].message.tool_calls![0];
    messages.push(first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: '{"temp":3}' });
    const second = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, tools: [WEATHER] });
    expect(second.choices[0].message.content).toBe('It is 3°C in Oslo.');
    expect(second.choices[0].finish_reason).toBe('stop');
    expect(upstream.bodies[1].messages).toEqual([
      { role: 'user', content: 'Weather in Oslo?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_rt', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_rt', content: '{"temp":3}' },
    ]);
  });

  it('openai SDK: json_schema output is forwarded and the JSON answer returned', async () => {
    upstream.script.push({ content: '{"city":"Oslo","temp":3}' });
    const format = {
      type: 'json_schema' as const,
      json_schema: {
        name: 'weather',
        strict: true,
        schema: {
          type: 'object',
          properties: { city: { type: 'string' }, temp: { type: 'number' } },
          required: ['city', 'temp'],
          additionalProperties: false,
        },
      },
    };
    const completion = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather in Oslo as JSON.' }],
      response_format: format,
    });
    expect(JSON.parse(completion.choices[0].message.content!)).toEqual({ city: 'Oslo', temp: 3 });
    expect(upstream.bodies[0].response_format).toEqual(format);
  });

  it('anthropic SDK: tool_use and tool_result round trip, streaming input_json_delta', async () => {
    upstream.script.push(
      { content: null, tool_calls: [{ id: 'call_an', name: 'get_weather', arguments: '{"city":"Oslo"}' }] },
      { content: 'It is 3°C.' },
    );
    const tools: Anthropic.Tool[] = [
      {
        name: 'get_weather',
        description: 'Current weather',
        input_schema: WEATHER.function.parameters as Anthropic.Tool.InputSchema,
      },
    ];
    const stream = anthropic.messages.stream({
      model: 'gpt-4o-mini',
      max_tokens: 200,
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      tools,
    });
    const partials: string[] = [];
    stream.on('inputJson', (partial) => partials.push(partial));
    const first = await stream.finalMessage();
    expect(first.stop_reason).toBe('tool_use');
    expect(first.content).toEqual([{ type: 'tool_use', id: 'call_an', name: 'get_weather', input: { city: 'Oslo' } }]);
    expect(partials.join('')).toBe('{"city":"Oslo"}');

    const second = await anthropic.messages.create({
      model: 'gpt-4o-mini',
      max_tokens: 200,
      tools,
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_an', content: '3°C' }] },
      ],
    });
    expect(second.content).toEqual([{ type: 'text', text: 'It is 3°C.' }]);
    expect(upstream.bodies[1].messages).toEqual([
      { role: 'user', content: 'Weather in Oslo?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_an', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Oslo"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_an', content: '3°C' },
    ]);
    expect(upstream.bodies[1].tools).toEqual([
      {
        type: 'function',
        function: { name: 'get_weather', description: 'Current weather', parameters: WEATHER.function.parameters },
      },
    ]);
  });
});
