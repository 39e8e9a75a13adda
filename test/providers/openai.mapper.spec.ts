import type { ChatRequest } from '../../src/providers/dto/chat';
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
} from '../../src/providers/kinds/openai/openai.mapper';
import {
  OPENAI_CHAT_RESPONSE,
  OPENAI_EMBEDDINGS_RESPONSE,
  OPENAI_ERROR_401,
  OPENAI_MODELS,
  OPENAI_STREAM,
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
