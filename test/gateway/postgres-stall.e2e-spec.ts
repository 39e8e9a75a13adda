import { Client } from 'pg';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { createApiKey } from '../support/fixtures';
import { createTestDatabase, delay, TestDatabase, waitUntil } from '../support/services';
import { proxiedUrl, TcpProxy } from '../support/tcp-proxy';
import { Gateway, NO_RETRY, startGateway } from './gateway-support';

const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 };
/** Quota limits are cached 5 s: past this, both the key and the limits must be confirmed again. */
const PAST_EVERY_TTL_MS = 6_000;
/** Far above what a request costs with everything cached, far below a wait on a hung Postgres. */
const ANSWERED_WITHIN_MS = 1_500;

/**
 * The request path when Postgres stalls or goes away: what is cached (API keys, quota limits) is
 * served while it is confirmed in the background, and what is not waits for Postgres a bounded time.
 */
describe('the request path when Postgres is frozen or gone', () => {
  let upstream: FakeUpstream;
  let db: TestDatabase;
  let proxy: TcpProxy;
  let gw: Gateway;

  beforeAll(async () => {
    upstream = await startFakeUpstream('openai', { models: ['gpt-4o-mini'], reply: { text: 'ok' } });
    db = await createTestDatabase();
    proxy = await TcpProxy.forUrl(db.url);
    gw = await startGateway({
      providers: [
        { id: 'openai', kind: 'openai', base_url: upstream.baseUrl, models: ['gpt-4o-mini'], retry: NO_RETRY },
      ],
      db,
      databaseUrl: proxiedUrl(db.url, proxy),
      env: {
        API_KEY_CACHE_TTL_SECONDS: '1',
        API_KEY_OUTAGE_GRACE_SECONDS: '600',
        DATABASE_HOT_PATH_TIMEOUT_MS: '1000',
      },
    });
  }, 60_000);

  afterEach(() => proxy.restore());
  afterAll(async () => {
    proxy?.restore();
    await gw?.close();
    await proxy?.close();
    await db?.drop();
    await upstream?.close();
  });

  /** Sends `count` chat calls, `concurrency` at a time; returns each one's status and duration. */
  async function send(apiKey: string, count: number, concurrency = 4): Promise<Array<{ status: number; ms: number }>> {
    const results: Array<{ status: number; ms: number }> = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        next += 1;
        const started = performance.now();
        const res = await gw.api.post('/v1/chat/completions', chat, { apiKey });
        results.push({ status: res.status, ms: performance.now() - started });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, () => worker()));
    return results;
  }

  it('serves every request of a known key at once while Postgres is frozen, past every cache TTL', async () => {
    expect((await send(gw.apiKey, 4)).map((r) => r.status)).toEqual([200, 200, 200, 200]);
    proxy.stall();
    await delay(PAST_EVERY_TTL_MS);
    const during = await send(gw.apiKey, 40);
    expect(during.filter((r) => r.status !== 200)).toEqual([]);
    expect(during.filter((r) => r.ms > ANSWERED_WITHIN_MS)).toEqual([]);
  }, 60_000);

  it('answers 503 within its bound for a key it has not seen while Postgres is frozen', async () => {
    const unseen = await createApiKey(gw.api, gw.adminToken, gw.projectId, 'unseen');
    proxy.stall();
    const started = performance.now();
    const res = await gw.api.post('/v1/chat/completions', chat, { apiKey: unseen.key });
    // DATABASE_HOT_PATH_TIMEOUT_MS (1 s) plus a generous margin: not a wait on the hung connection.
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: { code: 'service_unavailable' } });
    proxy.restore();
    await delay(500);
    expect((await gw.api.post('/v1/chat/completions', chat, { apiKey: unseen.key })).status).toBe(200);
  }, 60_000);

  it('keeps serving a known key through a Postgres outage longer than the key cache TTL', async () => {
    expect((await send(gw.apiKey, 2)).map((r) => r.status)).toEqual([200, 200]);
    proxy.cut();
    await delay(PAST_EVERY_TTL_MS);
    const during = await send(gw.apiKey, 20);
    expect(during.filter((r) => r.status !== 200)).toEqual([]);
  }, 60_000);

  it('drops a cached key once Postgres answers that it was revoked (no grace for an answer)', async () => {
    const key = await createApiKey(gw.api, gw.adminToken, gw.projectId, 'revoked-behind-our-back');
    expect((await send(key.key, 1))[0].status).toBe(200);
    // Revoked in the database alone: no invalidation reaches the instance, only its own confirmation.
    const client = new Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [key.id]);
    } finally {
      await client.end();
    }
    const refused = await waitUntil(
      async () => (await gw.api.post('/v1/chat/completions', chat, { apiKey: key.key })).status === 401,
      10_000,
      200,
    );
    expect(refused).toBe(true);
  }, 60_000);
});
