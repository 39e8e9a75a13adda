import { SESSION_COOKIE, SESSION_COOKIE_PATH } from '../src/auth/session-cookie';
import { startApp, TEST_ADMIN, TestApp } from './support/app';
import { Api, ApiResponse, expectEnvelope } from './support/http';

const JSON_TYPE = { 'content-type': 'application/json' };

/** The one Set-Cookie of an answer, split into its value and its attributes (lower-cased names). */
function setCookie(res: ApiResponse): { name: string; value: string; attributes: Record<string, string> } {
  const all = res.headers.getSetCookie();
  expect(all).toHaveLength(1);
  const [pair, ...rest] = all[0].split(';').map((s) => s.trim());
  const eq = pair.indexOf('=');
  const attributes = Object.fromEntries(
    rest.map((a) => {
      const i = a.indexOf('=');
      return i < 0 ? [a.toLowerCase(), ''] : [a.slice(0, i).toLowerCase(), a.slice(i + 1)];
    }),
  );
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attributes };
}

function cookieHeader(value: string): Record<string, string> {
  return { cookie: `theme=dark; ${SESSION_COOKIE}=${value}; other=1` };
}

describe('browser sessions: the refresh token in a cookie', () => {
  let t: TestApp;
  let api: Api;

  beforeAll(async () => {
    t = await startApp();
    api = new Api(t.url);
  });
  afterAll(() => t.close());

  /** Signs in through POST /auth/session; returns the access token and the cookie's value. */
  async function signIn(): Promise<{ access: string; cookie: string }> {
    const res = await api.post('/auth/session', TEST_ADMIN);
    expect(res.status).toBe(200);
    return { access: res.body.access_token as string, cookie: setCookie(res).value };
  }

  function refresh(cookie: string | null, headers: Record<string, string> = {}): Promise<ApiResponse> {
    return api.post('/auth/session/refresh', {}, { headers: { ...(cookie ? cookieHeader(cookie) : {}), ...headers } });
  }

  it('answers the access token only, and sets the refresh token as an HttpOnly, Secure, SameSite=Strict cookie', async () => {
    const res = await api.post('/auth/session', TEST_ADMIN);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 900 });
    expect(res.text).not.toContain('cfr_');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const cookie = setCookie(res);
    expect(cookie.name).toBe('conflux_refresh');
    expect(cookie.value).toMatch(/^cfr_[A-Za-z0-9_-]+$/);
    expect(cookie.attributes).toEqual({
      'max-age': String(t.config.REFRESH_TOKEN_TTL_SECONDS),
      path: '/auth/session',
      httponly: '',
      secure: '',
      samesite: 'Strict',
    });
    expect(SESSION_COOKIE_PATH).toBe('/auth/session');
    expect((await api.get('/auth/me', { token: res.body.access_token as string })).status).toBe(200);
  });

  it('refuses wrong credentials and an invalid body as POST /auth/login does, without a cookie', async () => {
    const wrong = await api.post('/auth/session', { email: TEST_ADMIN.email, password: 'not-the-password' });
    expectEnvelope(wrong, 401, 'invalid_credentials');
    expect(wrong.headers.getSetCookie()).toEqual([]);
    expectEnvelope(await api.post('/auth/session', { email: 'not-an-email', password: 'x' }), 400, 'validation_failed');
    expectEnvelope(await api.post('/auth/session', { ...TEST_ADMIN, extra: 1 }), 400, 'validation_failed');
  });

  it('rotates the cookie on refresh: the new one works, the old one is refused afterwards', async () => {
    const first = await signIn();
    const second = await refresh(first.cookie);
    expect(second.status).toBe(200);
    expect(second.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 900 });
    expect(second.text).not.toContain('cfr_');
    const rotated = setCookie(second);
    expect(rotated.value).not.toBe(first.cookie);
    expect(rotated.attributes).toMatchObject({ path: '/auth/session', httponly: '', secure: '', samesite: 'Strict' });
    expect((await api.get('/auth/me', { token: second.body.access_token as string })).status).toBe(200);

    const third = await refresh(rotated.value);
    expect(third.status).toBe(200);
    // The used cookie comes back: refused, cleared, and (reuse) the whole session ends.
    const replay = await refresh(first.cookie);
    expectEnvelope(replay, 401, 'invalid_token');
    expect(setCookie(replay)).toMatchObject({ value: '', attributes: { 'max-age': '0', path: '/auth/session' } });
    expectEnvelope(await refresh(setCookie(third).value), 401, 'invalid_token');
  });

  it('answers 401 with a clearing cookie when the cookie is missing or unknown', async () => {
    const missing = await refresh(null);
    expectEnvelope(missing, 401, 'unauthorized');
    expect(setCookie(missing)).toMatchObject({ value: '', attributes: { 'max-age': '0', path: '/auth/session' } });
    const unknown = await refresh('cfr_not-a-token-we-issued');
    expectEnvelope(unknown, 401, 'invalid_token');
    expect(setCookie(unknown).attributes['max-age']).toBe('0');
  });

  it('DELETE ends the session of the cookie: refresh and the access token are refused, the cookie cleared', async () => {
    const session = await signIn();
    const out = await api.delete('/auth/session', { headers: cookieHeader(session.cookie) });
    expect(out.status).toBe(204);
    expect(setCookie(out)).toMatchObject({ value: '', attributes: { 'max-age': '0', path: '/auth/session' } });
    expectEnvelope(await refresh(session.cookie), 401, 'invalid_token');
    expectEnvelope(await api.get('/auth/me', { token: session.access }), 401, 'invalid_token');
  });

  it('DELETE ends the session of a bearer token too, and is 204 with nothing to end', async () => {
    const session = await signIn();
    expect((await api.delete('/auth/session', { token: session.access })).status).toBe(204);
    expectEnvelope(await api.get('/auth/me', { token: session.access }), 401, 'invalid_token');
    expectEnvelope(await refresh(session.cookie), 401, 'invalid_token');
    const nothing = await api.delete('/auth/session');
    expect(nothing.status).toBe(204);
    expect(setCookie(nothing).attributes['max-age']).toBe('0');
  });

  describe('refuses what another site could send', () => {
    it('answers 403 to an Origin that is not the server’s own, on each route', async () => {
      const session = await signIn();
      const evil = { origin: 'https://evil.example' };
      expectEnvelope(await api.post('/auth/session', TEST_ADMIN, { headers: evil }), 403, 'forbidden');
      expectEnvelope(await refresh(session.cookie, evil), 403, 'forbidden');
      const out = await api.delete('/auth/session', { headers: { ...cookieHeader(session.cookie), ...evil } });
      expectEnvelope(out, 403, 'forbidden');
      // Same host, another port or scheme, and the opaque origin are other origins.
      const port = new URL(t.url).port;
      for (const origin of [`http://127.0.0.1:${Number(port) + 1}`, `https://127.0.0.1:${port}`, 'null']) {
        expectEnvelope(await refresh(session.cookie, { origin }), 403, 'forbidden');
      }
      // Nothing was ended by the refused requests.
      expect((await refresh(session.cookie)).status).toBe(200);
    });

    it('accepts the server’s own origin (as a browser sends it on a same-origin POST)', async () => {
      const res = await api.post('/auth/session', TEST_ADMIN, { headers: { origin: t.url } });
      expect(res.status).toBe(200);
      const own = await refresh(setCookie(res).value, { origin: t.url });
      expect(own.status).toBe(200);
    });

    it('answers 415 to a form post or a text/plain body, which a cross-site form can send', async () => {
      const form = await api.request('POST', '/auth/session', {
        raw: `email=${encodeURIComponent(TEST_ADMIN.email)}&password=${TEST_ADMIN.password}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expectEnvelope(form, 415, 'unsupported_media_type');
      expect(form.headers.getSetCookie()).toEqual([]);
      const session = await signIn();
      const plain = await api.request('POST', '/auth/session/refresh', {
        raw: '{}',
        headers: { ...cookieHeader(session.cookie), 'content-type': 'text/plain' },
      });
      expectEnvelope(plain, 415, 'unsupported_media_type');
      const none = await api.request('POST', '/auth/session/refresh', { headers: cookieHeader(session.cookie) });
      expectEnvelope(none, 415, 'unsupported_media_type');
      // The cookie was not used up by the refused requests.
      expect((await refresh(session.cookie, JSON_TYPE)).status).toBe(200);
    });
  });

  it('is documented in the OpenAPI document, as public operations', async () => {
    const doc = (await api.get('/docs-json')).body as {
      paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, unknown> }>>;
    };
    for (const [path, method, status] of [
      ['/auth/session', 'post', '200'],
      ['/auth/session/refresh', 'post', '200'],
      ['/auth/session', 'delete', '204'],
    ]) {
      const op = doc.paths[path]?.[method];
      expect({ path, method, documented: op?.responses[status] !== undefined }).toEqual({
        path,
        method,
        documented: true,
      });
      expect(op?.security ?? []).toEqual([]);
    }
    expect(JSON.stringify(doc.paths['/auth/session'].post.responses['200'])).toContain('SessionTokenDto');
  });
});

describe('browser sessions behind a trusted proxy, and their rate limit', () => {
  const LIMIT = 5;
  let t: TestApp;
  let api: Api;

  beforeAll(async () => {
    t = await startApp({ env: { RATE_LIMIT_PER_MINUTE: String(LIMIT), TRUST_PROXY: 'loopback' } });
    api = new Api(t.url);
  });
  afterAll(() => t.close());

  it('takes the own origin from X-Forwarded-Proto and X-Forwarded-Host', async () => {
    const proxied = {
      'x-forwarded-for': '203.0.113.20',
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'console.example.com',
    };
    const ok = await api.post('/auth/session', TEST_ADMIN, {
      headers: { ...proxied, origin: 'https://console.example.com' },
    });
    expect(ok.status).toBe(200);
    const other = await api.post('/auth/session', TEST_ADMIN, {
      headers: { ...proxied, origin: 'http://console.example.com' },
    });
    expectEnvelope(other, 403, 'forbidden');
  });

  it('limits sign-in attempts per client address as POST /auth/login', async () => {
    const from = { 'x-forwarded-for': '203.0.113.21' };
    const wrong = { email: TEST_ADMIN.email, password: 'not-the-admin-password' };
    for (let i = 0; i < LIMIT; i += 1) {
      expectEnvelope(await api.post('/auth/session', wrong, { headers: from }), 401, 'invalid_credentials');
    }
    const limited = await api.post('/auth/session', TEST_ADMIN, { headers: from });
    expectEnvelope(limited, 429, 'rate_limited');
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(limited.headers.getSetCookie()).toEqual([]);
    // The refresh and sign-out routes count in the same budget.
    expectEnvelope(await api.post('/auth/session/refresh', {}, { headers: from }), 429, 'rate_limited');
    expectEnvelope(await api.delete('/auth/session', { headers: from }), 429, 'rate_limited');
  });
});
