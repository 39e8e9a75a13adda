import type { ChatRequest } from '../../src/providers/dto/chat';
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
