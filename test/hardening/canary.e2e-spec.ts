import { randomBytes } from 'node:crypto';
import { TEST_ADMIN } from '../support/app';
import { type FakeUpstream, faults, type RecordedRequest, startFakeUpstream } from '../support/fake-upstreams';
import { Api, type ApiResponse, type RequestOptions } from '../support/http';
import { type Gateway, NO_RETRY, startGateway } from '../gateway/gateway-support';

/**
 * Unique secrets planted through every channel a secret reaches Conflux by (request headers, query
 * parameters, body fields, the providers' keys, upstream error bodies that echo them), then searched
 * for in everything Conflux wrote: its log lines, every answer it gave (bodies and headers) and its
 * metrics. None may appear.
 */

const canaries = new Map<string, string>();
/** A secret no one could write by chance, remembered under `channel`. */
function canary(channel: string): string {
  const value = `cnry${randomBytes(12).toString('hex')}`;
  canaries.set(channel, value);
  return value;
}

/** Everything the app answered, as text. */
const answers: string[] = [];

/** An Api that keeps every answer (status line, headers and body) for the search. */
class RecordingApi extends Api {
  override async request<T = Record<string, unknown>>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const res = await super.request<T>(method, path, options);
    answers.push(`${res.status}\n${[...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${res.text}`);
    return res;
  }
}

/** The refusals below must not open a breaker: every case has to reach its upstream. */
const NEVER_OPENS = {
  error_threshold_percentage: 100,
  reset_timeout_ms: 100,
  volume_threshold: 10_000,
  rolling_window_ms: 10_000,
};

const header = (req: RecordedRequest, name: string): string => String(req.headers[name] ?? '');

/**
 * Error events inside streams whose message `echo` makes: before the first event (refusals, 400 and 401, and
 * a failure, 500; answered as errors) and after two deltas (the stream is cut).
 */
async function streamErrors(
  fake: FakeUpstream,
  send: (stream: boolean) => Promise<ApiResponse>,
  echo: (req: RecordedRequest) => string,
): Promise<void> {
  for (const status of [400, 401, 500]) {
    fake.enqueue(faults.streamErrorAfter(0, echo, status));
    expect((await send(true)).status).toBeGreaterThanOrEqual(400);
  }
  fake.enqueue(faults.streamErrorAfter(2, echo, 401));
  expect((await send(true)).status).toBe(200);
}

describe('canary secrets never reach logs, answers or metrics', () => {
  const openaiKey = canary('provider key (openai)');
  const anthropicKey = canary('provider key (anthropic)');
  let openai: FakeUpstream;
  let anthropic: FakeUpstream;
  let gw: Gateway;
  let api: RecordingApi;

  const chat = (stream = false): Promise<ApiResponse> =>
    api.post(
      '/v1/chat/completions',
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream },
      { apiKey: gw.apiKey },
    );
  const messages = (stream = false): Promise<ApiResponse> =>
    api.post(
      '/v1/messages',
      { model: 'claude-3-haiku-20240307', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }], stream },
      { apiKey: gw.apiKey },
    );

  beforeAll(async () => {
    openai = await startFakeUpstream('openai', { apiKey: openaiKey });
    anthropic = await startFakeUpstream('anthropic', { apiKey: anthropicKey, models: ['claude-3-haiku-20240307'] });
    gw = await startGateway({
      providers: [
        {
          id: 'openai-a',
          kind: 'openai',
          base_url: openai.baseUrl,
          models: ['gpt-4o-mini'],
          api_key_env: 'CANARY_OPENAI_KEY',
          retry: NO_RETRY,
          breaker: NEVER_OPENS,
        },
        {
          id: 'anthropic-a',
          kind: 'anthropic',
          base_url: anthropic.baseUrl,
          models: ['claude-3-haiku-20240307'],
          api_key_env: 'CANARY_ANTHROPIC_KEY',
          retry: NO_RETRY,
          breaker: NEVER_OPENS,
        },
      ],
      env: { LOG_LEVEL: 'debug', CANARY_OPENAI_KEY: openaiKey, CANARY_ANTHROPIC_KEY: anthropicKey },
    });
    api = new RecordingApi(gw.t.url);
    // Our own credentials are secrets too.
    canaries.set('API key', gw.apiKey);
    canaries.set('access token', gw.adminToken);
  });
  afterAll(async () => {
    await gw?.close();
    await openai?.close();
    await anthropic?.close();
  });

  it('the providers are reached with their keys (the control)', async () => {
    expect((await chat()).status).toBe(200);
    expect(header(openai.requests[0], 'authorization')).toBe(`Bearer ${openaiKey}`);
    expect((await messages()).status).toBe(200);
    expect(header(anthropic.requests[0], 'x-api-key')).toBe(anthropicKey);
  });

  it('credential headers of every spelling, on answered and refused requests', async () => {
    const headers = {
      'x-goog-api-key': canary('x-goog-api-key'),
      'openai-api-key': canary('openai-api-key'),
      'x-access-token': canary('x-access-token'),
      'x-refresh-token': canary('x-refresh-token'),
      cookie: `session=${canary('cookie')}`,
      'proxy-authorization': `Basic ${canary('proxy-authorization')}`,
    };
    expect((await api.get('/v1/models', { apiKey: gw.apiKey, headers })).status).toBe(200);
    expect((await api.get('/projects', { token: gw.adminToken, headers })).status).toBe(200);
    expect((await api.get('/no/such/route', { token: gw.adminToken, headers })).status).toBe(404);
    const refused = [
      await api.get('/projects', {
        headers: { ...headers, authorization: `Bearer ${canary('authorization bearer')}` },
      }),
      await api.get('/projects', { headers: { authorization: `Basic ${canary('authorization basic')}` } }),
      await api.get('/projects', { headers: { authorization: `Bearer cfx_${canary('authorization api key')}` } }),
      await api.get('/v1/models', { headers: { 'x-api-key': canary('x-api-key') } }),
      await api.get('/v1/models', { headers: { 'x-api-key': `cfx_AAAAAAAAAAAA_${canary('x-api-key shaped')}` } }),
    ];
    expect(refused.map((res) => res.status)).toEqual([401, 401, 401, 401, 401]);
  });

  it('secret query parameters', async () => {
    const query = `sig=${canary('sig=')}&token=${canary('token=')}&api_key=${canary('api_key=')}&X-Amz-Signature=${canary('X-Amz-Signature=')}`;
    expect((await api.get(`/projects?${query}`, { token: gw.adminToken })).status).toBe(200);
    expect((await api.get(`/v1/models?${query}`)).status).toBe(401);
    expect((await api.get(`/no/such/route?${query}`, { token: gw.adminToken })).status).toBe(404);
  });

  it('passwords and tokens in bodies, accepted, refused and malformed', async () => {
    const newPassword = canary('new user password');
    const email = `canary-${Date.now()}@conflux.test`;
    const created = await api.post(
      '/admin/users',
      { email, password: newPassword, role: 'member' },
      { token: gw.adminToken },
    );
    expect(created.status).toBe(201);
    expect((await api.post('/auth/login', { email, password: newPassword })).status).toBe(200);
    expect(
      (await api.post('/auth/login', { email: TEST_ADMIN.email, password: canary('wrong password') })).status,
    ).toBe(401);
    expect(
      (await api.post('/auth/login', { email: 'not-an-email', password: canary('password, bad email') })).status,
    ).toBe(400);
    expect((await api.post('/auth/login', { email, password: 42, extra: canary('unknown field') })).status).toBe(400);
    expect((await api.post('/auth/refresh', { refresh_token: canary('refresh token') })).status).toBe(401);
    const malformed = `{"email": "${email}", "password": "${canary('password in malformed JSON')}"`;
    expect((await api.request('POST', '/auth/login', { raw: malformed })).status).toBe(400);
  });

  describe('upstream error bodies that echo our provider key or carry secrets', () => {
    const secretLooking = canary('secret-looking upstream text');
    const echoAuthorization = (req: RecordedRequest): string =>
      `Incorrect API key provided: ${header(req, 'authorization')}; key ${header(req, 'authorization').slice(7)}`;
    const echoApiKey = (req: RecordedRequest): string => `invalid x-api-key ${header(req, 'x-api-key')}`;

    it('JSON answers (4xx, 5xx) of the openai kind', async () => {
      for (const status of [400, 401, 403, 422, 500]) {
        openai.enqueue(
          faults.status(status, (req: RecordedRequest) => ({ error: { message: echoAuthorization(req), type: 'x' } })),
        );
        expect((await chat()).status).toBeGreaterThanOrEqual(400);
      }
      openai.enqueue(faults.status(400, { error: { message: `leaked sk-proj-${secretLooking} here` } }));
      expect((await chat()).status).toBeGreaterThanOrEqual(400);
      openai.enqueue(faults.status(500, (req: RecordedRequest) => `<html>${header(req, 'authorization')}</html>`));
      expect((await chat()).status).toBeGreaterThanOrEqual(400);
    });

    it('streams of the openai kind: before and after the first event', async () => {
      openai.enqueue(faults.status(401, (req: RecordedRequest) => ({ error: { message: echoAuthorization(req) } })));
      expect((await chat(true)).status).toBeGreaterThanOrEqual(400);
      await streamErrors(openai, chat, echoAuthorization);
    });

    it('JSON answers and streams of the anthropic kind', async () => {
      for (const status of [400, 401, 500]) {
        anthropic.enqueue(
          faults.status(status, (req: RecordedRequest) => ({
            type: 'error',
            error: { type: 'authentication_error', message: echoApiKey(req) },
          })),
        );
        expect((await messages()).status).toBeGreaterThanOrEqual(400);
      }
      await streamErrors(anthropic, messages, echoApiKey);
    });
  });

  it('the surfaces that describe the service', async () => {
    for (const path of ['/metrics', '/health', '/health/ready', '/health/live']) {
      expect((await api.get(path)).status).toBe(200);
    }
    expect((await api.get('/v1/models', { apiKey: gw.apiKey })).status).toBe(200);
  });

  it('finds no canary anywhere', async () => {
    // Let the last access-log lines be written.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const logs = gw.t.logs.text;
    const metrics = (await new Api(gw.t.url).get('/metrics')).text;
    expect(logs.length).toBeGreaterThan(1000);
    const found: string[] = [];
    for (const [channel, value] of canaries) {
      if (logs.includes(value)) found.push(`${channel} in the logs`);
      if (metrics.includes(value)) found.push(`${channel} in the metrics`);
      answers.forEach((answer, i) => {
        if (answer.includes(value)) found.push(`${channel} in answer ${i}: ${answer.slice(0, 600)}`);
      });
    }
    expect(found).toEqual([]);
  });
});
