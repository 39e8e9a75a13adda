import { startApp, TestApp } from './support/app';
import { Api } from './support/http';

describe('HTTP surface: CORS and security headers', () => {
  let t: TestApp;
  let api: Api;

  beforeAll(async () => {
    t = await startApp({ env: { CORS_ORIGINS: 'https://console.example.com, https://ops.example.com' } });
    api = new Api(t.url);
  });
  afterAll(() => t.close());

  it('answers a preflight from an allowed origin', async () => {
    const res = await fetch(`${t.url}/projects`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://ops.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://ops.example.com');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it('does not allow other origins, and exposes the request id to allowed ones', async () => {
    const other = await api.get('/health/live', { headers: { origin: 'https://evil.example.com' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const allowed = await api.get('/health/live', { headers: { origin: 'https://console.example.com' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://console.example.com');
    expect(allowed.headers.get('access-control-expose-headers')).toContain('X-Request-Id');
  });

  it('sends security headers and no framework banner', async () => {
    const res = await api.get('/health/live');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('strict-transport-security')).toContain('max-age=');
    expect(res.headers.get('x-powered-by')).toBeNull();
  });
});

describe('HTTP surface: CORS off by default', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startApp();
  });
  afterAll(() => t.close());

  it('sends no CORS headers when CORS_ORIGINS is empty', async () => {
    const res = await fetch(`${t.url}/health/live`, { headers: { origin: 'https://console.example.com' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });
});
