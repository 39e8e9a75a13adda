import { createHmac, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import * as jwt from 'jsonwebtoken';
import { startApp, TEST_ADMIN, TEST_JWT_SECRET, TestApp } from '../support/app';
import { createUser } from '../support/fixtures';
import { Api, ApiResponse, expectEnvelope } from '../support/http';

/**
 * Every way of presenting a bearer token that is not a live access token signed by us answers 401 in
 * the envelope, on a protected route that answers 200 to a good token.
 */

const ROUTE = '/projects';
const ISSUER = 'conflux';
const AUDIENCE = 'conflux-api';

const b64 = (value: object | string): string =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** A JWT assembled by hand: any header, any payload, HMAC-SHA-`bits` with `key` (or no signature). */
function handmade(header: object, payload: object | string, key?: string, bits = 256): string {
  const head = `${b64(header)}.${b64(payload)}`;
  if (key === undefined) return `${head}.`;
  return `${head}.${createHmac(`sha${bits}`, key).update(head).digest('base64url')}`;
}

const now = (): number => Math.floor(Date.now() / 1000);

describe('JWT negative matrix', () => {
  let t: TestApp;
  let api: Api;
  let claims: { sub: string; sid: string; typ: 'access' };
  let refreshToken: string;
  let otherUserId: string;
  const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const attackerPem = attacker.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const attackerJwk = attacker.publicKey.export({ format: 'jwk' });
  const ecAttacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let jwks: Server;
  let jwksHits = 0;
  let jwksUrl: string;

  /** Claims of a good token for the signed-in administrator, overridable. */
  const good = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    ...claims,
    iss: ISSUER,
    aud: AUDIENCE,
    iat: now(),
    exp: now() + 60,
    ...extra,
  });
  /** The same claims without one of them. */
  const without = (name: string): Record<string, unknown> => {
    const out = good();
    delete out[name];
    return out;
  };
  const hs256 = (payload: object, header: object = {}): string =>
    handmade({ alg: 'HS256', typ: 'JWT', ...header }, payload, TEST_JWT_SECRET);

  const get = (token: string): Promise<ApiResponse> => api.get(ROUTE, { token });

  beforeAll(async () => {
    t = await startApp();
    api = new Api(t.url);
    const pair = await api.login(TEST_ADMIN.email, TEST_ADMIN.password);
    const issued = jwt.decode(pair.access_token) as typeof claims;
    claims = { sub: issued.sub, sid: issued.sid, typ: issued.typ };
    refreshToken = pair.refresh_token;
    otherUserId = (await createUser(api, pair.access_token)).id;
    jwks = createServer((_req, res) => {
      jwksHits += 1;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [{ ...attackerJwk, kid: 'attacker', use: 'sig', alg: 'RS256' }] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => jwks.close(() => resolve()));
    await t.close();
  });

  it('answers 200 to a good token, issued or signed by hand (the control of the matrix)', async () => {
    const pair = await api.login(TEST_ADMIN.email, TEST_ADMIN.password);
    expect((await get(pair.access_token)).status).toBe(200);
    expect((await get(hs256(good()))).status).toBe(200);
    // The library's own signing agrees with the hand-made one.
    const signed = jwt.sign(claims, TEST_JWT_SECRET, { issuer: ISSUER, audience: AUDIENCE, expiresIn: 60 });
    expect((await get(signed)).status).toBe(200);
  });

  // Each case: a name, the token (built once the session exists) and the error code expected.
  const cases: [string, () => string, string?][] = [
    // --- algorithms
    ['alg none', () => handmade({ alg: 'none', typ: 'JWT' }, good())],
    ['alg None, signature kept', () => `${handmade({ alg: 'None' }, good())}${hs256(good()).split('.')[2]}`],
    ['alg NONE', () => handmade({ alg: 'NONE' }, good())],
    ['no alg at all', () => handmade({ typ: 'JWT' }, good(), TEST_JWT_SECRET)],
    ['HS384 with our secret', () => handmade({ alg: 'HS384', typ: 'JWT' }, good(), TEST_JWT_SECRET, 384)],
    ['HS512 with our secret', () => handmade({ alg: 'HS512', typ: 'JWT' }, good(), TEST_JWT_SECRET, 512)],
    ['RS256 with a made-up key', () => jwt.sign(good(), attackerPem, { algorithm: 'RS256' })],
    ['ES256 with a made-up key', () => jwt.sign(good(), ecAttacker.privateKey, { algorithm: 'ES256' })],
    ['PS256 with a made-up key', () => jwt.sign(good(), attackerPem, { algorithm: 'PS256' })],
    // --- keys
    ['HS256 with another secret', () => handmade({ alg: 'HS256' }, good(), 'another-secret-another-secret-0123456789')],
    ['HS256 with an empty secret', () => handmade({ alg: 'HS256' }, good(), '')],
    // --- headers that name keys: never followed
    [
      'jwk header carrying the signer key',
      () =>
        jwt.sign(good(), attackerPem, {
          algorithm: 'RS256',
          header: { alg: 'RS256', jwk: attackerJwk } as unknown as jwt.JwtHeader,
        }),
    ],
    [
      'jku header pointing at the signer key set',
      () =>
        jwt.sign(good(), attackerPem, {
          algorithm: 'RS256',
          keyid: 'attacker',
          header: { alg: 'RS256', jku: jwksUrl },
        }),
    ],
    ['jku header, HS256 with another secret', () => handmade({ alg: 'HS256', jku: jwksUrl }, good(), 'x'.repeat(40))],
    [
      'kid naming an empty file, signed with an empty key',
      () => handmade({ alg: 'HS256', kid: '../../../../../dev/null' }, good(), ''),
    ],
    ['kid with SQL, signed with its result', () => handmade({ alg: 'HS256', kid: "x' UNION SELECT 'k" }, good(), 'k')],
    [
      'x5u header pointing at the signer key set',
      () => jwt.sign(good(), attackerPem, { algorithm: 'RS256', header: { alg: 'RS256', x5u: jwksUrl } }),
    ],
    // --- registered claims
    ['no exp', () => hs256(without('exp'))],
    ['exp expired', () => hs256(good({ iat: now() - 120, exp: now() - 60 })), 'token_expired'],
    ['exp as a string', () => hs256(good({ exp: String(now() + 60) }))],
    ['exp null', () => hs256(good({ exp: null }))],
    ['nbf in the future', () => hs256(good({ nbf: now() + 3600 }))],
    ['wrong iss', () => hs256(good({ iss: 'evil' }))],
    ['no iss', () => hs256(without('iss'))],
    ['wrong aud', () => hs256(good({ aud: 'someone-else' }))],
    ['no aud', () => hs256(without('aud'))],
    // --- our claims
    ['typ refresh', () => hs256(good({ typ: 'refresh' }))],
    ['no typ', () => hs256(without('typ'))],
    ['no sid', () => hs256(without('sid'))],
    ['no sub', () => hs256(without('sub'))],
    ['sid not a UUID', () => hs256(good({ sid: 'not-a-uuid' }))],
    ['sid with SQL', () => hs256(good({ sid: "' OR '1'='1" }))],
    ['sid as a number', () => hs256(good({ sid: 42 }))],
    ['sid as an object', () => hs256(good({ sid: { $ne: null } }))],
    ['sub not a UUID', () => hs256(good({ sub: 'admin' }))],
    ['sid with a NUL byte', () => hs256(good({ sid: `${claims.sid}\u0000` }))],
    ['unknown sid', () => hs256(good({ sid: randomUUID() }))],
    ['sid of another user', () => hs256(good({ sub: otherUserId }))],
    ['payload not an object', () => hs256('"just a string"' as unknown as object)],
    ['payload an array', () => hs256([good()])],
    // --- tampering
    ['payload tampered (another sub), signature kept', () => swapPayload(hs256(good()), good({ sub: otherUserId }))],
    ['payload tampered (later exp), signature kept', () => swapPayload(hs256(good()), good({ exp: now() + 86_400 }))],
    ['signature tampered', () => flipSignature(hs256(good()))],
    ['signature removed', () => hs256(good()).split('.').slice(0, 2).join('.') + '.'],
    ['signature truncated', () => hs256(good()).slice(0, -4)],
    ['header tampered (alg none), signature kept', () => swapHeader(hs256(good()), { alg: 'none', typ: 'JWT' })],
    // --- not a JWT
    ['the refresh token', () => refreshToken],
    ['a random string', () => randomBytes(24).toString('base64url')],
    ['two segments', () => 'abc.def'],
    ['four segments', () => `${hs256(good())}.extra`],
    ['empty segments', () => '..'],
    ['segments that are not base64', () => '!!!.$$$.%%%'],
    ['header that is not JSON', () => `${b64('{not json')}.${b64(good())}.sig`],
    ['an API key that does not exist', () => `cfx_AAAAAAAAAAAA_${'A'.repeat(43)}`],
    ['an 11 KB token (under the header limit)', () => flipSignature(hs256(good({ pad: 'p'.repeat(8 * 1024) })))],
  ];

  it.each(cases)('%s -> 401', async (_name, token, code = 'invalid_token') => {
    expectEnvelope(await get(token()), 401, code);
  });

  it('refuses malformed Authorization headers', async () => {
    for (const authorization of ['Bearer', 'Bearer ', 'Bearer a b', 'Basic dXNlcjpwYXNz', 'token abc', hs256(good())]) {
      expectEnvelope(await api.get(ROUTE, { headers: { authorization } }), 401, 'unauthorized');
    }
  });

  it('never fetches the key named by jku or x5u', () => {
    expect(jwksHits).toBe(0);
  });

  it('does not let kid choose the key: our secret still decides, whatever kid says', async () => {
    expect((await get(hs256(good(), { kid: 'attacker' }))).status).toBe(200);
    expectEnvelope(
      await get(handmade({ alg: 'HS256', kid: 'attacker' }, good(), 'attacker-secret')),
      401,
      'invalid_token',
    );
  });

  it('refuses the access token of a session ended by logout', async () => {
    const pair = await api.login(TEST_ADMIN.email, TEST_ADMIN.password);
    expect((await get(pair.access_token)).status).toBe(200);
    expect((await api.post('/auth/logout', undefined, { token: pair.access_token })).status).toBe(204);
    expectEnvelope(await get(pair.access_token), 401, 'invalid_token');
    // A fresh signature over the ended session does not bring it back.
    const ended = jwt.decode(pair.access_token) as typeof claims;
    expectEnvelope(await get(hs256(good({ sid: ended.sid }))), 401, 'invalid_token');
  });

  it('logged no server error for any of it', () => {
    expect(t.logs.lines.filter((line) => /"statusCode":5\d\d|"level":50/.test(line))).toEqual([]);
  });

  describe('oversized headers', () => {
    it('answers 431 in the envelope to a 64 KB token', async () => {
      const res = await get(hs256(good({ pad: 'p'.repeat(64 * 1024) })));
      expectEnvelope(res, 431, 'headers_too_large');
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    });

    it('answers 431 in the envelope to many headers that are too large together', async () => {
      const headers: Record<string, string> = {};
      for (let i = 0; i < 100; i++) headers[`x-filler-${i}`] = 'f'.repeat(200);
      expectEnvelope(await api.get(ROUTE, { headers }), 431, 'headers_too_large');
    });

    it('answers a malformed request in the envelope too', async () => {
      const raw = await rawExchange(t.url, 'NOT HTTP AT ALL\r\n\r\n');
      const [head, body] = raw.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 400 /);
      expect(JSON.parse(body)).toEqual({
        error: 'bad_request',
        message: expect.any(String),
        request_id: expect.any(String),
      });
    });

    it('still serves the next requests', async () => {
      const pair = await api.login(TEST_ADMIN.email, TEST_ADMIN.password);
      expect((await get(pair.access_token)).status).toBe(200);
    });
  });
});

/** Writes bytes to the server and reads everything it answers until it closes the connection. */
function rawExchange(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
  });
}

function parts(token: string): string[] {
  return token.split('.');
}

function swapPayload(token: string, payload: object): string {
  const [head, , sig] = parts(token);
  return `${head}.${b64(payload)}.${sig}`;
}

function swapHeader(token: string, header: object): string {
  const [, body, sig] = parts(token);
  return `${b64(header)}.${body}.${sig}`;
}

function flipSignature(token: string): string {
  const [head, body, sig] = parts(token);
  const first = sig[0] === 'A' ? 'B' : 'A';
  return `${head}.${body}.${first}${sig.slice(1)}`;
}
