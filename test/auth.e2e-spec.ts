import { createHmac, generateKeyPairSync } from 'node:crypto';
import * as jwt from 'jsonwebtoken';
import { startApp, TEST_ADMIN, TEST_JWT_SECRET, TestApp } from './support/app';
import { Api, expectEnvelope } from './support/http';

/** HS256 by hand: jsonwebtoken refuses to key HMAC with a PEM, which is the attack being tested. */
function signHs256Raw(payload: object, key: string): string {
  const enc = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${enc({ alg: 'HS256', typ: 'JWT' })}.${enc(payload)}`;
  return `${head}.${createHmac('sha256', key).update(head).digest('base64url')}`;
}

describe('sign-in sessions (HS256)', () => {
  let t: TestApp;
  let api: Api;

  beforeAll(async () => {
    t = await startApp();
    api = new Api(t.url);
  });
  afterAll(() => t.close());

  it('logs in with the bootstrap administrator and answers the token pair', async () => {
    const res = await api.post('/auth/login', TEST_ADMIN);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      access_token: expect.any(String),
      refresh_token: expect.stringMatching(/^cfr_/),
      token_type: 'Bearer',
      expires_in: 900,
    });
    const me = await api.get('/auth/me', { token: res.body.access_token as string });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ kind: 'user', email: TEST_ADMIN.email, role: 'admin' });
  });

  it('refuses a wrong password and an unknown user alike', async () => {
    const wrong = await api.post('/auth/login', { email: TEST_ADMIN.email, password: 'not-the-password' });
    const unknown = await api.post('/auth/login', { email: 'nobody@conflux.test', password: 'whatever-password' });
    expectEnvelope(wrong, 401, 'invalid_credentials');
    expectEnvelope(unknown, 401, 'invalid_credentials');
    expect(wrong.body.message).toBe(unknown.body.message);
  });

  it('rotates the refresh token: the new one works, the old one is used up', async () => {
    const first = await api.login(TEST_ADMIN.email, TEST_ADMIN.password);
    const second = await api.post('/auth/refresh', { refresh_token: first.refresh_token });
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect(second.body.token_type).toBe('Bearer');
    const third = await api.post('/auth/refresh', { refresh_token: second.body.refresh_token });
    expect(third.status).toBe(200);
    expect((await api.get('/auth/me', { token: third.body.access_token as string })).status).toBe(200);
  });

  it('revokes the whole session when a used refresh token comes back', async () => {
    const first = await api.login(TEST_ADMIN.email, TEST_ADMIN.password);
    const second = await api.post('/auth/refresh', { refresh_token: first.refresh_token });
    expect(second.status).toBe(200);
    const replay = await api.post('/auth/refresh', { refresh_token: first.refresh_token });
    expectEnvelope(replay, 401, 'invalid_token');
    // The legitimate descendant is dead too, and so is the access token of the session.
    expectEnvelope(await api.post('/auth/refresh', { refresh_token: second.body.refresh_token }), 401, 'invalid_token');
    expectEnvelope(await api.get('/auth/me', { token: second.body.access_token as string }), 401, 'invalid_token');
    // Another session of the same user is untouched.
    const other = await api.login(TEST_ADMIN.email, TEST_ADMIN.password);
    expect((await api.get('/auth/me', { token: other.access_token })).status).toBe(200);
  });

  it('lets exactly one of two concurrent refreshes with the same token win', async () => {
    const pair = await api.login(TEST_ADMIN.email, TEST_ADMIN.password);
    const results = await Promise.all([
      api.post('/auth/refresh', { refresh_token: pair.refresh_token }),
      api.post('/auth/refresh', { refresh_token: pair.refresh_token }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it('logout ends the session: access and refresh tokens stop working', async () => {
    const pair = await api.login(TEST_ADMIN.email, TEST_ADMIN.password);
    const out = await api.post('/auth/logout', undefined, { token: pair.access_token });
    expect(out.status).toBe(204);
    expectEnvelope(await api.get('/auth/me', { token: pair.access_token }), 401, 'invalid_token');
    expectEnvelope(await api.post('/auth/refresh', { refresh_token: pair.refresh_token }), 401, 'invalid_token');
  });

  describe('rejects forged and stale access tokens', () => {
    let claims: { sub: string; sid: string; typ: string };

    beforeAll(async () => {
      const pair = await api.login(TEST_ADMIN.email, TEST_ADMIN.password);
      claims = jwt.decode(pair.access_token) as typeof claims;
    });

    const base = (): jwt.SignOptions => ({ issuer: 'conflux', audience: 'conflux-api', expiresIn: 60 });

    it('accepts a correctly signed token (control)', async () => {
      const token = jwt.sign({ sub: claims.sub, sid: claims.sid, typ: 'access' }, TEST_JWT_SECRET, base());
      expect((await api.get('/auth/me', { token })).status).toBe(200);
    });

    it('expired', async () => {
      const token = jwt.sign(
        { sub: claims.sub, sid: claims.sid, typ: 'access', exp: Math.floor(Date.now() / 1000) - 10 },
        TEST_JWT_SECRET,
        { issuer: 'conflux', audience: 'conflux-api' },
      );
      expectEnvelope(await api.get('/auth/me', { token }), 401, 'token_expired');
    });

    it('wrong audience', async () => {
      const token = jwt.sign({ sub: claims.sub, sid: claims.sid, typ: 'access' }, TEST_JWT_SECRET, {
        ...base(),
        audience: 'someone-else',
      });
      expectEnvelope(await api.get('/auth/me', { token }), 401, 'invalid_token');
    });

    it('wrong issuer', async () => {
      const token = jwt.sign({ sub: claims.sub, sid: claims.sid, typ: 'access' }, TEST_JWT_SECRET, {
        ...base(),
        issuer: 'evil',
      });
      expectEnvelope(await api.get('/auth/me', { token }), 401, 'invalid_token');
    });

    it('alg: none', async () => {
      const now = Math.floor(Date.now() / 1000);
      const enc = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
      const payload = {
        sub: claims.sub,
        sid: claims.sid,
        typ: 'access',
        iss: 'conflux',
        aud: 'conflux-api',
        iat: now,
        exp: now + 60,
      };
      const token = `${enc({ alg: 'none', typ: 'JWT' })}.${enc(payload)}.`;
      expectEnvelope(await api.get('/auth/me', { token }), 401, 'invalid_token');
    });

    it('wrong signature', async () => {
      const token = jwt.sign(
        { sub: claims.sub, sid: claims.sid, typ: 'access' },
        'another-secret-another-secret-123456',
        base(),
      );
      expectEnvelope(await api.get('/auth/me', { token }), 401, 'invalid_token');
    });

    it('a refresh token or garbage presented as a bearer token', async () => {
      expectEnvelope(await api.get('/auth/me', { token: 'not.a.jwt' }), 401, 'invalid_token');
      const res = await api.get('/auth/me', { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
      expectEnvelope(res, 401, 'unauthorized');
    });
  });
});

describe('sign-in sessions (RS256)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  let t: TestApp;
  let api: Api;

  beforeAll(async () => {
    t = await startApp({ env: { JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: privatePem, JWT_PUBLIC_KEY: publicPem } });
    api = new Api(t.url);
  });
  afterAll(() => t.close());

  it('issues RS256 tokens and refuses an HS256 token keyed with the public key', async () => {
    const pair = await api.login(TEST_ADMIN.email, TEST_ADMIN.password);
    expect((jwt.decode(pair.access_token, { complete: true }) as jwt.Jwt).header.alg).toBe('RS256');
    expect((await api.get('/auth/me', { token: pair.access_token })).status).toBe(200);
    const claims = jwt.decode(pair.access_token) as { sub: string; sid: string };
    const now = Math.floor(Date.now() / 1000);
    const confused = signHs256Raw(
      { sub: claims.sub, sid: claims.sid, typ: 'access', iss: 'conflux', aud: 'conflux-api', iat: now, exp: now + 60 },
      publicPem,
    );
    expectEnvelope(await api.get('/auth/me', { token: confused }), 401, 'invalid_token');
  });
});
