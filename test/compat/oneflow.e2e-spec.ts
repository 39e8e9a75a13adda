import { startApp, type TestApp } from '../support/app';
import { createApiKey, createProject, signInAdmin } from '../support/fixtures';
import { Api, type ApiResponse, expectEnvelope, expectOpenAiError } from '../support/http';

/** The body of OneFlow.AI's README, "REST API". */
const README_BODY = { input_tokens: 1500, output_tokens: 500, strategy: 'cost_optimized', modality: 'text' };

interface EstimateBody {
  strategy: string;
  primary_model: string;
  estimated_credits: number;
  fallback_chain: { model: string }[];
}

/** At least as strict as OneFlow.AI's "Security Headers". */
function expectSecurityHeaders(res: { headers: Headers }): void {
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('x-frame-options')).toBe('DENY');
  expect(res.headers.get('x-xss-protection')).toBe('1; mode=block');
  expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
  expect(['no-referrer', 'same-origin', 'strict-origin', 'strict-origin-when-cross-origin']).toContain(
    res.headers.get('referrer-policy'),
  );
  expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
}

const API_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

describe('OneFlow.AI clients', () => {
  let t: TestApp;
  let api: Api;
  let token: string;
  let apiKey: string;

  beforeAll(async () => {
    t = await startApp({ env: { CORS_ORIGINS: 'https://console.example.com' } });
    api = new Api(t.url);
    token = await signInAdmin(api);
    const projectId = (await createProject(api, token, 'oneflow')).id;
    apiKey = (await createApiKey(api, token, projectId, 'oneflow')).key;
  });
  afterAll(() => t?.close());

  describe('POST /api/v1/estimate', () => {
    it.each([
      ['a JWT', (): object => ({ token })],
      ['an API key', (): object => ({ apiKey })],
      ['an API key as bearer', (): object => ({ token: apiKey })],
    ])("takes the README's body, authenticated by %s", async (_how, credentials) => {
      const res = await api.post<EstimateBody>('/api/v1/estimate', README_BODY, credentials());
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        strategy: 'cost_optimized',
        primary_model: expect.any(String),
        estimated_credits: expect.any(Number),
        fallback_chain: expect.any(Array),
        input_tokens: 1500,
        output_tokens: 500,
      });
      expect(res.body.fallback_chain.length).toBeGreaterThan(0);
    });

    it('refuses an anonymous estimate', async () => {
      expectEnvelope(await api.post('/api/v1/estimate', README_BODY), 401, 'unauthorized');
    });

    it('defaults the strategy to balanced, and says so', async () => {
      const { strategy: _omitted, ...body } = README_BODY;
      const res = await api.post<EstimateBody>('/api/v1/estimate', body, { apiKey });
      expect(res.status).toBe(200);
      expect(res.body.strategy).toBe('balanced');
      const explicit = await api.post<EstimateBody>('/api/v1/estimate', { ...body, strategy: 'balanced' }, { apiKey });
      expect(res.body.primary_model).toBe(explicit.body.primary_model);
    });

    it('prices text as the chat models', async () => {
      const text = await api.post<EstimateBody>('/api/v1/estimate', README_BODY, { apiKey });
      const chat = await api.post<EstimateBody>('/api/v1/estimate', { ...README_BODY, modality: 'chat' }, { apiKey });
      expect(text.body.primary_model).toBe(chat.body.primary_model);
      expect(text.body.estimated_credits).toBe(chat.body.estimated_credits);
      const pinned = await api.post<EstimateBody>(
        '/api/v1/estimate',
        { ...README_BODY, model: 'gpt-4', strategy: undefined },
        { apiKey },
      );
      expect(pinned.body).toMatchObject({ primary_model: 'gpt-4', estimated_credits: 7.5 });
    });

    it.each(['image', 'audio'])('answers 400 naming %s, which no catalog model serves', async (modality) => {
      const res = await api.post('/api/v1/estimate', { ...README_BODY, modality }, { apiKey });
      expectEnvelope(res, 400, 'validation_failed');
      expect(res.body.message).toBe(`No model in the catalog serves modality "${modality}"`);
    });

    it('answers 400 naming the allowed values for an unknown modality', async () => {
      const res = await api.post('/api/v1/estimate', { ...README_BODY, modality: 'video' }, { apiKey });
      expectEnvelope(res, 400, 'validation_failed');
      for (const allowed of ['text', 'image', 'audio', 'chat', 'embeddings', 'vision']) {
        expect(res.body.message).toContain(allowed);
      }
    });
  });

  describe('a wrong method on an existing path', () => {
    const expect405 = (res: ApiResponse, allowed: string[]): void => {
      expectEnvelope(res, 405, 'method_not_allowed');
      const allow = (res.headers.get('allow') ?? '').split(', ');
      expect(allow).toEqual(expect.arrayContaining([...allowed, 'OPTIONS']));
      for (const method of allowed) expect(res.body.message).toContain(method);
      expectSecurityHeaders(res);
    };

    it('answers 405 with Allow for GET /api/v1/estimate, as the README lists it', async () => {
      const res = await api.get('/api/v1/estimate', { apiKey });
      expect405(res, ['POST']);
      expect(res.headers.get('allow')).toBe('OPTIONS, POST');
    });

    it('answers 405 for DELETE on a GET route, with or without credentials', async () => {
      expect405(await api.delete('/health/live'), ['GET', 'HEAD']);
      expect405(await api.delete('/models', { apiKey }), ['GET', 'HEAD']);
    });

    it("answers in the route's own error shape on the OpenAI-compatible paths", async () => {
      const res = await api.delete('/v1/models', { apiKey });
      expectOpenAiError(res, 405, 'method_not_allowed');
      expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    });

    it('answers 405 on routes with parameters, on the documentation and on its static files', async () => {
      expect405(await api.request('PUT', '/projects/some-project/api-keys'), ['GET', 'POST']);
      expect405(await api.post('/docs'), ['GET', 'HEAD']);
      expect405(await api.post('/docs/swagger-ui.css'), ['GET', 'HEAD']);
      expect405(await api.post('/redoc'), ['GET', 'HEAD']);
    });

    it('answers HEAD on a POST-only path with 405 and no body', async () => {
      const res = await fetch(`${t.url}/api/v1/estimate`, { method: 'HEAD' });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('OPTIONS, POST');
      expect(await res.text()).toBe('');
    });

    it('keeps 404 for paths that do not exist', async () => {
      expectEnvelope(await api.get('/api/v1/nope'), 404, 'not_found');
      expectEnvelope(await api.delete('/api/v1/estimate/extra'), 404, 'not_found');
      expectEnvelope(await api.post('/docs/no-such-file.js'), 404, 'not_found');
    });

    it('still answers CORS preflights', async () => {
      const preflight = await fetch(`${t.url}/api/v1/estimate`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://console.example.com',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('https://console.example.com');
      expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    });
  });

  describe('security headers', () => {
    it('are on JSON answers, errors and /metrics, with the strict policy', async () => {
      const answers = [
        await api.post('/api/v1/estimate', README_BODY, { apiKey }),
        await api.get('/health/live'),
        await api.get('/api/v1/nope'),
        await api.post('/api/v1/estimate', { modality: 'image' }, { apiKey }),
        await api.get('/metrics'),
        await api.get('/docs-json'),
      ];
      for (const res of answers) {
        expectSecurityHeaders(res);
        expect(res.headers.get('content-security-policy')).toBe(API_CSP);
      }
    });

    it('give /docs and its assets the policy Swagger UI needs', async () => {
      for (const path of ['/docs', '/docs/swagger-ui-init.js', '/docs/swagger-ui-bundle.js']) {
        const res = await fetch(`${t.url}${path}`);
        expect(res.status).toBe(200);
        expectSecurityHeaders(res);
        const csp = res.headers.get('content-security-policy');
        expect(csp).toContain("script-src 'self'");
        expect(csp).not.toContain('unsafe-eval');
        expect(csp).not.toContain('blob:');
      }
    });

    it('give /redoc the policy ReDoc needs, and its bundle long cache headers', async () => {
      const page = await fetch(`${t.url}/redoc`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expectSecurityHeaders(page);
      const csp = page.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain('worker-src blob:');
      const html = await page.text();
      expect(html).toContain('<redoc spec-url="/docs-json"></redoc>');
      expect(html).not.toMatch(/<script>|<script [^>]*>[^<]+<\/script>|https?:\/\//);
      const src = /<script src="([^"]+)"><\/script>/.exec(html)?.[1];
      expect(src).toMatch(/^\/redoc\/redoc\.standalone\.[0-9a-f]+\.js$/);
      const bundle = await fetch(`${t.url}${src}`);
      expect(bundle.status).toBe(200);
      expect(bundle.headers.get('content-type')).toContain('javascript');
      expect(bundle.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expectSecurityHeaders(bundle);
      expect((await bundle.text()).length).toBeGreaterThan(100_000);
    });
  });
});

describe('OPTIONS without CORS', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t?.close());

  it('answers 204 with Allow on an existing path, 404 elsewhere', async () => {
    const res = await fetch(`${t.url}/api/v1/estimate`, { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('allow')).toBe('OPTIONS, POST');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expectSecurityHeaders(res);
    expect((await fetch(`${t.url}/api/v1/nope`, { method: 'OPTIONS' })).status).toBe(404);
  });
});
