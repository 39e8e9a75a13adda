import { startApp, TestApp } from '../support/app';
import { createApiKey, createProject, signInAdmin } from '../support/fixtures';
import { Api, expectKserveError } from '../support/http';
import { DOCS_REQUEST, DOCS_RESPONSE, expectForecast, type TsResponse } from './timeseries-examples';

/** The JSON types of a value, recursively (arrays by their first element): what a parser relies on. */
function shapeOf(value: unknown): unknown {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? [] : [shapeOf(value[0])];
  if (typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, shapeOf(v)]),
    );
  }
  return typeof value;
}

/** Our response without what the protocol lets a server add: the extra fields of each forecast. */
function withoutExtras(body: TsResponse): unknown {
  return {
    ...body,
    outputs: body.outputs.map((o) => ({
      ...o,
      content: o.content.map(
        ({ engine: _e, fitted_model: _m, season_length: _s, imputed: _i, fallback: _f, skipped: _k, ...rest }) => rest,
      ),
    })),
  };
}

const PATH = '/v1/timeseries/forecast';

describe('POST /v1/timeseries/forecast (KServe time-series protocol)', () => {
  let app: TestApp;
  let api: Api;
  let apiKey: string;
  const key = (): { apiKey: string } => ({ apiKey });
  const docsRequest = (model = 'auto'): Record<string, unknown> => ({
    ...(JSON.parse(DOCS_REQUEST) as Record<string, unknown>),
    model,
  });

  beforeAll(async () => {
    app = await startApp({ env: { FORECAST_MAX_POINTS: '500', FORECAST_BATCH_MAX_ITEMS: '3' } });
    api = new Api(app.url);
    const token = await signInAdmin(api);
    const project = await createProject(api, token, 'timeseries');
    apiKey = (await createApiKey(api, token, project.id)).key;
  });

  afterAll(async () => {
    await app?.close();
  });

  it("answers the documentation's example (two series, quantiles) in the documented response shape", async () => {
    const before = Math.floor(Date.now() / 1000);
    const res = await api.post<TsResponse>(PATH, docsRequest('auto'), key());
    expect(res.status).toBe(200);
    const documented = JSON.parse(DOCS_RESPONSE) as TsResponse & { usage?: unknown; other_properties?: unknown };
    // Same fields and JSON types everywhere; `usage` (token counts) is optional and not relevant here.
    const { usage: _usage, other_properties: _echo, ...expectedShape } = documented;
    expect(shapeOf(withoutExtras(res.body))).toEqual(shapeOf({ ...expectedShape, model: 'auto' }));
    expect(res.body).toMatchObject({ status: 'completed', error: null, model: 'auto' });
    expect(res.body.id).toMatch(/^resp_[0-9a-f]{32}$/);
    expect(res.body.created_at).toBeGreaterThanOrEqual(before);
    expect(res.body.created_at).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    expect(res.body.outputs.map((o) => [o.type, o.status, o.error])).toEqual([
      ['time_series_forecast', 'completed', undefined],
      ['time_series_forecast', 'completed', undefined],
    ]);
    expect(new Set(res.body.outputs.map((o) => o.id)).size).toBe(2);
    // The forecast starts where the documentation says: series.length steps after the input's start.
    const [stock, humidity] = res.body.outputs.map((o) => o.content[0]);
    expect([stock.name, stock.frequency, stock.start_timestamp]).toEqual(['stock_price', 'D', '2025-06-12T13:10:00Z']);
    expect([humidity.name, humidity.frequency, humidity.start_timestamp]).toEqual([
      'humidity',
      'H',
      '2025-06-05T18:10:00Z',
    ]);
    expectForecast(stock, 4, [0.1, 0.5, 0.9]);
    expectForecast(humidity, 4, [0.1, 0.5, 0.9]);
    // A steadily rising series is forecast to keep rising from its last value, not to fall back.
    expect(stock.mean_forecast[0]).toBeGreaterThan(133);
    expect(stock.mean_forecast[3]).toBeGreaterThan(stock.mean_forecast[0]);
    expect(humidity.season_length).toBe(24);
    expect(stock.season_length).toBe(7);
  });

  it('answers a single series with the same forecast as /forecast, and only the mean without quantiles', async () => {
    const body = docsRequest('theta') as { inputs: unknown[]; options: Record<string, unknown> };
    const single = { ...body, inputs: [body.inputs[0]], options: { horizon: 4 } };
    const res = await api.post<TsResponse>(PATH, single, key());
    expect(res.status).toBe(200);
    expect(res.body.outputs).toHaveLength(1);
    const content = res.body.outputs[0].content[0];
    expect(content.quantiles).toBeUndefined();
    expect(content.engine).toBe('theta');
    const same = await api.post<{ predictions: number[] }>(
      '/forecast',
      { series: [120, 122, 125, 127, 130, 133, 135], horizon: 4, engine: 'theta', frequency: 'daily' },
      key(),
    );
    expect(content.mean_forecast).toEqual(same.body.predictions);
  });

  it('takes the extensions season_length and null (missing) points, and dates written without a time', async () => {
    const res = await api.post<TsResponse>(
      PATH,
      {
        model: 'naive',
        inputs: [
          {
            type: 'univariate_time_series',
            name: 'sales',
            series: [1, null, 3, 4],
            frequency: 'M',
            start_timestamp: '2024-10-31',
            season_length: 2,
          },
        ],
        options: { horizon: 2 },
      },
      key(),
    );
    expect(res.status).toBe(200);
    const content = res.body.outputs[0].content[0];
    expect(content).toMatchObject({ season_length: 2, imputed: 1, mean_forecast: [4, 4] });
    // Four months after 31 October: the last day of February.
    expect(content.start_timestamp).toBe('2025-02-28');
  });

  it('answers a start_timestamp of null when the input has none', async () => {
    const body = docsRequest('naive') as { inputs: Record<string, unknown>[] };
    const { start_timestamp: _omitted, ...input } = body.inputs[0];
    const res = await api.post<TsResponse>(PATH, { ...body, inputs: [input] }, key());
    expect(res.status).toBe(200);
    expect(res.body.outputs[0].content[0].start_timestamp).toBeNull();
  });

  it("refuses an invalid request with KServe's error body naming the field", async () => {
    const body = docsRequest('auto') as { inputs: Record<string, unknown>[]; options: Record<string, unknown> };
    const cases: [unknown, string | null][] = [
      [{ ...body, options: { quantiles: [0.5] } }, 'options.horizon'],
      [{ ...body, options: { horizon: 0 } }, 'options.horizon'],
      [{ ...body, options: { horizon: 4, quantiles: [1.5] } }, 'options.quantiles'],
      [{ ...body, inputs: [{ ...body.inputs[0], frequency: 'fortnight' }] }, 'inputs.0.frequency'],
      [{ ...body, inputs: [{ ...body.inputs[0], series: [[1, 2]] }] }, 'inputs.0.series'],
      [{ ...body, inputs: [{ ...body.inputs[0], series: [1, 'x'] }] }, 'inputs.0.series'],
      [
        { ...body, inputs: [{ ...body.inputs[0], start_timestamp: '2025-02-30T00:00:00Z' }] },
        'inputs.0.start_timestamp',
      ],
      [{ ...body, inputs: [] }, 'inputs'],
      [{ ...body, inputs: [body.inputs[0], body.inputs[0]] }, 'inputs.1.name'],
      [{ ...body, inputs: [body.inputs[0], body.inputs[1], body.inputs[0], body.inputs[1]] }, 'inputs'],
      [{ inputs: body.inputs, options: body.options }, 'model'],
    ];
    for (const [request, param] of cases) {
      const res = await api.post(PATH, request, key());
      expectKserveError(res, 400, 'validation_failed', param);
    }
  });

  it('answers 404 model_not_found for a model that is not served', async () => {
    expectKserveError(await api.post(PATH, docsRequest('timesfm2'), key()), 404, 'model_not_found', 'model');
  });

  it("answers malformed JSON and a missing credential in KServe's error body", async () => {
    expectKserveError(await api.request('POST', PATH, { ...key(), raw: '{"model":' }), 400, 'malformed_json');
    expectKserveError(await api.post(PATH, docsRequest()), 401, 'unauthorized');
    expectKserveError(await api.post(PATH, docsRequest(), { apiKey: 'cfx_not-a-key' }), 401, 'invalid_token');
  });

  it('answers each series in its own output: a bad one gets its error, the others are served', async () => {
    const body = docsRequest('auto') as { inputs: Record<string, unknown>[] };
    const res = await api.post<TsResponse>(
      PATH,
      {
        ...body,
        inputs: [
          { ...body.inputs[0], series: [null, null] },
          body.inputs[1],
          {
            type: 'multivariate_time_series',
            name: 'weather',
            series: [
              [1, 2],
              [3, 4],
            ],
            frequency: 'hour',
          },
        ],
      },
      key(),
    );
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('partial');
    expect(res.body.error).toBeNull();
    expect(res.body.outputs.map((o) => o.status)).toEqual(['error', 'completed', 'error']);
    expect(res.body.outputs[0]).toMatchObject({
      content: [],
      error: { code: '400', type: 'validation_failed', message: expect.stringMatching(/no observed value/) },
    });
    expect(res.body.outputs[2].error?.message).toMatch(/only univariate_time_series/);
    expectForecast(res.body.outputs[1].content[0], 4, [0.1, 0.5, 0.9]);

    const none = await api.post<TsResponse>(PATH, { ...body, inputs: [{ ...body.inputs[0], series: [null] }] }, key());
    expect(none.status).toBe(200);
    expect(none.body.status).toBe('error');
    expect(none.body.error).toEqual(none.body.outputs[0].error);
  });

  it('applies the series length limit of /forecast', async () => {
    const body = docsRequest('naive') as { inputs: Record<string, unknown>[] };
    const res = await api.post<TsResponse>(
      PATH,
      { ...body, inputs: [{ ...body.inputs[0], series: Array(501).fill(1) }] },
      key(),
    );
    expect(res.body.outputs[0].error).toMatchObject({ code: '400', type: 'validation_failed' });
    expect(res.body.outputs[0].error?.message).toMatch(/at most 500 points/);
  });

  it('is rate limited and measured like /forecast', async () => {
    const res = await api.post<TsResponse>(PATH, docsRequest('damped'), key());
    expect(res.headers.get('x-ratelimit-limit-minute')).toMatch(/^\d+$/);
    const text = (await api.get('/metrics')).text;
    expect(text).toMatch(/conflux_forecast_duration_seconds_count\{engine="damped"\} [1-9]/);
    expect(text).toMatch(/http_requests_total\{method="POST",route="\/v1\/timeseries\/forecast",status="200"\} [1-9]/);
  });
});

describe('POST /v1/timeseries/forecast over the rate limit', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startApp({ env: { RATE_LIMIT_PER_MINUTE: '2' } });
  });

  afterAll(async () => {
    await app?.close();
  });

  it("answers 429 with Retry-After in KServe's error body", async () => {
    const api = new Api(app.url);
    const token = await signInAdmin(api);
    const body = { ...(JSON.parse(DOCS_REQUEST) as object), model: 'naive' };
    let res = await api.post(PATH, body, { token });
    for (let i = 0; i < 3 && res.status !== 429; i++) res = await api.post(PATH, body, { token });
    expectKserveError(res, 429, 'rate_limited');
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
  });
});
