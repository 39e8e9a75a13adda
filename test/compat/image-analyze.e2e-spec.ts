import { createHash, randomBytes } from 'node:crypto';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { png } from '../support/images';
import { expectGenerated } from './production-api';
import { ApiResponse, expectEnvelope } from '../support/http';
import { Gateway, NO_RETRY, startGateway, waitForLedger } from '../gateway/gateway-support';

const MiB = 1024 * 1024;
/** What the fake upstream answers. */
const ANSWER = 'a small red square';
const ROUTE = '/api/v1/image/analyze';

/** A JPEG's start (SOI and a JFIF APP0 segment), padded: enough to be told by its content. */
function jpeg(size: number): Buffer {
  const head = Buffer.from([
    0xff,
    0xd8,
    0xff,
    0xe0,
    0x00,
    0x10,
    ...Buffer.from('JFIF\0', 'latin1'),
    1,
    1,
    0,
    0,
    1,
    0,
    1,
    0,
    0,
  ]);
  return Buffer.concat([head, randomBytes(size - head.length)]);
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

interface Form {
  file?: { bytes: Buffer; name: string; type: string };
  fields?: Record<string, string>;
}

describe('POST /api/v1/image/analyze (Production API, Avision)', () => {
  let upstream: FakeUpstream;
  let gw: Gateway;

  async function send(body: FormData | string, headers: Record<string, string>): Promise<ApiResponse> {
    const res = await fetch(`${gw.t.url}${ROUTE}`, { method: 'POST', body, headers });
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // left empty: the assertions say what was expected
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  }

  function upload(form: Form, headers: Record<string, string> = { 'x-api-key': gw.apiKey }): Promise<ApiResponse> {
    const data = new FormData();
    for (const [name, value] of Object.entries(form.fields ?? {})) data.append(name, value);
    if (form.file) data.append('file', new Blob([form.file.bytes], { type: form.file.type }), form.file.name);
    return send(data, headers);
  }

  function postJson(body: unknown): Promise<ApiResponse> {
    return send(JSON.stringify(body), { 'x-api-key': gw.apiKey, 'content-type': 'application/json' });
  }

  /** The image the upstream received: its media type and the SHA-256 of its decoded bytes. */
  function receivedImage(): { type: string; sha256: string; prompt: string; model: string } {
    const calls = upstream.requestsTo('/chat/completions');
    expect(calls).toHaveLength(1);
    const body = calls[0].body as {
      model: string;
      messages: { content: ({ type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } })[] }[];
    };
    const parts = body.messages[0].content;
    const text = parts.find((p) => p.type === 'text');
    const image = parts.find((p) => p.type === 'image_url');
    const match = /^data:([^;]+);base64,(.*)$/s.exec(image?.type === 'image_url' ? image.image_url.url : '');
    expect(match).not.toBeNull();
    return {
      type: match![1],
      sha256: sha256(Buffer.from(match![2], 'base64')),
      prompt: text?.type === 'text' ? text.text : '',
      model: body.model,
    };
  }

  const promptTooLong = (res: ApiResponse): void =>
    expect({ status: res.status, body: res.body }).toEqual({
      status: 400,
      body: {
        error: 'validation_error',
        message: 'Prompt too long. Maximum length: 2000 characters',
        request_id: res.headers.get('x-request-id'),
      },
    });

  beforeAll(async () => {
    // gpt-3.5-turbo cannot see images (catalog modalities), gpt-4o can: only gpt-4o may be chosen.
    upstream = await startFakeUpstream('openai', {
      models: ['gpt-3.5-turbo', 'gpt-4o'],
      reply: { text: ANSWER },
    });
    gw = await startGateway({
      providers: [
        {
          id: 'openai',
          kind: 'openai',
          base_url: upstream.baseUrl,
          models: ['gpt-3.5-turbo', 'gpt-4o'],
          retry: NO_RETRY,
        },
      ],
    });
  });

  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  beforeEach(() => upstream.reset());

  it('takes a 15 MB PNG and hands exactly its bytes, as image/png, to a vision-capable model', async () => {
    const image = png(15 * MiB);
    const res = await upload({
      file: { bytes: image, name: 'photo.png', type: 'image/png' },
      fields: { prompt: 'What is in the picture?', max_tokens: '50', temperature: '0.2' },
    });
    expectGenerated(res, ANSWER);
    expect(receivedImage()).toEqual({
      type: 'image/png',
      sha256: sha256(image),
      prompt: 'What is in the picture?',
      model: 'gpt-4o',
    });
    const sent = upstream.requestsTo('/chat/completions')[0].body as Record<string, unknown>;
    expect(sent).toMatchObject({ max_tokens: 50, temperature: 0.2 });
    const rows = await waitForLedger(gw.t.db.url, (r) => r.length === 1, 'request_id = $1', [
      res.headers.get('x-request-id'),
    ]);
    expect(rows[0]).toMatchObject({ endpoint: '/api/v1/image/analyze', model: 'gpt-4o', status: 'success' });
  });

  it('refuses a 17 MB PNG with 413 and stays healthy', async () => {
    const res = await upload({ file: { bytes: png(17 * MiB), name: 'big.png', type: 'image/png' } });
    expect({ status: res.status, body: res.body }).toEqual({
      status: 413,
      body: {
        error: 'payload_too_large',
        message: 'File too large. Maximum size: 16 MB',
        request_id: res.headers.get('x-request-id'),
      },
    });
    expect(upstream.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
    expect((await gw.api.get('/health/live')).status).toBe(200);
    expectGenerated(await upload({ file: { bytes: png(1024), name: 'small.png', type: 'image/png' } }), ANSWER);
  });

  it('tells the type by content: a PDF named .png and declared image/png is 415', async () => {
    const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n', 'latin1'), randomBytes(4096)]);
    const res = await upload({ file: { bytes: pdf, name: 'scan.png', type: 'image/png' } });
    expectEnvelope(res, 415, 'unsupported_media_type');
    expect(res.body.message).toMatch(/PNG, JPEG, GIF or WebP/);
    expect(upstream.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('takes a JPEG (whatever its declared type) and sends it as image/jpeg, with the default prompt', async () => {
    const image = jpeg(200 * 1024);
    expectGenerated(await upload({ file: { bytes: image, name: 'photo', type: 'application/octet-stream' } }), ANSWER);
    expect(receivedImage()).toMatchObject({
      type: 'image/jpeg',
      sha256: sha256(image),
      prompt: 'Describe this image in detail.',
    });
  });

  it('answers 400 without an image', async () => {
    const res = await upload({ fields: { prompt: 'What is this?' } });
    expectEnvelope(res, 400, 'validation_error');
    expectEnvelope(await postJson({ prompt: 'What is this?' }), 400, 'validation_error');
    expect(upstream.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it("refuses a prompt over LEGACY_PROMPT_MAX_CHARS with the seed's code and message, on both routes", async () => {
    const file = { bytes: png(1024), name: 'a.png', type: 'image/png' };
    promptTooLong(await upload({ file, fields: { prompt: 'x'.repeat(2001) } }));
    // Longer than any prompt the form field may carry: cut while the form is read.
    promptTooLong(await upload({ file, fields: { prompt: 'é'.repeat(20_000) } }));
    promptTooLong(await postJson({ image: png(1024).toString('base64'), prompt: 'x'.repeat(2001) }));
    const text = await gw.api.post('/api/v1/text/generate', { prompt: 'x'.repeat(2001) }, { apiKey: gw.apiKey });
    promptTooLong(text);
    expect(upstream.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
    expectGenerated(await upload({ file, fields: { prompt: 'x'.repeat(2000) } }), ANSWER);
  });

  it('takes a 12 MB image as a JSON data URL (past the global body limit, which other routes keep)', async () => {
    const image = png(12 * MiB);
    const res = await postJson({ image: `data:image/png;base64,${image.toString('base64')}`, prompt: 'Describe it.' });
    expectGenerated(res, ANSWER);
    expect(receivedImage()).toMatchObject({ type: 'image/png', sha256: sha256(image), prompt: 'Describe it.' });
    upstream.reset();
    const other = await gw.api.post(
      '/api/v1/text/generate',
      { prompt: 'hi', padding: 'x'.repeat(11 * MiB) },
      { apiKey: gw.apiKey },
    );
    expectEnvelope(other, 413, 'payload_too_large');
  });

  it('covers the image with the Idempotency-Key: another image under the same key is 422', async () => {
    const headers = { 'x-api-key': gw.apiKey, 'idempotency-key': `image-${Date.now()}` };
    const fields = { prompt: 'Same prompt' };
    const first = await upload({ file: { bytes: png(2048), name: 'a.png', type: 'image/png' }, fields }, headers);
    expectGenerated(first, ANSWER);
    const other = await upload({ file: { bytes: png(2048), name: 'a.png', type: 'image/png' }, fields }, headers);
    expectEnvelope(other, 422, 'unprocessable_entity');
    expect(upstream.requestsTo('/chat/completions')).toHaveLength(1);
  });

  it('answers 401 without credentials', async () => {
    const res = await upload({ file: { bytes: png(1024), name: 'a.png', type: 'image/png' } }, {});
    expectEnvelope(res, 401, 'unauthorized');
    expect(upstream.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });
});
