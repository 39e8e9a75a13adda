import { FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { delay, testRedisUrl } from '../support/services';
import { proxiedUrl, TcpProxy } from '../support/tcp-proxy';
import { Gateway, NO_RETRY, startGateway } from './gateway-support';

const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 };

/** A burst of slow Redis answers (Redis alive, every reply late) is not a Redis outage. */
describe('the gateway when Redis answers slowly for a while', () => {
  let upstream: FakeUpstream;
  let proxy: TcpProxy;
  let gw: Gateway;

  beforeAll(async () => {
    upstream = await startFakeUpstream('openai', { models: ['gpt-4o-mini'], reply: { text: 'ok' } });
    proxy = await TcpProxy.forUrl(testRedisUrl());
    gw = await startGateway({
      providers: [
        { id: 'openai', kind: 'openai', base_url: upstream.baseUrl, models: ['gpt-4o-mini'], retry: NO_RETRY },
      ],
      env: { REDIS_URL: proxiedUrl(testRedisUrl(), proxy) },
    });
  }, 60_000);

  afterAll(async () => {
    proxy?.restore();
    await gw?.close();
    await proxy?.close();
    await upstream?.close();
  });

  it('answers every request and keeps Redis in the decisions (no 503, balances readable right after)', async () => {
    const statuses: number[] = [];
    let running = true;
    const worker = async (): Promise<void> => {
      while (running) statuses.push((await gw.api.post('/v1/chat/completions', chat, { apiKey: gw.apiKey })).status);
    };
    const workers = Array.from({ length: 8 }, () => worker());
    await delay(500);
    // Every Redis reply arrives ~120 ms late: past the 75 ms bound of each quota and rate-limit call.
    proxy.slow(60);
    await delay(2_000);
    proxy.restore();
    running = false;
    await Promise.all(workers);
    await delay(200); // the replies still held by the proxy arrive; a circuit opened by the burst stays open 2 s
    // Balances are read from Redis only: a Redis circuit opened by the burst would answer 503 here.
    const balances = await gw.api.get(`/projects/${gw.projectId}/quota`, { token: gw.adminToken });
    expect(balances.status).toBe(200);
    expect(statuses.length).toBeGreaterThan(10);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(gw.t.logs.text).not.toContain('Redis unavailable');
  }, 60_000);
});
