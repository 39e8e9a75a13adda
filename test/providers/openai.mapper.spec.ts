import type { ChatParameters, ChatRequest, ToolCall } from '../../src/providers/dto/chat';
import { UpstreamError } from '../../src/common/upstream/upstream-error';
import {
  openaiChatRequest,
  openaiChatResult,
  openaiEmbedRequest,
  openaiEmbedResult,
  openaiErrorMessage,
  openaiMapper,
  openaiModelList,
  openaiStreamChunk,
  openaiUsage,
} from '../../src/providers/kinds/openai/openai.mapper';
import {
  OPENAI_CACHED_USAGE,
  OPENAI_CHAT_RESPONSE,
  OPENAI_EMBEDDINGS_RESPONSE,
  OPENAI_ERROR_401,
  OPENAI_MODELS,
  OPENAI_REASONING_USAGE,
  OPENAI_STREAM,
  OPENAI_TOOL_CALL_RESPONSE,
  OPENAI_TOOL_CALL_STREAM,
  PNG_DATA_URL,
} from './fixtures/recorded';
import { thrown } from './helpers';
import { decodeRecorded, deltas } from './stream-feed';

const vision: ChatRequest = {
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system', content: 'Describe images.' },
    {
      role: 'user',
      content: [
        { type: 'text', text: 'What is in this image?' },
        { type: 'image_url', image_url: { url: PNG_DATA_URL, detail: 'low' } },
        { type: 'image_url', image_url: { url: 'https://example.com/boardwalk.jpg' } },
      ],
    },
  ],
  max_tokens: 300,
  temperature: 0.2,
  stop: ['\n\n'],
};

describe('openai mapper', () => {
  it('builds a chat completion request with content parts passed through unchanged', () => {
    const wire = openaiChatRequest(vision, false);
    expect(wire).toEqual({
      method: 'POST',
      path: '/chat/completions',
      body: {
        model: 'gpt-4o-mini',
        messages: vision.messages,
        max_tokens: 300,
        temperature: 0.2,
        stop: ['\n\n'],
      },
    });
    expect(JSON.parse(JSON.stringify(wire.body))).not.toHaveProperty('stream');
  });

  it('asks for usage in streams', () => {
    expect(openaiChatRequest(vision, true).body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('reads a recorded chat completion', () => {
    expect(openaiChatResult(OPENAI_CHAT_RESPONSE, 'asked')).toEqual({
      id: 'chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG',
      model: 'gpt-4o-2024-08-06',
      text: 'The image shows a wooden boardwalk path running through a lush green field or meadow.',
      finish_reason: 'stop',
      usage: { input_tokens: 1117, output_tokens: 46 },
    });
  });

  it('maps finish reasons and a null content', () => {
    const body = {
      choices: [{ message: { role: 'assistant', content: null }, finish_reason: 'tool_calls' }],
    };
    expect(openaiChatResult(body, 'asked')).toEqual({
      id: undefined,
      model: 'asked',
      text: '',
      finish_reason: 'tool_calls',
      usage: undefined,
    });
    const finish = (reason: string) =>
      openaiChatResult({ choices: [{ message: { content: 'x' }, finish_reason: reason }] }, 'm').finish_reason;
    expect(['stop', 'length', 'content_filter', 'function_call'].map(finish)).toEqual([
      'stop',
      'length',
      'content_filter',
      'tool_calls',
    ]);
  });

  const calls: ToolCall[] = [
    { id: 'toolu_01A', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
    { id: 'call_B', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Bogotá"}' } },
  ];
  const weather: ChatRequest = {
    model: 'gpt-4o-mini',
    messages: [
      {
        role: 'system',
        content: [{ type: 'text', text: 'You report weather.', cache_control: { type: 'ephemeral' } }],
      },
      { role: 'user', content: 'Weather in Paris and Bogotá?' },
      {
        role: 'assistant',
        content: [{ type: 'thinking', thinking: 'Two cities: two calls.', signature: 'sig' }],
        tool_calls: calls,
      },
      { role: 'tool', tool_call_id: 'toolu_01A', content: '18°C', is_error: false },
      { role: 'tool', tool_call_id: 'call_B', content: [{ type: 'text', text: 'timeout' }], is_error: true },
    ],
    tools: [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Current weather',
          parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
          strict: true,
        },
        cache_control: { type: 'ephemeral' },
      },
    ],
    tool_choice: { type: 'function', function: { name: 'get_weather' } },
    parallel_tool_calls: true,
    response_format: {
      type: 'json_schema',
      json_schema: { name: 'report', schema: { type: 'object' }, strict: true },
    },
  };

  it('sends tools, tool calls and results, and structured output; Anthropic-only parts stay behind', () => {
    const body = JSON.parse(JSON.stringify(openaiChatRequest(weather, false).body)) as Record<string, unknown>;
    expect(body).toEqual({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: [{ type: 'text', text: 'You report weather.' }] },
        { role: 'user', content: 'Weather in Paris and Bogotá?' },
        { role: 'assistant', content: null, tool_calls: calls },
        { role: 'tool', tool_call_id: 'toolu_01A', content: '18°C' },
        { role: 'tool', tool_call_id: 'call_B', content: [{ type: 'text', text: 'timeout' }] },
      ],
      tools: [{ type: 'function', function: weather.tools?.[0].function }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      parallel_tool_calls: true,
      response_format: weather.response_format,
    });
  });

  it('sends no token limit unless one is set, under the field the model takes', () => {
    const plain: ChatRequest = { model: 'o3-mini', messages: [{ role: 'user', content: 'x' }] };
    const sent = (req: ChatRequest) => JSON.parse(JSON.stringify(openaiChatRequest(req, false).body)) as object;
    expect(sent(plain)).toEqual({ model: 'o3-mini', messages: [{ role: 'user', content: 'x' }] });
    expect(sent({ ...plain, max_tokens: 50 })).toMatchObject({ max_tokens: 50 });
    const newer = sent({ ...plain, max_tokens: 50, max_tokens_field: 'max_completion_tokens' });
    expect(newer).toMatchObject({ max_completion_tokens: 50 });
    expect(newer).not.toHaveProperty('max_tokens');
  });

  const forwarded: [keyof ChatParameters, unknown][] = [
    ['seed', 42],
    ['presence_penalty', 0.5],
    ['frequency_penalty', -0.5],
    ['logit_bias', { '50256': -100 }],
    ['logprobs', true],
    ['top_logprobs', 3],
    ['n', 1],
    ['user', 'user-1234'],
    ['metadata', { session: 'abc' }],
    ['store', true],
    ['service_tier', 'flex'],
    ['reasoning_effort', 'low'],
    ['modalities', ['text']],
    ['prediction', { type: 'content', content: 'draft' }],
    ['top_k', 20],
  ];

  it.each(forwarded)('forwards %s as is', (name, value) => {
    const req = { model: 'm', messages: [{ role: 'user', content: 'x' }], [name]: value } as ChatRequest;
    expect(openaiChatRequest(req, false).body).toMatchObject({ [name]: value });
  });

  it('refuses more than one choice by name', () => {
    const req: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'x' }], n: 2 };
    expect(thrown(() => openaiChatRequest(req, false))).toMatchObject({
      errorClass: 'http_4xx',
      message: expect.stringMatching(/^n greater than 1 is not supported by openai upstreams/) as unknown,
    });
  });

  it('refuses thinking by name', () => {
    const req: ChatRequest = {
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      thinking: { type: 'enabled', budget_tokens: 1024 },
    };
    expect(thrown(() => openaiChatRequest(req, false))).toMatchObject({
      errorClass: 'http_4xx',
      message: 'thinking is not supported by openai upstreams',
    });
  });

  it('passes unknown fields through unchanged, never over a modelled one', () => {
    const extra = { min_p: 0.05, guided_json: { type: 'object' }, chat_template_kwargs: { enable_thinking: false } };
    const req: ChatRequest = {
      model: 'qwen3',
      messages: [{ role: 'user', content: 'x' }],
      extra: { ...extra, model: 'other', messages: [], stream: true, max_tokens: 1 },
    };
    const body = JSON.parse(JSON.stringify(openaiChatRequest(req, false).body)) as object;
    expect(body).toEqual({ ...extra, model: 'qwen3', messages: [{ role: 'user', content: 'x' }] });
  });

  it('reads tool calls, logprobs and usage details', () => {
    expect(openaiChatResult(OPENAI_TOOL_CALL_RESPONSE, 'asked')).toEqual({
      id: 'chatcmpl-abc123',
      model: 'gpt-4o-mini',
      text: '',
      tool_calls: [
        {
          id: 'call_abc123',
          type: 'function',
          function: { name: 'get_current_weather', arguments: '{\n"location": "Boston, MA"\n}' },
        },
      ],
      finish_reason: 'tool_calls',
      usage: { input_tokens: 82, output_tokens: 17 },
    });
    const logprobs = { content: [{ token: 'Hi', logprob: -0.1, bytes: [72, 105], top_logprobs: [] }] };
    const withLogprobs = {
      ...OPENAI_CHAT_RESPONSE,
      choices: [{ ...OPENAI_CHAT_RESPONSE.choices[0], logprobs }],
      usage: OPENAI_CACHED_USAGE,
    };
    const result = openaiChatResult(withLogprobs, 'm');
    expect(result.logprobs).toEqual(logprobs);
    expect(result.usage).toEqual({ input_tokens: 2006, output_tokens: 300, cached_input_tokens: 1920 });
    expect(openaiUsage(OPENAI_REASONING_USAGE)).toEqual({
      input_tokens: 75,
      output_tokens: 1186,
      reasoning_tokens: 1024,
    });
    const broken = { choices: [{ message: { content: null, tool_calls: [{ function: { name: 'f' } }] } }] };
    expect(thrown(() => openaiChatResult(broken, 'm'))).toMatchObject({ errorClass: 'malformed' });
  });

  it.each([1, 13, 10_000])('decodes streamed parallel tool calls cut into %i-character pieces', async (size) => {
    const { events, error } = await decodeRecorded(OPENAI_TOOL_CALL_STREAM, openaiMapper, size);
    expect(error).toBeUndefined();
    expect(events).toEqual([
      { type: 'tool_call', index: 0, id: 'call_DdmO9pD3xa9XTPNJ32zg2hcA', name: 'get_weather', arguments: '' },
      { type: 'tool_call', index: 0, arguments: '{"location":' },
      { type: 'tool_call', index: 0, arguments: ' "Paris, France"}' },
      { type: 'tool_call', index: 1, id: 'call_kL2q8bC7YqQSxWvt4nJd0aXo', name: 'get_weather', arguments: '' },
      { type: 'tool_call', index: 1, arguments: '{"location": "Bogotá, Colombia"}' },
      { type: 'usage', usage: { input_tokens: 2006, output_tokens: 54, cached_input_tokens: 1920 } },
      { type: 'finish', finish_reason: 'tool_calls' },
    ]);
  });

  it('refuses a response without choices as malformed', () => {
    const malformed = { errorClass: 'malformed' };
    expect(thrown(() => openaiChatResult({ id: 'x' }, 'm'))).toMatchObject(malformed);
    expect(thrown(() => openaiChatResult({ choices: [] }, 'm'))).toMatchObject(malformed);
    expect(thrown(() => openaiChatResult('not an object', 'm'))).toMatchObject(malformed);
  });

  it('parses single stream chunks', () => {
    expect(openaiStreamChunk('[DONE]')).toEqual([{ type: 'end' }]);
    expect(
      openaiStreamChunk('{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}],"usage":null}'),
    ).toEqual([{ type: 'delta', text: 'Hi' }]);
    expect(openaiStreamChunk('{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}')).toEqual([
      { type: 'usage', input_tokens: 3, output_tokens: 4 },
    ]);
    expect(thrown(() => openaiStreamChunk('{"choices": ['))).toMatchObject({ errorClass: 'malformed' });
    expect(thrown(() => openaiStreamChunk('{"error":{"message":"model overloaded","code":503}}'))).toMatchObject({
      errorClass: 'http_5xx',
      message: 'model overloaded',
    });
  });

  it.each([1, 7, 64, 10_000])('decodes a recorded stream cut into %i-character pieces', async (size) => {
    const { events, error } = await decodeRecorded(OPENAI_STREAM, openaiMapper, size);
    expect(error).toBeUndefined();
    expect(deltas(events).join('')).toBe('Hello! How can I help you today? 😊');
    // usage (sent after the finish chunk) comes first, then finish, last
    expect(events.slice(-2)).toEqual([
      { type: 'usage', usage: { input_tokens: 9, output_tokens: 10 } },
      { type: 'finish', finish_reason: 'length' },
    ]);
  });

  it('says a stream that ends without [DONE] is malformed', async () => {
    const cut = OPENAI_STREAM.slice(0, OPENAI_STREAM.indexOf('data: [DONE]'));
    const { events, error } = await decodeRecorded(cut, openaiMapper, 50);
    expect(deltas(events).length).toBe(3);
    expect(error?.errorClass).toBe('malformed');
  });

  it('maps embeddings in index order', () => {
    expect(openaiEmbedRequest({ model: 'text-embedding-3-small', input: ['a', 'b'] })).toEqual({
      method: 'POST',
      path: '/embeddings',
      body: { model: 'text-embedding-3-small', input: ['a', 'b'] },
    });
    expect(openaiEmbedResult(OPENAI_EMBEDDINGS_RESPONSE, 'm')).toEqual({
      model: 'text-embedding-3-small',
      vectors: [
        [-0.006929283, -0.005336422, -0.00453713],
        [0.0023064255, -0.009327292, 0.015797347],
      ],
      usage: { input_tokens: 8 },
    });
    expect(() => openaiEmbedResult({ data: [{ index: 0, embedding: ['x'] }] }, 'm')).toThrow(UpstreamError);
  });

  it('reads error messages, model lists and headers', () => {
    expect(openaiErrorMessage(OPENAI_ERROR_401)).toMatch(/^Incorrect API key provided/);
    expect(openaiErrorMessage('<html>')).toBeUndefined();
    expect(openaiModelList(OPENAI_MODELS)).toEqual(['gpt-4o-mini', 'text-embedding-3-small']);
    expect(openaiModelList({})).toBeNull();
    expect(openaiMapper.headers('sk-1')).toEqual({ authorization: 'Bearer sk-1' });
    expect(openaiMapper.headers(undefined)).toEqual({});
    expect(openaiMapper.apiRoot('/v1')).toBe('/v1');
  });
});
