import type { ChatRequest } from '../../src/providers/dto/chat';
import {
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
