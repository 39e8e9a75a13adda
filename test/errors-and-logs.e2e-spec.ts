import { randomBytes } from 'node:crypto';
import { startApp, TEST_ADMIN, TestApp } from './support/app';
import { createApiKey, createProject, createUser, signInAdmin, TestUser } from './support/fixtures';
import { Api, ApiResponse, expectEnvelope } from './support/http';
import { createTestDatabase, delay, TestDatabase } from './support/services';
import { proxiedUrl, TcpProxy } from './support/tcp-proxy';

const BODY_LIMIT = 4096;
const ENVELOPE_KEYS = ['error', 'message', 'request_id', 'details'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** A distinctive secret: if it shows up anywhere, it came from us. */
function secret(channel: string): string {
  return `S3CR3T-${channel}-${randomBytes(12).toString('hex')}`;
}

interface LogLine {
  level?: number;
  msg?: string;
  context?: string;
  request_id?: string;
  req?: { id?: string };
  err?: { type?: unknown; message?: unknown; stack?: unknown };
}

/** The JSON log lines of the app (anything else it wrote is skipped). */
function parseLogs(t: TestApp | undefined): LogLine[] {
  return (t?.logs.lines ?? []).flatMap((line) => {
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return [];
    }
  });
}

/** Lines logged for one request: pino-http's (req.id) and our own (request_id). */
function linesOf(t: TestApp | undefined, requestId: string): LogLine[] {
  return parseLogs(t).filter((l) => l.req?.id === requestId || l.request_id === requestId);
}

/** The `field` of each entry of a validation error's `details`. */
function detailFields(res: ApiResponse): string[] {
  const details = res.body.details;
  if (!Array.isArray(details)) throw new Error(`details is not a list: ${res.text}`);
  return details.map((d: unknown) => {
    const field = typeof d === 'object' && d !== null ? (d as { field?: unknown }).field : undefined;
    if (typeof field !== 'string') throw new Error(`details entry without a field: ${JSON.stringify(d)}`);
    return field;
  });
}

describe('error envelope, request ids and secret-free logs', () => {
  let db: TestDatabase;
  let pgProxy: TcpProxy;
  let t: TestApp | undefined;
  let api: Api;
  let adminToken: string;
  let member: TestUser;
  /** Every error body answered in this file, checked for secrets at the end. */
  const errorResponses: ApiResponse[] = [];

  /** The envelope and nothing else, with X-Request-Id equal to request_id. */
  function expectError(res: ApiResponse, status: number, code: string): void {
    expectEnvelope(res, status, code);
    expect(Object.keys(res.body).filter((k) => !ENVELOPE_KEYS.includes(k))).toEqual([]);
    expect(res.headers.get('x-request-id')).toEqual(expect.any(String));
    expect(res.body.message).not.toBe('');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    errorResponses.push(res);
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    pgProxy = await TcpProxy.forUrl(db.url);
    t = await startApp({
      db,
      databaseUrl: proxiedUrl(db.url, pgProxy),
      env: {
        BODY_LIMIT_BYTES: String(BODY_LIMIT),
        DATABASE_CONNECT_TIMEOUT_MS: '1000',
        HEALTH_CHECK_TIMEOUT_MS: '500',
      },
    });
    api = new Api(t.url);
    adminToken = await signInAdmin(api);
    member = await createUser(api, adminToken);
  });

  afterAll(async () => {
    pgProxy?.restore();
    await t?.close();
    await pgProxy?.close();
    await db?.drop();
  });

  describe('every error path answers the envelope', () => {
    it('validation: an unknown field', async () => {
      const res = await api.post('/projects', { name: 'ok', colour: 'red' }, { token: adminToken });
      expectError(res, 400, 'validation_failed');
      expect(detailFields(res)).toEqual(['colour']);
    });

    it('validation: a wrong type', async () => {
      const res = await api.post('/projects', { name: 42 }, { token: adminToken });
      expectError(res, 400, 'validation_failed');
      expect(detailFields(res)).toEqual(['name']);
    });

    it('validation: missing fields, each listed', async () => {
      const res = await api.post('/admin/users', { email: 'someone@conflux.test' }, { token: adminToken });
      expectError(res, 400, 'validation_failed');
      expect(detailFields(res).sort()).toEqual(['password', 'role']);
      expect(res.body.message).toContain('password');
    });

    it('malformed JSON', async () => {
      const res = await api.request('POST', '/auth/login', { raw: '{"email": "a@b.c", ' });
      expectError(res, 400, 'malformed_json');
    });

    it('a body over BODY_LIMIT_BYTES', async () => {
      const raw = JSON.stringify({ email: TEST_ADMIN.email, password: 'x'.repeat(BODY_LIMIT + 100) });
      const res = await api.request('POST', '/auth/login', { raw });
      expectError(res, 413, 'payload_too_large');
    });

    it('an unknown route', async () => {
      expectError(await api.get('/no/such/route'), 404, 'not_found');
    });

    it('a method the route does not answer', async () => {
      const res = await api.request('DELETE', '/auth/me', { token: adminToken });
      expectError(res, 405, 'method_not_allowed');
      expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    });

    it('no credentials', async () => {
      expectError(await api.get('/auth/me'), 401, 'unauthorized');
      expectError(await api.get('/projects'), 401, 'unauthorized');
    });

    it('a path parameter that is not a UUID', async () => {
      expectError(await api.get('/projects/not-a-uuid', { token: adminToken }), 400, 'validation_failed');
      const project = await createProject(api, adminToken, 'uuid-checks');
      const res = await api.post(`/projects/${project.id}/api-keys/123/rotate`, undefined, { token: adminToken });
      expectError(res, 400, 'validation_failed');
    });

    it('a member on an administrator route', async () => {
      expectError(await api.get('/admin/users', { token: member.token }), 403, 'forbidden');
    });

    it('throttled', async () => {
      const small = await startApp({ env: { RATE_LIMIT_PER_MINUTE: '1' } });
      try {
        const smallApi = new Api(small.url);
        expectError(await smallApi.post('/auth/login', {}), 400, 'validation_failed');
        const res = await smallApi.post('/auth/login', {});
        expectError(res, 429, 'rate_limited');
        expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      } finally {
        await small.close();
      }
    });
  });

  describe('request ids', () => {
    it('echoes a valid caller id in the header and the body, and logs it', async () => {
      const res = await api.get('/auth/me', { headers: { 'x-request-id': 'abc-123' } });
      expectError(res, 401, 'unauthorized');
      expect(res.headers.get('x-request-id')).toBe('abc-123');
      expect(res.body.request_id).toBe('abc-123');
      const ok = await api.get('/auth/me', { token: adminToken, headers: { 'x-request-id': 'abc-124' } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('x-request-id')).toBe('abc-124');
      expect(linesOf(t, 'abc-123').map((l) => l.msg)).toContain('request completed');
      expect(linesOf(t, 'abc-124').map((l) => l.msg)).toContain('request completed');
    });

    it.each([
      ['too long', 'a'.repeat(300)],
      ['with spaces', 'abc 123'],
      ['with markup', '<script>alert(1)</script>'],
    ])('replaces an invalid caller id (%s) with a generated UUID', async (_, sent) => {
      const res = await api.get('/auth/me', { headers: { 'x-request-id': sent } });
      expectError(res, 401, 'unauthorized');
      const id = res.headers.get('x-request-id');
      expect(id).toMatch(UUID);
      expect(res.body.request_id).toBe(id);
      expect(linesOf(t, id ?? '').map((l) => l.msg)).toContain('request completed');
    });

    it('generates a fresh UUID when none is sent', async () => {
      const [a, b] = await Promise.all([api.get('/health/live'), api.get('/health/live')]);
      expect(a.headers.get('x-request-id')).toMatch(UUID);
      expect(b.headers.get('x-request-id')).toMatch(UUID);
      expect(a.headers.get('x-request-id')).not.toBe(b.headers.get('x-request-id'));
    });
  });

  describe('secrets never reach the logs nor an error body', () => {
    const secrets = new Map<string, string>();
    const requestIds: string[] = [];
    /** Probes refused by the body parser, before any route. */
    const bodyParserIds: string[] = [];
    let counter = 0;

    /** Every probe carries its own request id, to prove afterwards that its log line was captured. */
    function traced(headers: Record<string, string> = {}, list = requestIds): Record<string, string> {
      counter += 1;
      const id = `secret-probe-${counter}`;
      list.push(id);
      return { ...headers, 'x-request-id': id };
    }

    function remember(channel: string, value: string): string {
      secrets.set(channel, value);
      return value;
    }

    it('sends secrets through every channel', async () => {
      // Login password in the body (wrong and right), and the tokens answered.
      const loginPassword = remember('login password', secret('login'));
      expectError(
        await api.post('/auth/login', { email: TEST_ADMIN.email, password: loginPassword }, { headers: traced() }),
        401,
        'invalid_credentials',
      );
      remember('admin password', TEST_ADMIN.password);
      const pair = await api.post<{ access_token: string; refresh_token: string }>('/auth/login', TEST_ADMIN, {
        headers: traced(),
      });
      expect(pair.status).toBe(200);
      remember('access token', pair.body.access_token);
      remember('refresh token', pair.body.refresh_token);

      // A real API key: its full secret, through Authorization: Bearer and through X-API-Key.
      const project = await createProject(api, pair.body.access_token, 'secrets');
      const issued = await createApiKey(api, pair.body.access_token, project.id, 'secret-key');
      remember('api key', issued.key);
      expect((await api.get('/auth/me', { headers: traced({ authorization: `Bearer ${issued.key}` }) })).status).toBe(
        200,
      );
      expect((await api.get('/auth/me', { headers: traced({ 'x-api-key': issued.key }) })).status).toBe(200);
      const rotated = await api.post<{ key: string }>(
        `/projects/${project.id}/api-keys/${issued.id}/rotate`,
        undefined,
        {
          token: pair.body.access_token,
          headers: traced(),
        },
      );
      expect(rotated.status).toBe(200);
      remember('rotated api key', rotated.body.key);

      // Made-up credentials in every header that can carry one.
      const wellFormedKey = remember('unknown api key', `cfx_AAAAAAAAAAAA_${randomBytes(32).toString('base64url')}`);
      expectError(
        await api.get('/auth/me', { headers: traced({ authorization: `Bearer ${wellFormedKey}` }) }),
        401,
        'invalid_token',
      );
      const headerKey = remember('x-api-key', secret('xapikey'));
      expectError(await api.get('/auth/me', { headers: traced({ 'x-api-key': headerKey }) }), 401, 'invalid_token');
      const bearer = remember('bearer', secret('bearer'));
      expectError(
        await api.get('/auth/me', { headers: traced({ authorization: `Bearer ${bearer}` }) }),
        401,
        'invalid_token',
      );
      const basic = remember('basic', secret('basic'));
      expectError(
        await api.get('/auth/me', { headers: traced({ authorization: `Basic ${basic}` }) }),
        401,
        'unauthorized',
      );
      const cookie = remember('cookie', secret('cookie'));
      expectError(await api.get('/auth/me', { headers: traced({ cookie: `session=${cookie}` }) }), 401, 'unauthorized');
      const withCookie = await api.get('/auth/me', {
        token: pair.body.access_token,
        headers: traced({ cookie: `session=${cookie}` }),
      });
      expect(withCookie.status).toBe(200);

      // Refresh tokens in the body: a made-up one, and a real one (whose successor is a secret too).
      const fakeRefresh = remember('fake refresh token', secret('refresh'));
      expectError(
        await api.post('/auth/refresh', { refresh_token: fakeRefresh }, { headers: traced() }),
        401,
        'invalid_token',
      );
      const refreshed = await api.post<{ access_token: string; refresh_token: string }>(
        '/auth/refresh',
        { refresh_token: pair.body.refresh_token },
        { headers: traced() },
      );
      expect(refreshed.status).toBe(200);
      remember('refreshed access token', refreshed.body.access_token);
      remember('refreshed refresh token', refreshed.body.refresh_token);

      // A malformed JSON body that carries a secret.
      const inJson = remember('malformed json', secret('json'));
      expectError(
        await api.request('POST', '/auth/login', {
          raw: `{"email":"${TEST_ADMIN.email}","password":"${inJson}"`,
          headers: traced({}, bodyParserIds),
        }),
        400,
        'malformed_json',
      );
      // ...and an oversized one.
      const inLargeJson = remember('oversized json', secret('largejson'));
      expectError(
        await api.request('POST', '/auth/login', {
          raw: JSON.stringify({ password: inLargeJson, padding: 'x'.repeat(BODY_LIMIT) }),
          headers: traced({}, bodyParserIds),
        }),
        413,
        'payload_too_large',
      );

      // Query strings: on a route that answers, one that refuses, and one that does not exist.
      const inQuery = remember('query api_key', secret('query'));
      const q = `api_key=${inQuery}&access_token=${inQuery}`;
      expect((await api.get(`/auth/me?${q}`, { token: pair.body.access_token, headers: traced() })).status).toBe(200);
      expectError(await api.get(`/auth/me?${q}`, { headers: traced() }), 401, 'unauthorized');
      expectError(
        await api.get(`/projects/not-a-uuid?${q}`, { token: pair.body.access_token, headers: traced() }),
        400,
        'validation_failed',
      );
      expectError(await api.get(`/no/such/route?${q}`, { headers: traced() }), 404, 'not_found');

      // A new user's password: created, and refused by validation.
      const userPassword = remember('new user password', secret('userpw'));
      const created = await api.post(
        '/admin/users',
        { email: `secret-${Date.now()}@conflux.test`, password: userPassword, role: 'member' },
        { token: pair.body.access_token, headers: traced() },
      );
      expect(created.status).toBe(201);
      const refusedPassword = remember('refused user password', secret('refusedpw'));
      expectError(
        await api.post(
          '/admin/users',
          { email: 'not-an-email', password: refusedPassword, role: 'superuser', extra: refusedPassword },
          { token: pair.body.access_token, headers: traced() },
        ),
        400,
        'validation_failed',
      );

      expect(secrets.size).toBeGreaterThanOrEqual(15);
    });

    it('captured the log line of every probe (the capture works)', () => {
      expect(requestIds.length).toBeGreaterThan(10);
      expect(requestIds.filter((id) => linesOf(t, id).length === 0)).toEqual([]);
    });

    it('logs the requests refused by the body parser too (malformed JSON, too large)', () => {
      expect(bodyParserIds).toHaveLength(2);
      expect(bodyParserIds.filter((id) => linesOf(t, id).length === 0)).toEqual([]);
    });

    it('logged none of the secrets', () => {
      const text = t?.logs.text ?? '';
      expect([...secrets].filter(([, value]) => text.includes(value)).map(([channel]) => channel)).toEqual([]);
    });

    it('answered none of the secrets in an error body', () => {
      const leaks = errorResponses.flatMap((res) =>
        [...secrets]
          .filter(([, value]) => res.text.includes(value))
          .map(([channel]) => `${channel} in ${res.status} ${res.text}`),
      );
      expect(leaks).toEqual([]);
    });
  });

  describe('Postgres unreachable during an authenticated request', () => {
    const observed: ApiResponse[] = [];
    const durations: number[] = [];

    async function timed(call: () => Promise<ApiResponse>): Promise<void> {
      const started = performance.now();
      observed.push(await call());
      durations.push(performance.now() - started);
    }

    beforeAll(async () => {
      pgProxy.cut();
      try {
        await timed(() => api.get('/auth/me', { token: adminToken }));
        await timed(() => api.get('/projects', { token: adminToken }));
        await timed(() => api.post('/auth/login', TEST_ADMIN));
      } finally {
        pgProxy.restore();
      }
      // Let the pool reconnect before anything else runs.
      const deadline = Date.now() + 10_000;
      while ((await api.get('/health/ready')).status !== 200 && Date.now() < deadline) await delay(100);
    });

    it('answers a 5xx envelope that leaks no internals, quickly', () => {
      expect(observed).toHaveLength(3);
      expect(durations.filter((ms) => ms >= 3_000)).toEqual([]);
      for (const res of observed) {
        expect(res.status).toBeGreaterThanOrEqual(500);
        expectError(res, res.status, res.body.error as string);
        expect(['internal_error', 'service_unavailable']).toContain(res.body.error);
        expect(res.body.details).toBeUndefined();
        for (const internal of [
          db.name,
          String(pgProxy.port),
          '127.0.0.1',
          'ECONNRESET',
          'ECONNREFUSED',
          'Connection terminated',
          'QueryFailedError',
          'SELECT',
          'postgres',
          'typeorm',
          'node_modules',
          '    at ',
        ]) {
          expect(res.text).not.toContain(internal);
        }
      }
    });

    it('logs none of the credentials of the failed requests', () => {
      expect(t?.logs.text).not.toContain(adminToken);
      expect(t?.logs.text).not.toContain(TEST_ADMIN.password);
    });

    it('logs the underlying error for operators: type, message and stack, under the request id', () => {
      for (const res of observed) {
        const errors = linesOf(t, res.body.request_id as string).filter((l) => (l.level ?? 0) >= 50 && l.err);
        expect(errors.length).toBeGreaterThan(0);
        for (const line of errors) {
          expect(line.err).toMatchObject({
            type: expect.any(String),
            message: expect.stringMatching(/^(?!\[object Object\]$)./),
            stack: expect.any(String),
          });
        }
      }
    });

    it('answers 503 service_unavailable (a dependency is down, not a bug)', () => {
      expect(observed.map((res) => `${res.status} ${String(res.body.error)}`)).toEqual([
        '503 service_unavailable',
        '503 service_unavailable',
        '503 service_unavailable',
      ]);
    });

    it('serves again once Postgres is back', async () => {
      const res = await api.get('/auth/me', { token: adminToken });
      expect(res.status).toBe(200);
      expect(res.body.email).toBe(TEST_ADMIN.email);
    });
  });
});
