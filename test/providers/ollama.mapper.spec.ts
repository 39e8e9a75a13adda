import type { ChatParameters, ChatRequest } from '../../src/providers/dto/chat';
import {
  ollamaChatRequest,
  ollamaChatResult,
  ollamaEmbedRequest,
  ollamaEmbedResult,
  ollamaErrorMessage,
  ollamaMapper,
  ollamaModelList,
  ollamaStreamChunk,
} from '../../src/providers/kinds/ollama/ollama.mapper';
import {
  OLLAMA_CHAT_RESPONSE,
  OLLAMA_EMBED_RESPONSE,
  OLLAMA_STREAM,
  OLLAMA_TAGS,
  OLLAMA_TOOL_CALL_RESPONSE,
  OLLAMA_TOOL_CALL_STREAM,
  PNG_BASE64,
  PNG_DATA_URL,
} from './fixtures/recorded';
import { thrown } from './helpers';
import { decodeRecorded, deltas } from './stream-feed';

describe('ollama mapper', () => {
  it('builds /api/chat with options and the stream flag', () => {
    const req: ChatRequest = {
      model: 'llama3.2',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Why is the sky blue?' },
      ],
      max_tokens: 64,
      temperature: 0.1,
      top_p: 0.9,
      stop: ['###'],
    };
    expect(ollamaChatRequest(req, false)).toEqual({
      method: 'POST',
      path: '/api/chat',
      body: {
        model: 'llama3.2',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Why is the sky blue?' },
        ],
        stream: false,
        options: { num_predict: 64, temperature: 0.1, top_p: 0.9, stop: ['###'] },
      },
    });
    const streamed = ollamaChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, true).body;
    expect(streamed).toEqual({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true });
  });

  it('sends data-URL images as base64 `images` and refuses remote ones', () => {
    const req: ChatRequest = {
      model: 'llava',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: PNG_DATA_URL } },
          ],
        },
      ],
    };
    expect((ollamaChatRequest(req, false).body as { messages: unknown[] }).messages).toEqual([
      { role: 'user', content: 'What is this?', images: [PNG_BASE64] },
    ]);
    const remote: ChatRequest = {
      model: 'llava',
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }],
    };
    expect(thrown(() => ollamaChatRequest(remote, false))).toMatchObject({ errorClass: 'http_4xx' });
  });

  const user = (content: string) => ({ role: 'user' as const, content });
  const sent = (req: Partial<ChatRequest>) =>
    JSON.parse(
      JSON.stringify(ollamaChatRequest({ model: 'qwen3', messages: [user('x')], ...req }, false).body),
    ) as Record<string, unknown>;

  it('sends tools, tool calls with object arguments and tool results named after their call', () => {
    const tool = {
      type: 'function' as const,
      function: { name: 'get_temperature', parameters: { type: 'object' } },
      cache_control: { type: 'ephemeral' as const },
    };
    const body = sent({
      messages: [
        user('Temperature in New York and Toronto?'),
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_temperature', arguments: '{"city":"New York"}' } },
            { id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_2', content: 'sunny', is_error: false },
        { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: '22°C' }] },
      ],
      tools: [tool],
      tool_choice: 'auto',
    });
    expect(body).toEqual({
      model: 'qwen3',
      messages: [
        user('Temperature in New York and Toronto?'),
        {
          role: 'assistant',
          content: '',
          tool_calls: [
            { function: { name: 'get_temperature', arguments: { city: 'New York' } } },
            { function: { name: 'get_weather', arguments: {} } },
          ],
        },
        { role: 'tool', content: 'sunny', tool_name: 'get_weather' },
        { role: 'tool', content: '22°C', tool_name: 'get_temperature' },
      ],
      tools: [{ type: 'function', function: tool.function }],
      stream: false,
    });
    expect(sent({ tools: [tool], tool_choice: 'none' })).not.toHaveProperty('tools');
  });

  it('refuses a tool result without its call and tool-call arguments that are not a JSON object', () => {
    const orphan = thrown(() =>
      sent({ messages: [user('x'), { role: 'tool', tool_call_id: 'call_9', content: 'r' }] }),
    );
    expect(orphan).toMatchObject({ errorClass: 'http_4xx', message: expect.stringContaining('call_9') });
    const call = { id: 'call_1', type: 'function' as const, function: { name: 'f', arguments: '[1]' } };
    const bad = thrown(() => sent({ messages: [{ role: 'assistant', content: null, tool_calls: [call] }] }));
    expect(bad).toMatchObject({ errorClass: 'http_4xx', message: expect.stringContaining('call_1') });
  });

  it('maps response_format to format', () => {
    const schema = { type: 'object', properties: { age: { type: 'integer' } } };
    expect(sent({ response_format: { type: 'text' } })).not.toHaveProperty('format');
    expect(sent({ response_format: { type: 'json_object' } }).format).toBe('json');
    const structured = sent({
      response_format: { type: 'json_schema', json_schema: { name: 'p', schema, strict: true } },
    });
    expect(structured.format).toEqual(schema);
  });

  const options: [keyof ChatRequest, string, unknown][] = [
    ['max_tokens', 'num_predict', 64],
    ['temperature', 'temperature', 0.2],
    ['top_p', 'top_p', 0.9],
    ['top_k', 'top_k', 20],
    ['stop', 'stop', ['###']],
    ['seed', 'seed', 42],
    ['presence_penalty', 'presence_penalty', 0.5],
    ['frequency_penalty', 'frequency_penalty', -0.5],
  ];

  it.each(options)('sends %s as options.%s', (name, option, value) => {
    expect(sent({ [name]: value }).options).toEqual({ [option]: value });
  });

  const refused: [string, Partial<ChatRequest>][] = [
    ['logit_bias', { logit_bias: { '50256': -100 } }],
    ['logprobs', { logprobs: true }],
    ['top_logprobs', { top_logprobs: 3 }],
    ['n', { n: 2 }],
    ['user', { user: 'user-1234' }],
    ['metadata', { metadata: { session: 'abc' } }],
    ['store', { store: true }],
    ['service_tier', { service_tier: 'flex' }],
    ['modalities', { modalities: ['text', 'audio'] }],
    ['prediction', { prediction: { type: 'content', content: 'draft' } }],
    ['parallel_tool_calls', { parallel_tool_calls: false }],
    ['tool_choice', { tool_choice: 'required' }],
    ['tool_choice', { tool_choice: { type: 'function', function: { name: 'f' } } }],
    ['min_p', { extra: { min_p: 0.05 } }],
  ];

  it.each(refused)('refuses %s by name', (name, req) => {
    expect(thrown(() => sent(req))).toMatchObject({
      errorClass: 'http_4xx',
      message: `${name} is not supported by ollama upstreams`,
    });
  });

  it.each([
    ['reasoning_effort none', { reasoning_effort: 'none' }, false],
    ['reasoning_effort minimal', { reasoning_effort: 'minimal' }, false],
    ['reasoning_effort low', { reasoning_effort: 'low' }, 'low'],
    ['reasoning_effort high', { reasoning_effort: 'high' }, 'high'],
    ['reasoning_effort xhigh', { reasoning_effort: 'xhigh' }, 'high'],
    ['thinking enabled', { thinking: { type: 'enabled' as const, budget_tokens: 1024 } }, true],
    ['thinking disabled', { thinking: { type: 'disabled' as const } }, false],
  ])('sends %s as think', (_name, req: Partial<ChatRequest>, think) => {
    expect(sent(req).think).toEqual(think);
  });

  it('refuses a reasoning effort it does not know, and sends no think without one', () => {
    expect(thrown(() => sent({ reasoning_effort: 'extreme' }))).toMatchObject({ errorClass: 'http_4xx' });
    expect(sent({})).not.toHaveProperty('think');
  });

  it('reads thinking from answers and stream lines, and gives it back on the assistant turn', () => {
    const result = ollamaChatResult(
      { model: 'qwen3', message: { role: 'assistant', content: 'Four.', thinking: 'Two and two.' }, done: true },
      'qwen3',
    );
    expect(result.thinking).toEqual([{ type: 'thinking', thinking: 'Two and two.' }]);
    expect(ollamaStreamChunk(JSON.stringify({ message: { content: '', thinking: 'Two' }, done: false }))).toEqual([
      { type: 'thinking', thinking: 'Two' },
    ]);
    const history = sent({
      messages: [
        { role: 'user', content: '2+2?' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'Two and two.' },
            { type: 'text', text: 'Four.' },
          ],
        },
        { role: 'user', content: 'And 3+3?' },
      ],
    }).messages as Record<string, unknown>[];
    expect(history[1]).toEqual({ role: 'assistant', content: 'Four.', thinking: 'Two and two.' });
  });

  it('accepts parameters at the value that asks for nothing', () => {
    const neutral: Partial<ChatParameters> = {
      n: 1,
      logprobs: false,
      store: false,
      modalities: ['text'],
    };
    expect(sent({ ...neutral, parallel_tool_calls: true })).toEqual(sent({}));
  });

  it('reads tool calls with fresh ids, their arguments as JSON text', () => {
    const first = ollamaChatResult(OLLAMA_TOOL_CALL_RESPONSE, 'asked');
    expect(first).toEqual({
      model: 'llama3.2',
      text: '',
      tool_calls: [
        {
          id: expect.stringMatching(/^call_[0-9a-f]{24}$/),
          type: 'function',
          function: { name: 'get_current_weather', arguments: '{"format":"celsius","location":"Paris, FR"}' },
        },
      ],
      finish_reason: 'tool_calls',
      usage: { input_tokens: 122, output_tokens: 33 },
    });
    const second = ollamaChatResult(OLLAMA_TOOL_CALL_RESPONSE, 'asked');
    expect(second.tool_calls?.[0].id).not.toBe(first.tool_calls?.[0].id);
  });

  it.each([1, 50, 10_000])('decodes streamed tool calls cut into %i-character pieces', async (size) => {
    const { events, error } = await decodeRecorded(OLLAMA_TOOL_CALL_STREAM, ollamaMapper, size);
    expect(error).toBeUndefined();
    const id = expect.stringMatching(/^call_[0-9a-f]{24}$/) as unknown as string;
    expect(events).toEqual([
      { type: 'tool_call', index: 0, id, name: 'get_temperature', arguments: '{"city":"New York"}' },
      { type: 'tool_call', index: 1, id, name: 'get_temperature', arguments: '{"city":"Toronto"}' },
      { type: 'usage', usage: { input_tokens: 181, output_tokens: 52 } },
      { type: 'finish', finish_reason: 'tool_calls' },
    ]);
  });

  it('reads a recorded chat response', () => {
    expect(ollamaChatResult(OLLAMA_CHAT_RESPONSE, 'asked')).toEqual({
      model: 'llama3.2',
      text: 'Hello! How are you today?',
      finish_reason: 'stop',
      usage: { input_tokens: 26, output_tokens: 298 },
    });
    const cached = { ...OLLAMA_CHAT_RESPONSE, prompt_eval_count: undefined };
    expect(ollamaChatResult(cached, 'm').usage).toEqual({ input_tokens: 0, output_tokens: 298 });
    expect(thrown(() => ollamaChatResult({ done: true }, 'm'))).toMatchObject({ errorClass: 'malformed' });
  });

  it('parses single NDJSON lines', () => {
    expect(ollamaStreamChunk('{"model":"m","message":{"role":"assistant","content":"Hi"},"done":false}')).toEqual([
      { type: 'delta', text: 'Hi' },
    ]);
    expect(thrown(() => ollamaStreamChunk('{"error":"model runner crashed"}'))).toMatchObject({
      errorClass: 'http_5xx',
      message: 'model runner crashed',
    });
    expect(thrown(() => ollamaStreamChunk('{"model": broken'))).toMatchObject({ errorClass: 'malformed' });
  });

  it.each([1, 9, 100, 10_000])('decodes a recorded NDJSON stream cut into %i-character pieces', async (size) => {
    const { events, error } = await decodeRecorded(OLLAMA_STREAM, ollamaMapper, size);
    expect(error).toBeUndefined();
    expect(deltas(events).join('')).toBe('The sky is blue.');
    expect(events.slice(-2)).toEqual([
      { type: 'usage', usage: { input_tokens: 26, output_tokens: 282 } },
      { type: 'finish', finish_reason: 'length' },
    ]);
  });

  it('says a stream without its done line is malformed', async () => {
    const lines = OLLAMA_STREAM.split('\n');
    const { events, error } = await decodeRecorded(lines.slice(0, 3).join('\n'), ollamaMapper, 20);
    expect(deltas(events)).toEqual(['The', ' sky', ' is blue.']);
    expect(error?.errorClass).toBe('malformed');
  });

  it('maps /api/embed, /api/tags and error bodies', () => {
    expect(ollamaEmbedRequest({ model: 'all-minilm', input: ['a', 'b'] })).toEqual({
      method: 'POST',
      path: '/api/embed',
      body: { model: 'all-minilm', input: ['a', 'b'] },
    });
    expect(ollamaEmbedResult(OLLAMA_EMBED_RESPONSE, 'm')).toEqual({
      model: 'all-minilm',
      vectors: OLLAMA_EMBED_RESPONSE.embeddings,
      usage: { input_tokens: 8 },
    });
    expect(ollamaModelList(OLLAMA_TAGS)).toEqual(['llama3.2:latest']);
    expect(ollamaErrorMessage({ error: 'model "nope" not found, try pulling it first' })).toBe(
      'model "nope" not found, try pulling it first',
    );
    expect(ollamaMapper.modelsRequest()).toEqual({ method: 'GET', path: '/api/tags' });
  });
});
