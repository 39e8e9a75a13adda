import { faults, type FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { type Gateway, NO_RETRY, startGateway } from '../gateway/gateway-support';
import { PROMETHEUS_BINARY, PrometheusServer, type Sample } from './prometheus';

/**
 * The replaced service's dashboards and runbooks, run against Conflux's /metrics as scraped by a real
 * Prometheus: every PromQL example of its README returns data, and so does every `grep` of its
 * troubleshooting guide.
 */
const SEED_QUERIES = [
  'rate(http_requests_total[5m])',
  'rate(http_request_duration_seconds_sum[5m]) / rate(http_request_duration_seconds_count[5m])',
  'sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))',
  'circuit_breaker_state{provider="openai"}',
];

/** `curl …/metrics | grep WORD` of the troubleshooting guide, as queries on the metric names. */
const SEED_GREPS = ['http_request_duration', 'circuit_breaker_state', 'provider_errors', 'db_pool'];

const available = PrometheusServer.available();
if (!available && !process.env.CI) {
  console.warn(
    `test/compat/promql.e2e-spec.ts skipped: ${PROMETHEUS_BINARY} is missing ` +
      '(apt-get install -y prometheus); under CI this fails instead.',
  );
}
const describeWithPrometheus = available || process.env.CI ? describe : describe.skip;

const chat = (model = 'gpt-4o-mini'): Record<string, unknown> => ({
  model,
  messages: [{ role: 'user', content: 'hello' }],
  max_tokens: 5,
});

function finiteValues(samples: Sample[]): number[] {
  return samples.map((s) => Number(s.value[1])).filter((v) => Number.isFinite(v));
}

describeWithPrometheus("the replaced service's PromQL against a real Prometheus", () => {
  let upstream: FakeUpstream;
  let gw: Gateway;
  let prometheus: PrometheusServer | undefined;
  const statuses: number[] = [];

  /** One round of mixed traffic: successful chats, 4xx answers and one upstream failure answered 502. */
  async function driveRound(): Promise<void> {
    const key = { apiKey: gw.apiKey };
    for (let i = 0; i < 3; i += 1) statuses.push((await gw.api.post('/v1/chat/completions', chat(), key)).status);
    statuses.push((await gw.api.post('/v1/chat/completions', chat())).status); // no credentials: 401
    statuses.push((await gw.api.post('/v1/chat/completions', { model: 'gpt-4o-mini' }, key)).status); // 400
    upstream.enqueue(faults.status(500));
    statuses.push((await gw.api.post('/v1/chat/completions', chat(), key)).status);
  }

  beforeAll(async () => {
    if (!available) throw new Error(`${PROMETHEUS_BINARY} is missing: install the Debian package prometheus`);
    upstream = await startFakeUpstream('openai', { models: ['gpt-4o-mini'] });
    gw = await startGateway({
      providers: [
        // Named like the replaced service's instance, so that its dashboards' selector matches.
        { id: 'openai', kind: 'openai', base_url: upstream.baseUrl, models: ['gpt-4o-mini'], retry: NO_RETRY },
      ],
    });
    prometheus = await PrometheusServer.start(new URL(gw.t.url).host);
    // Traffic spread over several scrapes, so that every counter it moves has a rate.
    await prometheus.waitForScrapes(1);
    for (let round = 1; round <= 3; round += 1) {
      await driveRound();
      await prometheus.waitForScrapes(round + 1);
    }
    await prometheus.waitForScrapes(5);
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    await gw?.close();
    await upstream?.close();
  });

  it('drove successes, 4xx and 5xx answers', () => {
    expect(statuses.filter((s) => s === 200)).toHaveLength(9);
    expect(statuses.filter((s) => s === 401 || s === 400)).toHaveLength(6);
    expect(statuses.filter((s) => s >= 500 && s < 600)).toHaveLength(3);
  });

  it.each(SEED_QUERIES)('%s returns a finite value', async (expr) => {
    const samples = await prometheus!.query(expr);
    expect(samples.length).toBeGreaterThan(0);
    expect(finiteValues(samples).length).toBeGreaterThan(0);
  });

  it('counts the 5xx answers in the error rate, labelled as the dashboards query them', async () => {
    const [rate] = await prometheus!.query(SEED_QUERIES[2]);
    expect(Number(rate.value[1])).toBeGreaterThan(0);
    const errors = await prometheus!.query('http_requests_total{status=~"5.."}');
    expect(errors.map((s) => s.metric)).toContainEqual(
      expect.objectContaining({ method: 'POST', route: '/v1/chat/completions', status: '502' }),
    );
    const [breaker] = await prometheus!.query(SEED_QUERIES[3]);
    expect(breaker.metric).toMatchObject({ provider: 'openai', kind: 'openai' });
    expect(await prometheus!.query('circuit_breaker_state{kind="openai"}')).toHaveLength(1);
  });

  it.each(SEED_GREPS)('metrics named like %s have finite values', async (word) => {
    const samples = await prometheus!.query(`{__name__=~".*${word}.*"}`);
    expect(finiteValues(samples).length).toBeGreaterThan(0);
  });

  it('reports the provider errors by instance, kind and class', async () => {
    const samples = await prometheus!.query('{__name__=~".*provider_errors.*"}');
    expect(samples.map((s) => s.metric)).toContainEqual(
      expect.objectContaining({ __name__: 'conflux_provider_errors_total', provider: 'openai', kind: 'openai' }),
    );
  });

  it('reports the pool size, idle connections and waiting queries', async () => {
    const samples = await prometheus!.query('{__name__=~".*db_pool.*"}');
    const names = samples.filter((s) => Number.isFinite(Number(s.value[1]))).map((s) => s.metric.__name__);
    expect(names).toEqual(
      expect.arrayContaining(['conflux_db_pool_size', 'conflux_db_pool_idle', 'conflux_db_pool_waiting']),
    );
  });

  it('answers each grep of the troubleshooting guide on /metrics itself', async () => {
    const text = await (await fetch(`${gw.t.url}/metrics`)).text();
    for (const word of SEED_GREPS) {
      expect({ word, lines: text.split('\n').some((line) => line.includes(word) && !line.startsWith('#')) }).toEqual({
        word,
        lines: true,
      });
    }
  });
});
