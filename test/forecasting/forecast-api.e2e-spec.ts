import { startApp, TestApp } from '../support/app';
import { createApiKey, createProject, signInAdmin } from '../support/fixtures';
import { Api, expectEnvelope } from '../support/http';

interface Forecast {
  engine: string;
  horizon: number;
  predictions: number[];
  lastValue: number;
  model: string;
  quantiles?: Record<string, number[]>;
  season_length: number;
  imputed?: number;
  fallback?: boolean;
  skipped?: { engine: string; reason: string }[];
  metric?: string;
  id?: string | number;
  error?: string;
  message?: string;
}

/** A seasonal series with trend: 10 years of monthly data. */
const monthly = Array.from({ length: 120 }, (_, t) => 100 + t + 20 * Math.sin((2 * Math.PI * t) / 12));

describe('POST /forecast and /forecast/batch', () => {
  let app: TestApp;
  let api: Api;
  let apiKey: string;
  const key = (): { apiKey: string } => ({ apiKey });

  beforeAll(async () => {
    app = await startApp({ env: { FORECAST_MAX_POINTS: '500', FORECAST_BATCH_MAX_ITEMS: '5' } });
    api = new Api(app.url);
    const token = await signInAdmin(api);
    const project = await createProject(api, token, 'dashboards');
    apiKey = (await createApiKey(api, token, project.id)).key;
  });

  afterAll(async () => {
    await app?.close();
  });

  it('answers the toto-server example with the same field names and types', async () => {
    const res = await api.post<Forecast>(
      '/forecast',
      { series: [0.9, 1.0, 0.95, 1.1], horizon: 3, metric: 'chars_per_sec' },
      key(),
    );
    expect(res.status).toBe(200);
    const body = res.body;
    expect(typeof body.engine).toBe('string');
    expect(body.horizon).toBe(3);
    expect(body.predictions).toHaveLength(3);
    for (const p of body.predictions) expect(Number.isFinite(p)).toBe(true);
    expect(body.lastValue).toBe(1.1);
    expect(typeof body.model).toBe('string');
    expect(body.metric).toBe('chars_per_sec');
    // Default quantiles bracket the point forecast.
    expect(Object.keys(body.quantiles ?? {}).sort()).toEqual(['0.1', '0.9']);
    body.predictions.forEach((p, i) => {
      expect(body.quantiles!['0.1'][i]).toBeLessThanOrEqual(p);
      expect(body.quantiles!['0.9'][i]).toBeGreaterThanOrEqual(p);
    });
    // A plausible forecast of this series stays near its level.
    for (const p of body.predictions) expect(Math.abs(p - 1)).toBeLessThan(0.5);
  });

  it('requires authentication', async () => {
    const res = await api.post('/forecast', { series: [1, 2, 3] });
    expectEnvelope(res, 401, 'unauthorized');
  });

  it('defaults the horizon to 3 and names the engine that served', async () => {
    const res = await api.post<Forecast>('/forecast', { series: monthly }, key());
    expect(res.status).toBe(200);
    expect(res.body.horizon).toBe(3);
    expect(res.body.predictions).toHaveLength(3);
    expect(res.body.engine).not.toBe('auto');
  });

  it('takes the season from season_length, else the frequency, else detects it', async () => {
    const given = await api.post<Forecast>('/forecast', { series: monthly, season_length: 6, horizon: 12 }, key());
    const fromFrequency = await api.post<Forecast>(
      '/forecast',
      { series: monthly, frequency: 'quarterly', horizon: 12 },
      key(),
    );
    const detected = await api.post<Forecast>('/forecast', { series: monthly, horizon: 12 }, key());
    expect([given.body.season_length, fromFrequency.body.season_length, detected.body.season_length]).toEqual([
      6, 4, 12,
    ]);
    // With the right season the forecast follows the cycle: next year's values track the sine.
    const truth = Array.from({ length: 12 }, (_, h) => 100 + 120 + h + 20 * Math.sin((2 * Math.PI * (120 + h)) / 12));
    const error = detected.body.predictions.reduce((s, p, h) => s + Math.abs(p - truth[h]), 0) / 12;
    expect(error).toBeLessThan(3);
  });

  it('serves each requested engine, and falls back on series too short for it', async () => {
    for (const engine of ['naive', 'seasonal_naive', 'ses', 'holt', 'damped', 'theta', 'ets', 'arima', 'ensemble']) {
      const res = await api.post<Forecast>(
        '/forecast',
        { series: monthly, engine, horizon: 6, frequency: 'monthly' },
        key(),
      );
      expect({ engine, status: res.status, served: res.body.engine }).toEqual({ engine, status: 200, served: engine });
      expect(res.body.predictions).toHaveLength(6);
    }
    const short = await api.post<Forecast>(
      '/forecast',
      { series: [5, 6, 7], engine: 'holt_winters_multiplicative', season_length: 12 },
      key(),
    );
    expect(short.status).toBe(200);
    expect(short.body.engine).not.toBe('holt_winters_multiplicative');
    expect(short.body.skipped?.[0]?.engine).toBe('holt_winters_multiplicative');
  });

  it('forecasts degenerate series: length 1, constant, zeros, huge values', async () => {
    const cases: [number[], (p: number) => boolean][] = [
      [[7], (p) => p === 7],
      [Array(30).fill(3.5), (p) => Math.abs(p - 3.5) < 1e-9],
      [Array(30).fill(0), (p) => Math.abs(p) < 1e-9],
      [Array.from({ length: 40 }, (_, t) => 1e12 + t * 1e9), (p) => p > 1e12 && p < 1.2e12],
    ];
    for (const [series, check] of cases) {
      const res = await api.post<Forecast>('/forecast', { series, horizon: 4 }, key());
      expect(res.status).toBe(200);
      expect(res.body.predictions.every(check)).toBe(true);
      for (const values of Object.values(res.body.quantiles ?? {})) expect(values.every(Number.isFinite)).toBe(true);
    }
  });

  it('imputes missing values by linear interpolation and says how many', async () => {
    const res = await api.post<Forecast>(
      '/forecast',
      { series: [1, null, 3, 4, null, null, 7, null], engine: 'naive' },
      key(),
    );
    expect(res.status).toBe(200);
    expect(res.body.imputed).toBe(4);
    // The trailing gap carries the last observation forward: naive then forecasts it.
    expect(res.body.lastValue).toBe(7);
    expect(res.body.predictions).toEqual([7, 7, 7]);
    const interior = await api.post<Forecast>('/forecast', { series: [2, null, null, 8], engine: 'naive' }, key());
    expect(interior.body.lastValue).toBe(8);
  });

  it('answers requested quantiles, ordered by level', async () => {
    const res = await api.post<Forecast>(
      '/forecast',
      { series: monthly, quantiles: [0.05, 0.5, 0.95], horizon: 5 },
      key(),
    );
    expect(res.status).toBe(200);
    const q = res.body.quantiles!;
    expect(Object.keys(q).sort()).toEqual(['0.05', '0.5', '0.95']);
    for (let i = 0; i < 5; i++) {
      expect(q['0.05'][i]).toBeLessThan(q['0.95'][i]);
      expect(q['0.5'][i]).toBeCloseTo(res.body.predictions[i], 6);
    }
  });

  it.each([
    ['an empty series', { series: [] }],
    ['a non-number', { series: [1, '2', 3] }],
    ['an object in the series', { series: [1, { v: 2 }] }],
    ['only missing values', { series: [null, null] }],
    ['too many points', { series: Array(501).fill(1) }],
    ['horizon 0', { series: [1, 2], horizon: 0 }],
    ['horizon 1001', { series: [1, 2], horizon: 1001 }],
    ['a fractional horizon', { series: [1, 2], horizon: 1.5 }],
    ['an unknown engine', { series: [1, 2], engine: 'prophet' }],
    ['an unknown frequency', { series: [1, 2], frequency: 'fortnightly' }],
    ['a quantile of 1', { series: [1, 2], quantiles: [0.5, 1] }],
    ['season_length 0', { series: [1, 2], season_length: 0 }],
    ['an unknown field', { series: [1, 2], colour: 'red' }],
    ['no series', { horizon: 2 }],
  ])('refuses %s with the 400 envelope', async (_name, body) => {
    const res = await api.post('/forecast', body, key());
    expectEnvelope(res, 400, 'validation_failed');
  });

  it('refuses malformed JSON with the envelope', async () => {
    const res = await api.request('POST', '/forecast', { raw: '{"series": [1, 2,', ...key() });
    expectEnvelope(res, 400, 'malformed_json');
  });

  it('answers a batch in order; a bad item in the middle gets its own error', async () => {
    const res = await api.post<{ results: Forecast[] }>(
      '/forecast/batch',
      {
        items: [
          { id: 'a', series: monthly, horizon: 2 },
          { id: 'b', series: [1, 'x'], horizon: 2 },
          { id: 'c', series: [1, null, 3], horizon: 4, engine: 'naive' },
          { id: 7, series: [1, 2], horizon: 5000 },
          { series: [4, 5, 6], engine: 'drift' },
        ],
      },
      key(),
    );
    expect(res.status).toBe(200);
    const [a, b, c, d, e] = res.body.results;
    expect(res.body.results).toHaveLength(5);
    expect(a.id).toBe('a');
    expect(a.predictions).toHaveLength(2);
    expect(b).toEqual({ id: 'b', error: 'validation_failed', message: expect.stringContaining('series') });
    expect(c.id).toBe('c');
    expect(c.imputed).toBe(1);
    expect(c.predictions).toEqual([3, 3, 3, 3]);
    expect(d).toEqual({ id: 7, error: 'validation_failed', message: expect.stringContaining('horizon') });
    expect(e.id).toBeUndefined();
    expect(e.predictions).toEqual([7, 8, 9]);
  });

  it('gives a batch item the same forecast as the single endpoint', async () => {
    const single = await api.post<Forecast>('/forecast', { series: monthly, horizon: 12, frequency: 'monthly' }, key());
    const batch = await api.post<{ results: Forecast[] }>(
      '/forecast/batch',
      { items: [{ series: monthly, horizon: 12, frequency: 'monthly' }] },
      key(),
    );
    expect(batch.body.results[0].predictions).toEqual(single.body.predictions);
    expect(batch.body.results[0].model).toBe(single.body.model);
  });

  it.each([
    ['more items than the limit', { items: Array(6).fill({ series: [1] }) }],
    ['no items', { items: [] }],
    ['items that are not an array', { items: { series: [1] } }],
  ])('refuses a batch with %s', async (_name, body) => {
    const res = await api.post('/forecast/batch', body, key());
    expectEnvelope(res, 400, 'validation_failed');
  });

  it('lists the engines', async () => {
    const res = await api.get<{ engines: string[]; default: string; remote: { configured: boolean } }>(
      '/forecast/engines',
      key(),
    );
    expect(res.status).toBe(200);
    expect(res.body.engines).toEqual(expect.arrayContaining(['auto', 'ets', 'theta', 'arima', 'naive']));
    expect(res.body.engines).not.toContain('remote');
    expect(res.body.remote.configured).toBe(false);
  });

  it('exports forecast latency by engine, series lengths and fallbacks', async () => {
    await api.post('/forecast', { series: [1, 2, 3], engine: 'holt_winters_additive', season_length: 12 }, key());
    const text = (await api.get('/metrics')).text;
    expect(text).toMatch(/conflux_forecast_duration_seconds_count\{engine="naive"\} [1-9]/);
    expect(text).toMatch(/conflux_forecast_series_length_count [1-9]/);
    expect(text).toMatch(/conflux_forecast_fallbacks_total\{kind="model",reason="holt_winters_additive"\} [1-9]/);
  });
});

describe('large forecasts run on worker threads', () => {
  let app: TestApp;
  let api: Api;
  let token: string;

  beforeAll(async () => {
    app = await startApp({ env: { FORECAST_INLINE_MAX_POINTS: '0', FORECAST_WORKER_THREADS: '1' } });
    api = new Api(app.url);
    token = await signInAdmin(api);
  });

  afterAll(async () => {
    await app?.close();
  });

  const hourly = (k: number): number[] =>
    Array.from(
      { length: 700 },
      (_, t) =>
        50 +
        k +
        10 * Math.sin((2 * Math.PI * t) / 24) +
        3 * Math.cos((2 * Math.PI * t) / 168) +
        ((t * 7919 + k * 104729) % 13) / 5,
    );

  it('gives the same answer off the event loop as inline, and keeps the event loop free meanwhile', async () => {
    const inline = await startApp({ env: { FORECAST_INLINE_MAX_POINTS: '100000' } });
    try {
      const inlineApi = new Api(inline.url);
      const inlineToken = await signInAdmin(inlineApi);
      const body = { series: hourly(1), horizon: 48, frequency: 'hourly' };
      const a = await api.post<Forecast>('/forecast', body, { token });
      const b = await inlineApi.post<Forecast>('/forecast', body, { token: inlineToken });
      expect(a.status).toBe(200);
      expect(a.body.predictions).toEqual(b.body.predictions);
      expect(a.body.quantiles).toEqual(b.body.quantiles);
    } finally {
      await inline.close();
    }

    // A big batch is in flight on the worker while the event loop keeps answering probes.
    const items = Array.from({ length: 60 }, (_, k) => ({
      id: k,
      series: hourly(k),
      horizon: 48,
      frequency: 'hourly',
    }));
    let batchDone = false;
    const batch = api.post<{ results: Forecast[] }>('/forecast/batch', { items }, { token }).then((res) => {
      batchDone = true;
      return res;
    });
    const probes: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      const live = await api.get('/health/live');
      expect(live.status).toBe(200);
      probes.push(batchDone);
    }
    const res = await batch;
    expect(res.status).toBe(200);
    expect(res.body.results.map((r) => r.id)).toEqual(items.map((i) => i.id));
    expect(res.body.results.every((r) => r.predictions?.length === 48)).toBe(true);
    // The probes were answered while the batch was still being computed.
    expect(probes.filter((done) => !done).length).toBeGreaterThanOrEqual(3);
  });
});
