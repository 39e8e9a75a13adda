import { getEncoding } from 'js-tiktoken';
import OpenAI from 'openai';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { Gateway, NO_RETRY, startGateway, waitForLedger } from './gateway-support';

const TEXTS = ['Hello wörld, embeddings!', 'A second text to embed.'];

/**
 * The embeddings input shapes agent and RAG frameworks send: token lists (LangChain's default, in the
 * model's tiktoken encoding) and `dimensions`, through the official OpenAI SDK to an OpenAI-kind
 * upstream (which takes them as sent) and an Ollama one (which takes text).
 */
describe('embeddings: token lists and dimensions', () => {
  let openaiFake: FakeUpstream;
  let ollamaFake: FakeUpstream;
  let gw: Gateway;
  let openai: OpenAI;
  const cl100k = getEncoding('cl100k_base');
  const tokens = TEXTS.map((text) => cl100k.encode(text));

  beforeAll(async () => {
    openaiFake = await startFakeUpstream('openai', { models: ['text-embedding-3-small'] });
    ollamaFake = await startFakeUpstream('ollama', { models: ['nomic-embed-text'] });
    gw = await startGateway({
      providers: [
        {
          id: 'openai-a',
          kind: 'openai',
          base_url: openaiFake.baseUrl,
          models: ['text-embedding-3-small'],
          retry: NO_RETRY,
        },
        { id: 'ollama-a', kind: 'ollama', base_url: ollamaFake.baseUrl, models: ['nomic-embed-text'], retry: NO_RETRY },
      ],
    });
    openai = new OpenAI({ apiKey: gw.apiKey, baseURL: `${gw.t.url}/v1`, maxRetries: 0 });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([openaiFake?.close(), ollamaFake?.close()]);
  });

  beforeEach(() => {
    openaiFake.reset();
    ollamaFake.reset();
  });

  it('sends token lists and dimensions to an OpenAI-kind upstream as they are, billed by their length', async () => {
    const { data, response } = await openai.embeddings
      .create({ model: 'text-embedding-3-small', input: tokens, dimensions: 256, encoding_format: 'float' })
      .withResponse();
    expect(data.data).toHaveLength(2);
    expect(openaiFake.requestsTo('/embeddings')[0].body).toEqual({
      model: 'text-embedding-3-small',
      input: tokens,
      dimensions: 256,
    });
    const requestId = response.headers.get('x-request-id');
    const rows = await waitForLedger(gw.t.db.url, (r) => r.length === 1, 'request_id = $1', [requestId]);
    expect(rows[0].input_tokens).toBe(tokens[0].length + tokens[1].length);
  });

  it('gives an Ollama upstream the text of the token lists, and the dimensions', async () => {
    const res = await openai.embeddings.create({ model: 'nomic-embed-text', input: tokens, dimensions: 64 });
    expect(res.data).toHaveLength(2);
    expect(ollamaFake.requestsTo('/api/embed')[0].body).toEqual({
      model: 'nomic-embed-text',
      input: TEXTS,
      dimensions: 64,
    });
    // One token list (not a list of them) is one input.
    await openai.embeddings.create({ model: 'nomic-embed-text', input: tokens[0] });
    expect(ollamaFake.requestsTo('/api/embed')[1].body).toEqual({ model: 'nomic-embed-text', input: [TEXTS[0]] });
  });

  it.each([
    ['a mix of texts and tokens', ['text', [1, 2]]],
    ['a negative token id', [[1, -2]]],
    ['a fractional token id', [1.5]],
    ['an empty token list', [[]]],
  ])('refuses %s with a 400 before any upstream call', async (_name, input) => {
    const res = await gw.api.post('/v1/embeddings', { model: 'text-embedding-3-small', input }, { apiKey: gw.apiKey });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'validation_failed', param: 'input' } });
    expect(openaiFake.requests.filter((r) => r.path.endsWith('/embeddings'))).toHaveLength(0);
  });

  it('refuses dimensions out of range', async () => {
    const res = await gw.api.post(
      '/v1/embeddings',
      { model: 'text-embedding-3-small', input: 'x', dimensions: 0 },
      { apiKey: gw.apiKey },
    );
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'validation_failed', param: 'dimensions' } });
  });
});
