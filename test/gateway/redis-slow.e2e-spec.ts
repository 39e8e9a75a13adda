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

  /** Sends chat requests from 8 callers while `during` runs; the statuses of every answer. */
  async function underLoad(during: () => Promise<void>): Promise<number[]> {
    const statuses: number[] = [];
    let running = true;
    const worker = async (): Promise<void> => {
      while (running) statuses.push((await gw.api.post('/v1/chat/completions', chat, { apiKey: gw.apiKey })).status);
    };
    const workers = Array.from({ length: 8 }, () => worker());
    await delay(500);
    await during();
    running = false;
    await Promise.all(workers);
    await delay(200); // the replies still held by the proxy arrive; a circuit opened by the burst stays open 2 s
    return statuses;
  }

  async function expectRedisKeptInDecisions(statuses: number[]): Promise<void> {
    // Balances are read from Redis only: a Redis circuit opened by the burst would answer 503 here.
    const balances = await gw.api.get(`/projects/${gw.projectId}/quota`, { token: gw.adminToken });
    expect(balances.status).toBe(200);
    expect(statuses.length).toBeGreaterThan(10);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    expect(gw.t.logs.lines.filter((line) => line.includes('Redis unavailable'))).toEqual([]);
  }

  it('answers every request and keeps Redis in the decisions (no 503, balances readable right after)', async () => {
    const statuses = await underLoad(async () => {
      // Every Redis reply arrives ~120 ms late: past the 75 ms bound of each quota and rate-limit call.
      proxy.slow(60);
      await delay(2_000);
      proxy.restore();
    });
    await expectRedisKeptInDecisions(statuses);
  }, 60_000);

  it('does not take pauses of this process (as long as a full GC on a big heap) for a Redis outage', async () => {
    const statuses = await underLoad(async () => {
      proxy.slow(60);
      // Every Redis bound, the ledger's 500 ms command timeout included, expires during a 600 ms pause;
      // between pauses (800 ms) late replies are heard again.
      const pauses = setInterval(() => {
        const end = performance.now() + 600;
        while (performance.now() < end);
      }, 1_400);
      await delay(4_500);
      clearInterval(pauses);
      proxy.restore();
    });
    await expectRedisKeptInDecisions(statuses);
  }, 60_000);
});
