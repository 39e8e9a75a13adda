import { setTimeout as sleep } from 'node:timers/promises';
import { startApp, TestApp } from '../support/app';
import { FakeForecaster, startFakeForecaster } from '../support/fake-forecaster';
import { signInAdmin } from '../support/fixtures';
import { Api } from '../support/http';
import { breakerGauge as readBreakerGauge, remoteWorkerEnv } from './remote-support';

interface Forecast {
  engine: string;
  predictions: number[];
  lastValue: number;
  model: string;
  quantiles?: Record<string, number[]>;
  fallback?: boolean;
  skipped?: { engine: string; reason: string }[];
}

const REMOTE_TOKEN = 'remote-worker-token-0123456789-secret';
const series = [10, 11, 12, 13, 12, 14, 15, 16, 15, 17];

describe('remote forecasting worker behind its breaker', () => {
  let fake: FakeForecaster;
  let app: TestApp;
  let api: Api;
  let token: string;

  const forecast = (extra: Record<string, unknown> = {}): Promise<{ status: number; body: Forecast }> =>
    api.post<Forecast>('/forecast', { series, horizon: 4, ...extra }, { token });
  const breakerGauge = (): Promise<number> => readBreakerGauge(api);

  beforeAll(async () => {
    fake = await startFakeForecaster();
    app = await startApp({
      env: remoteWorkerEnv(fake.baseUrl, REMOTE_TOKEN),
    });
    api = new Api(app.url);
    token = await signInAdmin(api);
  });

  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it('serves auto from the remote worker while it is healthy', async () => {
    const res = await forecast({ quantiles: [0.25, 0.75] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      engine: 'toto',
      model: 'toto-open-base-1.0',
      predictions: [42, 42, 42, 42],
      lastValue: 17,
    });
    expect(res.body.fallback).toBeUndefined();
    expect(res.body.quantiles).toEqual({ '0.25': [41.75, 41.75, 41.75, 41.75], '0.75': [42.25, 42.25, 42.25, 42.25] });
    const sent = fake.requests.at(-1)!;
    expect(sent.body).toMatchObject({ series, horizon: 4, quantiles: [0.25, 0.75] });
    expect(sent.authorization).toBe(`Bearer ${REMOTE_TOKEN}`);
    expect(await breakerGauge()).toBe(0);
  });

  it('a named local engine does not go to the worker', async () => {
    const before = fake.requests.length;
    const res = await forecast({ engine: 'theta' });
    expect(res.body.engine).toBe('theta');
    expect(fake.requests.length).toBe(before);
  });

  it('a malformed answer or a refusal falls back locally without tripping the breaker on a refusal', async () => {
    fake.mode = 'malformed';
    const malformed = await forecast();
    expect(malformed.status).toBe(200);
    expect(malformed.body.fallback).toBe(true);
    expect(malformed.body.predictions).toHaveLength(4);
    fake.mode = 'refuse';
    for (let i = 0; i < 4; i++) {
      const refused = await forecast({ engine: 'remote' });
      expect(refused.body.fallback).toBe(true);
      expect(refused.body.skipped?.[0]?.engine).toBe('remote');
    }
    expect(await breakerGauge()).toBe(0);
    fake.mode = 'ok';
    expect((await forecast()).body.engine).toBe('toto');
  });

  it('failing and hanging workers open the breaker; the local engine answers with fallback: true; it recovers', async () => {
    fake.mode = 'fail';
    const failed = await forecast();
    expect(failed.status).toBe(200);
    expect(failed.body.fallback).toBe(true);
    expect(failed.body.engine).not.toBe('toto');
    expect(failed.body.predictions.every(Number.isFinite)).toBe(true);

    fake.mode = 'hang';
    const abortedBefore = fake.aborted;
    const hung = await forecast();
    expect(hung.body.fallback).toBe(true);
    expect(hung.body.skipped?.[0]?.reason).toMatch(/did not answer within 300 ms/);
    // The hanging call was really abandoned, not left open.
    for (let i = 0; i < 50 && fake.aborted === abortedBefore; i++) await sleep(20);
    expect(fake.aborted).toBeGreaterThan(abortedBefore);

    // Keep failing until the breaker opens; from then on the worker is not called at all.
    fake.mode = 'fail';
    for (let i = 0; i < 10 && (await breakerGauge()) !== 2; i++) await forecast();
    expect(await breakerGauge()).toBe(2);
    const engines = await api.get<{ remote: { state: string } }>('/forecast/engines', { token });
    expect(engines.body.remote.state).toBe('open');
    const calls = fake.requests.length;
    const fastFail = await forecast();
    expect(fastFail.body.fallback).toBe(true);
    expect(fastFail.body.skipped?.[0]?.reason).toMatch(/breaker is open/);
    expect(fake.requests.length).toBe(calls);
    expect((await api.get('/metrics')).text).toMatch(
      /conflux_forecast_fallbacks_total\{kind="remote",reason="breaker_open"\} [1-9]/,
    );

    // Healthy again: after the reset timeout a trial call goes through and closes the breaker.
    fake.mode = 'ok';
    fake.level = 50;
    await sleep(1100);
    const recovered = await forecast();
    expect(recovered.body.engine).toBe('toto');
    expect(recovered.body.predictions).toEqual([50, 50, 50, 50]);
    expect(recovered.body.fallback).toBeUndefined();
    expect(await breakerGauge()).toBe(0);
  });

  it('batches go to the worker per item and fall back per item', async () => {
    fake.mode = 'ok';
    const ok = await api.post<{ results: Forecast[] }>(
      '/forecast/batch',
      { items: [{ series }, { series, engine: 'naive' }] },
      { token },
    );
    expect(ok.body.results.map((r) => r.engine)).toEqual(['toto', 'naive']);
    fake.mode = 'fail';
    const failed = await api.post<{ results: Forecast[] }>(
      '/forecast/batch',
      {
        items: [
          { series, horizon: 4 },
          { series, horizon: 4 },
        ],
      },
      { token },
    );
    expect(failed.body.results.every((r) => r.fallback === true && r.predictions.length === 4)).toBe(true);
    fake.mode = 'ok';
  });

  it('never logs the worker token', () => {
    expect(app.logs.text).not.toContain(REMOTE_TOKEN);
  });
});
