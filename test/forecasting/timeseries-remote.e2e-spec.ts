import { setTimeout as sleep } from 'node:timers/promises';
import { startApp, TestApp } from '../support/app';
import { FakeKserveForecaster, startFakeKserveForecaster } from '../support/fake-kserve-forecaster';
import { signInAdmin } from '../support/fixtures';
import { Api } from '../support/http';
import { breakerGauge as readBreakerGauge, remoteWorkerEnv } from './remote-support';
import { DOCS_REQUEST, expectForecast, type TsResponse } from './timeseries-examples';

const REMOTE_TOKEN = 'kserve-worker-token-0123456789-secret';
const PATH = '/v1/timeseries/forecast';

interface Forecast {
  engine: string;
  model: string;
  predictions: number[];
  fallback?: boolean;
  skipped?: { engine: string; reason: string }[];
}

describe('a remote worker speaking KServe time-series, behind its breaker', () => {
  let fake: FakeKserveForecaster;
  let app: TestApp;
  let api: Api;
  let token: string;

  const docs = (): Record<string, unknown> => JSON.parse(DOCS_REQUEST) as Record<string, unknown>;
  const forecast = (body: Record<string, unknown> = {}): Promise<{ status: number; body: Forecast }> =>
    api.post<Forecast>(
      '/forecast',
      { series: [10, 11, 12, 13, 12, 14, 15, 16, 15, 17], horizon: 4, ...body },
      { token },
    );
  const breakerGauge = (): Promise<number> => readBreakerGauge(api);

  beforeAll(async () => {
    fake = await startFakeKserveForecaster();
    app = await startApp({
      env: {
        ...remoteWorkerEnv(fake.baseUrl, REMOTE_TOKEN),
        FORECAST_REMOTE_KIND: 'kserve',
        FORECAST_REMOTE_MODEL: 'timesfm2',
      },
    });
    api = new Api(app.url);
    token = await signInAdmin(api);
  });

  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it("serves the documentation's example, model and all, from the worker, one series per call", async () => {
    const res = await api.post<TsResponse>(PATH, docs(), { token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'completed', model: 'timesfm2' });
    const contents = res.body.outputs.map((o) => o.content[0]);
    for (const content of contents) {
      expect(content).toMatchObject({ engine: 'remote', fitted_model: 'timesfm2', mean_forecast: [42, 42, 42, 42] });
      expect(content.fallback).toBeUndefined();
      expectForecast(content, 4, [0.1, 0.5, 0.9]);
    }
    expect(contents.map((c) => c.start_timestamp)).toEqual(['2025-06-12T13:10:00Z', '2025-06-05T18:10:00Z']);
    const nameOf = (body: Record<string, unknown>): string => (body.inputs as { name: string }[])[0].name;
    // Sent concurrently: in either order.
    const sent = fake.requests.slice(-2).sort((a, b) => nameOf(a.body).localeCompare(nameOf(b.body)));
    expect(sent.map((r) => [r.path, r.authorization])).toEqual([
      [PATH, `Bearer ${REMOTE_TOKEN}`],
      [PATH, `Bearer ${REMOTE_TOKEN}`],
    ]);
    expect(sent.map((r) => r.body)).toEqual([
      {
        model: 'timesfm2',
        inputs: [
          {
            type: 'univariate_time_series',
            name: 'humidity',
            series: [33, 34, 35, 36, 37],
            frequency: 'H',
            season_length: 24,
          },
        ],
        options: { horizon: 4, quantiles: [0.1, 0.5, 0.9] },
      },
      {
        model: 'timesfm2',
        inputs: [
          {
            type: 'univariate_time_series',
            name: 'stock_price',
            series: [120, 122, 125, 127, 130, 133, 135],
            frequency: 'D',
            season_length: 7,
          },
        ],
        options: { horizon: 4, quantiles: [0.1, 0.5, 0.9] },
      },
    ]);
    expect(await breakerGauge()).toBe(0);
  });

  it('serves /forecast from the same worker (auto goes remote), telling it the frequency', async () => {
    const res = await forecast({ frequency: 'monthly', metric: 'sales' });
    expect(res.body).toMatchObject({ engine: 'remote', model: 'timesfm2', predictions: [42, 42, 42, 42] });
    const input = (fake.requests.at(-1)!.body.inputs as Record<string, unknown>[])[0];
    expect(input).toMatchObject({ name: 'sales', frequency: 'M', season_length: 12 });
    expect(fake.requests.at(-1)!.body.options).toEqual({ horizon: 4, quantiles: [0.1, 0.9] });
  });

  it("a refusal in the protocol's error body, or a malformed answer, falls back locally; a refusal does not trip the breaker", async () => {
    fake.refuseSeries = true;
    for (let i = 0; i < 4; i++) {
      const refused = await api.post<TsResponse>(
        PATH,
        { ...docs(), inputs: [(docs().inputs as unknown[])[0]] },
        { token },
      );
      const content = refused.body.outputs[0].content[0];
      expect(content.fallback).toBe(true);
      expect(content.engine).not.toBe('remote');
      expect(content.skipped?.[0]).toEqual({
        engine: 'remote',
        reason: 'the remote worker refused the series: Invalid horizon: 4',
      });
      expectForecast(content, 4, [0.1, 0.5, 0.9]);
    }
    expect(await breakerGauge()).toBe(0);
    fake.refuseSeries = false;
    fake.mode = 'malformed';
    const malformed = await forecast();
    expect(malformed.body.fallback).toBe(true);
    expect(malformed.body.skipped?.[0]?.reason).toMatch(/did not answer a mean_forecast of 4 finite values/);
    fake.mode = 'ok';
    expect((await forecast()).body.engine).toBe('remote');
  });

  it('a failing worker opens the breaker; the local engines answer with fallback: true; it recovers', async () => {
    fake.mode = 'fail';
    for (let i = 0; i < 10 && (await breakerGauge()) !== 2; i++) {
      const failed = await api.post<TsResponse>(PATH, docs(), { token });
      expect(failed.status).toBe(200);
      for (const output of failed.body.outputs) {
        expect(output.status).toBe('completed');
        expect(output.content[0].fallback).toBe(true);
      }
    }
    expect(await breakerGauge()).toBe(2);
    const calls = fake.requests.length;
    const open = await api.post<TsResponse>(PATH, docs(), { token });
    expect(open.body.status).toBe('completed');
    for (const output of open.body.outputs) {
      expect(output.content[0].skipped?.[0]?.reason).toMatch(/breaker is open/);
      expectForecast(output.content[0], 4, [0.1, 0.5, 0.9]);
    }
    expect(fake.requests.length).toBe(calls);
    const engines = await api.get<{ remote: { kind: string; state: string } }>('/forecast/engines', { token });
    expect(engines.body.remote).toMatchObject({ kind: 'kserve', state: 'open' });

    fake.mode = 'ok';
    fake.level = 50;
    await sleep(1100);
    const recovered = await forecast();
    expect(recovered.body).toMatchObject({ engine: 'remote', predictions: [50, 50, 50, 50] });
    expect(await breakerGauge()).toBe(0);
  });

  it('a hanging worker is abandoned at its deadline and the series is served locally', async () => {
    fake.mode = 'hang';
    const abortedBefore = fake.aborted;
    const hung = await forecast();
    expect(hung.body.fallback).toBe(true);
    expect(hung.body.skipped?.[0]?.reason).toMatch(/did not answer within 300 ms/);
    for (let i = 0; i < 50 && fake.aborted === abortedBefore; i++) await sleep(20);
    expect(fake.aborted).toBeGreaterThan(abortedBefore);
    fake.mode = 'ok';
  });

  it('never logs the worker token', () => {
    expect(app.logs.text).not.toContain(REMOTE_TOKEN);
  });
});
