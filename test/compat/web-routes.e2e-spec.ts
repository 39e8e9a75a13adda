import { createHash } from 'node:crypto';
import { get } from 'node:http';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { expectEnvelope } from '../support/http';
import { png } from '../support/images';
import { expectGenerated } from './production-api';
import { Gateway, NO_RETRY, startGateway, waitForLedger } from '../gateway/gateway-support';

const BODY_LIMIT = 100_000;
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** The Production API's web routes (`POST /avibe`, `POST /avision`) and `GET /` for browsers and programs. */
describe('the replaced services’ web routes', () => {
  let upstream: FakeUpstream;
  let gw: Gateway;
  const key = (): { apiKey: string } => ({ apiKey: gw.apiKey });

  beforeAll(async () => {
    upstream = await startFakeUpstream('openai', { models: ['gpt-4o'], reply: { text: 'generated' } });
    gw = await startGateway({
      providers: [{ id: 'openai', kind: 'openai', base_url: upstream.baseUrl, models: ['gpt-4o'], retry: NO_RETRY }],
      env: { BODY_LIMIT_BYTES: String(BODY_LIMIT), LEGACY_PROMPT_MAX_CHARS: '100' },
    });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });
  beforeEach(() => upstream.reset());

  /** The image the upstream received, as the SHA-256 of its decoded bytes. */
  function receivedImage(): string {
    const [call] = upstream.requestsTo('/chat/completions');
    const parts = (call.body as { messages: { content: { type: string; image_url?: { url: string } }[] }[] })
      .messages[0].content;
    const url = parts.find((p) => p.type === 'image_url')?.image_url?.url ?? '';
    return sha256(Buffer.from(url.replace(/^data:image\/png;base64,/, ''), 'base64'));
  }

  describe('POST /avibe: the same route as POST /api/v1/text/generate', () => {
    it('generates text in the same shape, rate limited, billed as text generation', async () => {
      const res = await gw.api.post('/avibe', { prompt: 'hello', max_tokens: 5 }, key());
      expectGenerated(res, 'generated');
      expect(res.headers.get('x-ratelimit-remaining-minute')).toMatch(/^\d+$/);
      expect(res.headers.get('x-conflux-model')).toBe('gpt-4o');
      const id = res.headers.get('x-request-id');
      const rows = await waitForLedger(gw.t.db.url, (r) => r.length > 0, 'request_id = $1', [id]);
      expect(rows.map((r) => r.endpoint)).toEqual(['/api/v1/text/generate']);
    });

    it('refuses as the original route does: a prompt too long, no credentials, a bad field', async () => {
      const tooLong = await gw.api.post('/avibe', { prompt: 'x'.repeat(101) }, key());
      expectEnvelope(tooLong, 400, 'validation_error');
      expectEnvelope(await gw.api.post('/avibe', { prompt: 'hello' }), 401, 'unauthorized');
      expectEnvelope(
        await gw.api.post('/avibe', { prompt: 'hello', max_tokens: 'many' }, key()),
        400,
        'validation_failed',
      );
      expect(upstream.requestsTo('/chat/completions')).toHaveLength(0);
    });
  });

  describe('POST /avision: the same route as POST /api/v1/image/analyze', () => {
    it('takes a multipart upload and hands its image to a vision model', async () => {
      const image = png(20_000);
      const form = new FormData();
      form.append('prompt', 'What is it?');
      form.append('file', new Blob([image], { type: 'image/png' }), 'photo.png');
      const res = await fetch(`${gw.t.url}/avision`, {
        method: 'POST',
        body: form,
        headers: { 'x-api-key': gw.apiKey },
      });
      const text = await res.text();
      expectGenerated(
        {
          status: res.status,
          headers: res.headers,
          body: JSON.parse(text) as Record<string, unknown>,
          text,
        },
        'generated',
      );
      expect(receivedImage()).toBe(sha256(image));
    });

    it('parses its own JSON body: an image larger than BODY_LIMIT_BYTES is taken', async () => {
      const image = png(2 * BODY_LIMIT);
      const res = await gw.api.post('/avision', { image: image.toString('base64'), prompt: 'What is it?' }, key());
      expectGenerated(res, 'generated');
      expect(receivedImage()).toBe(sha256(image));
      // Any other route still has the global limit.
      const other = await gw.api.post('/avibe', { prompt: 'x', padding: 'y'.repeat(2 * BODY_LIMIT) }, key());
      expectEnvelope(other, 413, 'payload_too_large');
    });

    it('refuses another body type with 415', async () => {
      const res = await gw.api.request('POST', '/avision', {
        ...key(),
        raw: 'prompt=hello',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expectEnvelope(res, 415, 'unsupported_media_type');
    });
  });

  describe('GET /: JSON for programs, the web console for browsers', () => {
    const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

    async function root(accept: string | null): Promise<Response> {
      const headers: Record<string, string> = accept === null ? {} : { accept };
      return fetch(`${gw.t.url}/`, { headers, redirect: 'manual' });
    }

    it.each([
      ['curl’s default', '*/*'],
      ['JSON', 'application/json'],
      ['JSON before HTML', 'application/json, text/html'],
      ['JSON preferred by weight', 'text/html;q=0.5, application/json'],
    ])('answers the service information to %s (%s)', async (_name, accept) => {
      const res = await root(accept);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(res.headers.get('vary')).toMatch(/accept/i);
      expect(((await res.json()) as { name: string }).name).toBe('Conflux');
    });

    it('answers the service information when no Accept header is sent', async () => {
      // fetch always sends Accept; a bare node:http request does not.
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        get(`${gw.t.url}/`, (r) => {
          let body = '';
          r.on('data', (c: Buffer) => (body += c.toString()));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body }));
        }).on('error', reject);
      });
      expect(res.status).toBe(200);
      expect((JSON.parse(res.body) as { name: string }).name).toBe('Conflux');
    });

    it.each([
      ['a browser', BROWSER],
      ['HTML only', 'text/html'],
    ])('sends %s to /console/ with a 302', async (_name, accept) => {
      const res = await root(accept);
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe('/console/');
      expect(res.headers.get('vary')).toMatch(/accept/i);
    });
  });

  it('documents the routes', async () => {
    const doc = (await gw.api.get('/docs-json')).body as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    expect(doc.paths['/avibe']?.post).toBeDefined();
    expect(doc.paths['/avision']?.post).toBeDefined();
    expect(Object.keys(doc.paths['/'].get.responses).sort()).toEqual(['200', '302']);
  });
});
