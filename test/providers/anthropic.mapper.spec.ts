import type { ChatParameters, ChatRequest } from '../../src/providers/dto/chat';
import type { WireStreamEvent } from '../../src/providers/kinds/kind-mapper';
import { SseDecoder } from '../../src/providers/streaming/framing';
import {
  ANSWER_TOOL_NAME,
  ANTHROPIC_DEFAULT_MAX_TOKENS,
  anthropicChatRequest,
  anthropicChatResult,
  anthropicErrorMessage,
  anthropicMapper,
  anthropicModelList,
  anthropicStreamChunk,
} from '../../src/providers/kinds/anthropic/anthropic.mapper';
import {
  ANTHROPIC_ERROR_400,
  ANTHROPIC_MODELS,
  ANTHROPIC_OVERLOADED_EVENT,
  ANTHROPIC_RESPONSE,
  ANTHROPIC_STREAM,
  PNG_BASE64,
  PNG_DATA_URL,
} from './fixtures/recorded';
import {
  ANTHROPIC_ANSWER_RESPONSE,
  ANTHROPIC_ANSWER_STREAM,
  ANTHROPIC_TOOL_STREAM,
  ANTHROPIC_TOOL_USE_RESPONSE,
} from './fixtures/anthropic-tools';
import { thrown } from './helpers';
import { decodeRecorded, deltas } from './stream-feed';

describe('anthropic mapper', () => {
  it('moves system messages to `system`, defaults max_tokens and renames stop', () => {
    const req: ChatRequest = {
      model: 'claude-3-5-haiku-20241022',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'system', content: [{ type: 'text', text: 'Answer in French.' }] },
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Bonjour' },
        { role: 'user', content: 'Again' },
      ],
      stop: ['END'],
      temperature: 0.5,
    };
    expect(anthropicChatRequest(req, false)).toEqual({
      method: 'POST',
      path: '/v1/messages',
      body: {
        model: 'claude-3-5-haiku-20241022',
        max_tokens: ANTHROPIC_DEFAULT_MAX_TOKENS,
        system: 'You are terse.\n\nAnswer in French.',
        messages: [
          { role: 'user', content: 'Hello' },
          { role: 'assistant', content: 'Bonjour' },
          { role: 'user', content: 'Again' },
        ],
        temperature: 0.5,
        stop_sequences: ['END'],
      },
    });
    expect(ANTHROPIC_DEFAULT_MAX_TOKENS).toBe(1024);
  });

  it('keeps an explicit max_tokens, omits an empty system and streams on request', () => {
    const body = anthropicChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 7 }, true)
      .body as Record<string, unknown>;
    expect(body.max_tokens).toBe(7);
    expect(body.stream).toBe(true);
    expect(body).not.toHaveProperty('system');
  });

  it('turns image parts into image blocks (base64 data URLs and https URLs)', () => {
    const req: ChatRequest = {
      model: 'm',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare these.' },
            { type: 'image_url', image_url: { url: PNG_DATA_URL } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
          ],
        },
      ],
    };
    const body = anthropicChatRequest(req, false).body as { messages: unknown[] };
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Compare these.' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
        ],
      },
    ]);
  });

  it('refuses images it cannot send, as the caller’s error', () => {
    const req: ChatRequest = {
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x/cat.png' } }] }],
    };
    expect(thrown(() => anthropicChatRequest(req, false))).toMatchObject({ errorClass: 'http_4xx' });
  });

  it('reads a recorded message and maps stop reasons', () => {
    expect(anthropicChatResult(ANTHROPIC_RESPONSE, 'asked')).toEqual({
      id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
      model: 'claude-3-7-sonnet-20250219',
      text: 'Hi! My name is Claude.',
      finish_reason: 'length',
      usage: { input_tokens: 2095, output_tokens: 503 },
    });
    const reason = (stop_reason: string) =>
      anthropicChatResult({ ...ANTHROPIC_RESPONSE, stop_reason }, 'm').finish_reason;
    expect(['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'refusal'].map(reason)).toEqual([
      'stop',
      'length',
      'stop',
      'tool_calls',
      'content_filter',
    ]);
    expect(thrown(() => anthropicChatResult({ type: 'message' }, 'm'))).toMatchObject({ errorClass: 'malformed' });
  });

  it('parses single stream events', () => {
    expect(anthropicStreamChunk('{"type": "ping"}')).toEqual([]);
    expect(anthropicStreamChunk('{"type":"message_stop"}')).toEqual([{ type: 'end' }]);
    expect(
      anthropicStreamChunk(
        '{"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"output_tokens":15}}',
      ),
    ).toEqual([
      { type: 'usage', input_tokens: undefined, output_tokens: 15 },
      { type: 'finish', finish_reason: 'length' },
    ]);
    expect(anthropicStreamChunk('{"type":"some_future_event","x":1}')).toEqual([]);
    expect(thrown(() => anthropicStreamChunk(ANTHROPIC_OVERLOADED_EVENT))).toMatchObject({
      errorClass: 'http_5xx',
      message: 'Overloaded',
    });
    expect(
      thrown(() => anthropicStreamChunk('{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}')),
    ).toMatchObject({ errorClass: 'http_429' });
  });

  it.each([1, 5, 33, 10_000])('decodes a recorded stream (CRLF) cut into %i-character pieces', async (size) => {
    const { events, error } = await decodeRecorded(ANTHROPIC_STREAM, anthropicMapper, size);
    expect(error).toBeUndefined();
    expect(deltas(events)).toEqual(['Hello', '!']);
    expect(events.slice(-2)).toEqual([
      { type: 'usage', usage: { input_tokens: 25, output_tokens: 15 } },
      { type: 'finish', finish_reason: 'stop' },
    ]);
  });

  it('says a stream without message_stop is malformed', async () => {
    const cut = ANTHROPIC_STREAM.slice(0, ANTHROPIC_STREAM.indexOf('event: message_stop'));
    const { error } = await decodeRecorded(cut, anthropicMapper, 40);
    expect(error?.errorClass).toBe('malformed');
  });

  it('reads error messages, model lists, headers and the API root', () => {
    expect(anthropicErrorMessage(ANTHROPIC_ERROR_400)).toBe('max_tokens: Field required');
    expect(anthropicModelList(ANTHROPIC_MODELS)).toEqual(['claude-sonnet-4-20250514']);
    expect(anthropicMapper.headers('sk-ant-1')).toEqual({ 'anthropic-version': '2023-06-01', 'x-api-key': 'sk-ant-1' });
    expect(anthropicMapper.apiRoot('')).toBe('');
    expect(anthropicMapper.apiRoot('/v1')).toBe('');
    expect(anthropicMapper.apiRoot('/proxy/anthropic/v1')).toBe('/proxy/anthropic');
    expect([200, 401, 404, 500, 403].map(anthropicMapper.probeReachable)).toEqual([true, true, true, false, false]);
  });
});

/** The request body the mapper writes (not streamed). */
const bodyOf = (req: Partial<ChatRequest>): Record<string, unknown> =>
  anthropicChatRequest({ model: 'claude', messages: [{ role: 'user', content: 'Hi' }], ...req }, false).body as Record<
    string,
    unknown
  >;

/** A recorded stream through the kind's per-stream parser, before the shared assembler. */
function wireEvents(body: string, size = 7): WireStreamEvent[] {
  const frames = new SseDecoder();
  const parse = anthropicMapper.streamParser!();
  const payloads: string[] = [];
  for (let i = 0; i < body.length; i += size) payloads.push(...frames.push(body.slice(i, i + size)));
  payloads.push(...frames.end());
  return payloads.flatMap(parse);
}

const WEATHER_TOOL = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
  },
};

describe('anthropic mapper: tools', () => {
  it('sends tools, tool calls and tool results in Anthropic’s blocks, thinking first and intact', () => {
    const body = bodyOf({
      messages: [
        { role: 'user', content: 'Weather and time in SF?' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Let me check.' },
            { type: 'thinking', thinking: 'Two tools.', signature: 'EqQBCgIYAhIM' },
            { type: 'redacted_thinking', data: 'EmwKAhgB' },
          ],
          tool_calls: [
            {
              id: 'toolu_01A',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA"}' },
            },
            { id: 'call_b', type: 'function', function: { name: 'get_time', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_01A', content: '15 degrees' },
        {
          role: 'tool',
          tool_call_id: 'call_b',
          is_error: true,
          content: [
            { type: 'text', text: 'clock unavailable, see image' },
            { type: 'image_url', image_url: { url: PNG_DATA_URL } },
          ],
        },
        { role: 'user', content: 'Thanks' },
      ],
      tools: [WEATHER_TOOL, { type: 'function', function: { name: 'get_time' }, cache_control: { type: 'ephemeral' } }],
      tool_choice: 'auto',
    });
    expect(body.messages).toEqual([
      { role: 'user', content: 'Weather and time in SF?' },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'Two tools.', signature: 'EqQBCgIYAhIM' },
          { type: 'redacted_thinking', data: 'EmwKAhgB' },
          { type: 'text', text: 'Let me check.' },
          { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { location: 'San Francisco, CA' } },
          { type: 'tool_use', id: 'call_b', name: 'get_time', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_01A', content: '15 degrees' },
          {
            type: 'tool_result',
            tool_use_id: 'call_b',
            is_error: true,
            content: [
              { type: 'text', text: 'clock unavailable, see image' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } },
            ],
          },
        ],
      },
      { role: 'user', content: 'Thanks' },
    ]);
    expect(body.tools).toEqual([
      {
        name: 'get_weather',
        description: 'The weather in a city',
        input_schema: WEATHER_TOOL.function.parameters,
      },
      { name: 'get_time', input_schema: { type: 'object' }, cache_control: { type: 'ephemeral' } },
    ]);
    expect(body.tool_choice).toEqual({ type: 'auto' });
  });

  it('sends a tool-call-only assistant turn without an empty text block', () => {
    const body = bodyOf({
      messages: [
        { role: 'user', content: 'x' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
        },
        { role: 'tool', tool_call_id: 't1', content: 'done' },
      ],
    });
    expect((body.messages as { content: unknown }[])[1].content).toEqual([
      { type: 'tool_use', id: 't1', name: 'f', input: { a: 1 } },
    ]);
  });

  it('refuses tool call arguments that are not JSON, naming the message', () => {
    const req: Partial<ChatRequest> = {
      messages: [
        { role: 'user', content: 'x' },
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{"a":' } }],
        },
      ],
    };
    expect(thrown(() => bodyOf(req))).toMatchObject({
      errorClass: 'http_4xx',
      message: expect.stringContaining('messages[1]'),
    });
  });

  it.each([
    ['auto', undefined, { type: 'auto' }],
    ['none', undefined, { type: 'none' }],
    ['required', undefined, { type: 'any' }],
    [{ type: 'function', function: { name: 'get_weather' } }, undefined, { type: 'tool', name: 'get_weather' }],
    ['required', false, { type: 'any', disable_parallel_tool_use: true }],
    [undefined, false, { type: 'auto', disable_parallel_tool_use: true }],
    ['none', false, { type: 'none' }],
    [undefined, true, undefined],
  ] as const)('maps tool_choice %j with parallel_tool_calls %s', (tool_choice, parallel_tool_calls, expected) => {
    const body = bodyOf({ tools: [WEATHER_TOOL], tool_choice, parallel_tool_calls });
    expect(body.tool_choice).toEqual(expected);
  });

  it('reads tool calls, thinking blocks and cache usage from a recorded message', () => {
    expect(anthropicChatResult(ANTHROPIC_TOOL_USE_RESPONSE, 'asked')).toEqual({
      id: 'msg_01Aq9w938a90dw8q',
      model: 'claude-sonnet-4-5-20250929',
      text: "I'll check the current weather in San Francisco for you.",
      tool_calls: [
        {
          id: 'toolu_01A09q90qw90lq917835lq9',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' },
        },
        {
          id: 'toolu_02B19r',
          type: 'function',
          function: { name: 'get_time', arguments: '{"timezone":"America/Los_Angeles"}' },
        },
      ],
      thinking: [
        {
          type: 'thinking',
          thinking: 'The user wants the weather; I should call get_weather.',
          signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds',
        },
        { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP' },
      ],
      finish_reason: 'tool_calls',
      // Every input token: 21 uncached + 1000 read from the cache + 188 written to it.
      usage: { input_tokens: 1209, output_tokens: 393, cached_input_tokens: 1000, cache_write_input_tokens: 188 },
    });
  });

  it.each([1, 7, 10_000])('streams tool calls, thinking and cache usage (%i-character pieces)', (size) => {
    expect(wireEvents(ANTHROPIC_TOOL_STREAM, size)).toEqual([
      { type: 'usage', input_tokens: 2482, cached_input_tokens: 2000, cache_write_input_tokens: 10 },
      { type: 'thinking', thinking: 'Weather first.' },
      { type: 'thinking', signature: 'EqQBCgIYAhIM' },
      { type: 'thinking', redacted: 'EmwKAhgBEgy3va3p' },
      { type: 'delta', text: 'Okay' },
      { type: 'tool_call', index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', name: 'get_weather', arguments: '' },
      { type: 'tool_call', index: 0, arguments: '{"location":' },
      { type: 'tool_call', index: 0, arguments: ' "Paris"}' },
      { type: 'tool_call', index: 1, id: 'toolu_02', name: 'get_time', arguments: '' },
      { type: 'tool_call', index: 1, arguments: '{}' },
      { type: 'usage', output_tokens: 89 },
      { type: 'finish', finish_reason: 'tool_calls' },
      { type: 'end' },
    ]);
  });

  it('refuses a client tool named like the answer tool', () => {
    const tools = [{ type: 'function' as const, function: { name: ANSWER_TOOL_NAME } }];
    expect(thrown(() => bodyOf({ tools }))).toMatchObject({ errorClass: 'http_4xx' });
  });
});

describe('anthropic mapper: structured output through a forced tool', () => {
  const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };

  it('turns json_schema into a forced answer tool', () => {
    const body = bodyOf({
      response_format: { type: 'json_schema', json_schema: { name: 'weather', schema, strict: true } },
    });
    expect(body.tools).toEqual([
      { name: ANSWER_TOOL_NAME, description: 'Respond with the answer, a weather object.', input_schema: schema },
    ]);
    expect(body.tool_choice).toEqual({ type: 'tool', name: ANSWER_TOOL_NAME });
  });

  it('takes any JSON object for json_object and nothing for text', () => {
    const json = bodyOf({ response_format: { type: 'json_object' } });
    expect(json.tools).toEqual([
      expect.objectContaining({ name: ANSWER_TOOL_NAME, input_schema: { type: 'object', additionalProperties: true } }),
    ]);
    expect(json.tool_choice).toEqual({ type: 'tool', name: ANSWER_TOOL_NAME });
    const text = bodyOf({ response_format: { type: 'text' } });
    expect(text).not.toHaveProperty('tools');
    expect(text).not.toHaveProperty('tool_choice');
  });

  it('keeps the client’s tools callable next to the answer tool', () => {
    const format = { type: 'json_schema' as const, json_schema: { name: 'weather', schema } };
    const withTools = (tool_choice?: ChatRequest['tool_choice']) =>
      bodyOf({ tools: [WEATHER_TOOL], tool_choice, response_format: format });
    expect((withTools().tools as { name: string }[]).map((t) => t.name)).toEqual(['get_weather', ANSWER_TOOL_NAME]);
    expect(withTools().tool_choice).toEqual({ type: 'any' });
    expect(withTools('auto').tool_choice).toEqual({ type: 'any' });
    expect(withTools('none').tool_choice).toEqual({ type: 'tool', name: ANSWER_TOOL_NAME });
    expect(withTools({ type: 'function', function: { name: 'get_weather' } }).tool_choice).toEqual({
      type: 'tool',
      name: 'get_weather',
    });
    // Anthropic refuses a forced tool during extended thinking.
    const thinking = bodyOf({ response_format: format, thinking: { type: 'enabled', budget_tokens: 2048 } });
    expect(thinking.tool_choice).toEqual({ type: 'auto' });
  });

  it('returns the answer tool’s input as the message text', () => {
    expect(anthropicChatResult(ANTHROPIC_ANSWER_RESPONSE, 'asked')).toMatchObject({
      text: '{"city":"Paris","temp_c":21}',
      finish_reason: 'stop',
    });
    expect(anthropicChatResult(ANTHROPIC_ANSWER_RESPONSE, 'asked')).not.toHaveProperty('tool_calls');
  });

  it('streams the answer tool’s input as text deltas', () => {
    expect(wireEvents(ANTHROPIC_ANSWER_STREAM)).toEqual([
      { type: 'usage', input_tokens: 40 },
      { type: 'delta', text: '{"city": ' },
      { type: 'delta', text: '"Paris"}' },
      { type: 'usage', output_tokens: 12 },
      { type: 'finish', finish_reason: 'stop' },
      { type: 'end' },
    ]);
  });
});

describe('anthropic mapper: system and cache_control', () => {
  it('sends system as blocks when one carries a cache breakpoint, and keeps breakpoints on messages', () => {
    const cache = { type: 'ephemeral' as const };
    const body = bodyOf({
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'system', content: [{ type: 'text', text: 'A long manual…', cache_control: cache }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Read this', cache_control: { type: 'ephemeral', ttl: '1h' } },
            { type: 'image_url', image_url: { url: 'https://example.com/a.png' }, cache_control: cache },
          ],
        },
      ],
    });
    expect(body.system).toEqual([
      { type: 'text', text: 'You are terse.' },
      { type: 'text', text: 'A long manual…', cache_control: cache },
    ]);
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Read this', cache_control: { type: 'ephemeral', ttl: '1h' } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' }, cache_control: cache },
        ],
      },
    ]);
  });

  it('refuses thinking blocks outside assistant messages', () => {
    const req: Partial<ChatRequest> = {
      messages: [{ role: 'user', content: [{ type: 'thinking', thinking: 'x', signature: 's' }] }],
    };
    expect(thrown(() => bodyOf(req))).toMatchObject({ errorClass: 'http_4xx' });
  });
});

/** What Anthropic is sent for a parameter, or the name it is refused by. */
type ParameterRow = { req: Partial<ChatRequest> } & ({ sends: Record<string, unknown> } | { refused: string });

/** One row per ChatParameters field (the type makes a new field need a row), and the core fields. */
const PARAMETERS: Record<keyof ChatParameters, ParameterRow> = {
  seed: { req: { seed: 7 }, refused: 'seed' },
  presence_penalty: { req: { presence_penalty: 0.5 }, refused: 'presence_penalty' },
  frequency_penalty: { req: { frequency_penalty: 0.5 }, refused: 'frequency_penalty' },
  logit_bias: { req: { logit_bias: { '50256': -100 } }, refused: 'logit_bias' },
  logprobs: { req: { logprobs: true }, refused: 'logprobs' },
  top_logprobs: { req: { top_logprobs: 2 }, refused: 'top_logprobs' },
  n: { req: { n: 2 }, refused: 'n' },
  user: { req: { user: 'u-42' }, sends: { metadata: { user_id: 'u-42' } } },
  metadata: { req: { metadata: { session: 'abc' } }, refused: 'metadata.session' },
  store: { req: { store: true }, refused: 'store' },
  service_tier: { req: { service_tier: 'standard_only' }, sends: { service_tier: 'standard_only' } },
  reasoning_effort: {
    req: { reasoning_effort: 'high', max_output_tokens: 8192 },
    sends: { thinking: { type: 'enabled', budget_tokens: 4096 } },
  },
  modalities: { req: { modalities: ['text', 'audio'] }, refused: 'modalities' },
  prediction: { req: { prediction: { type: 'content', content: 'x' } }, refused: 'prediction' },
  top_k: { req: { top_k: 40 }, sends: { top_k: 40 } },
  thinking: {
    req: { thinking: { type: 'enabled', budget_tokens: 2048 } },
    sends: { thinking: { type: 'enabled', budget_tokens: 2048 } },
  },
};

const OTHER_FIELDS: Record<string, ParameterRow> = {
  temperature: { req: { temperature: 0.2 }, sends: { temperature: 0.2 } },
  top_p: { req: { top_p: 0.9 }, sends: { top_p: 0.9 } },
  stop: { req: { stop: ['END'] }, sends: { stop_sequences: ['END'] } },
  'n = 1': { req: { n: 1 }, sends: {} },
  'metadata.user_id': { req: { metadata: { user_id: 'u-7' } }, sends: { metadata: { user_id: 'u-7' } } },
  max_tokens: { req: { max_tokens: 300, max_output_tokens: 8192 }, sends: { max_tokens: 300 } },
  max_output_tokens: { req: { max_output_tokens: 8192 }, sends: { max_tokens: 8192 } },
  'no limit at all': { req: {}, sends: { max_tokens: ANTHROPIC_DEFAULT_MAX_TOKENS } },
  extra: { req: { extra: { min_p: 0.1 } }, refused: 'min_p' },
};

describe('anthropic mapper: every parameter forwarded, translated or refused by name', () => {
  it.each(Object.entries({ ...PARAMETERS, ...OTHER_FIELDS }))('%s', (_field, row) => {
    if ('sends' in row) {
      expect(bodyOf(row.req)).toMatchObject(row.sends);
      return;
    }
    expect(thrown(() => bodyOf(row.req))).toMatchObject({
      errorClass: 'http_4xx',
      message: expect.stringMatching(new RegExp(`^${row.refused}\\b.*not supported by anthropic upstreams$`)),
    });
  });
});

describe('anthropic mapper: reasoning_effort as extended thinking', () => {
  const withTools = (messages: ChatRequest['messages']): Partial<ChatRequest> => ({
    reasoning_effort: 'medium',
    max_tokens: 4000,
    tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }],
    messages,
  });
  const call = { id: 'toolu_1', type: 'function' as const, function: { name: 'get_weather', arguments: '{}' } };

  it.each([
    ['low', 1024],
    ['medium', 2048],
    ['high', 4096],
    ['xhigh', 8192],
  ])('%s asks for a thinking budget of %i tokens, and sends no reasoning_effort', (effort, budget) => {
    const body = bodyOf({ reasoning_effort: effort, max_tokens: 10_000 });
    expect(body.thinking).toEqual({ type: 'enabled', budget_tokens: budget });
    expect(body).not.toHaveProperty('reasoning_effort');
    expect(body.max_tokens).toBe(10_000);
  });

  it.each(['none', 'minimal'])('%s asks for no thinking', (effort) => {
    expect(bodyOf({ reasoning_effort: effort, max_tokens: 10_000 })).not.toHaveProperty('thinking');
  });

  it('refuses an effort it does not know, and a max_tokens not above the budget, naming both numbers', () => {
    expect(thrown(() => bodyOf({ reasoning_effort: 'extreme' }))).toMatchObject({
      errorClass: 'http_4xx',
      message: expect.stringMatching(
        /^reasoning_effort extreme is not one of none, minimal, low, medium, high, xhigh$/,
      ),
    });
    expect(thrown(() => bodyOf({ reasoning_effort: 'low', max_tokens: 1024 }))).toMatchObject({
      errorClass: 'http_4xx',
      message:
        'max_tokens (1024) must be above the 1024 thinking tokens of reasoning_effort low on anthropic upstreams',
    });
    // Without a limit of the client's or the catalog's, the default (1024) is too small for any budget.
    expect(thrown(() => bodyOf({ reasoning_effort: 'low' }))).toMatchObject({ errorClass: 'http_4xx' });
  });

  it('keeps a thinking the request sets itself over its effort', () => {
    const body = bodyOf({ reasoning_effort: 'high', thinking: { type: 'disabled' }, max_tokens: 10_000 });
    expect(body.thinking).toEqual({ type: 'disabled' });
  });

  it('thinks in a tool loop whose last assistant turn kept its thinking, first and intact', () => {
    const body = bodyOf(
      withTools([
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: [{ type: 'thinking', thinking: 'Look it up.', signature: 'sig-1' }],
          tool_calls: [call],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'cold' },
      ]),
    );
    expect(body.thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
    expect((body.messages as { content: unknown }[])[1].content).toEqual([
      { type: 'thinking', thinking: 'Look it up.', signature: 'sig-1' },
      { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} },
    ]);
  });

  it("leaves out thinking without a signature (another kind's), and does not think in its tool loop", () => {
    const body = bodyOf(
      withTools([
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'Unsigned.' }], tool_calls: [call] },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'cold' },
      ]),
    );
    expect((body.messages as { content: unknown }[])[1].content).toEqual([
      { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} },
    ]);
    expect(body).not.toHaveProperty('thinking');
  });

  it('does not think where Anthropic would refuse it: a tool loop without the thinking, or a forced tool', () => {
    const loop = bodyOf(
      withTools([
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'cold' },
      ]),
    );
    expect(loop).not.toHaveProperty('thinking');
    const forced = bodyOf({ ...withTools([{ role: 'user', content: 'Weather?' }]), tool_choice: 'required' });
    expect(forced).not.toHaveProperty('thinking');
    expect(forced.tool_choice).toEqual({ type: 'any' });
    // A later plain turn thinks again: only the tool loop's own turn must start with thinking.
    const later = bodyOf(
      withTools([
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'cold' },
        { role: 'assistant', content: 'It is cold.' },
        { role: 'user', content: 'And tomorrow?' },
      ]),
    );
    expect(later.thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
  });
});
