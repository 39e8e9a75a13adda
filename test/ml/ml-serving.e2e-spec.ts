/**
 * Model serving end to end: the app boots on real Postgres and Redis with an empty registry and its own
 * model store, registers the shipped trading-signal model, and answers /predict, the batch form, the
 * Open Inference Protocol and feedback through real onnxruntime sessions on the inference workers.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { startApp, TestApp } from '../support/app';
import { createApiKey, createProject, createUser, signInAdmin } from '../support/fixtures';
import { Api, ApiResponse, expectEnvelope } from '../support/http';
import {
  metricValue,
  mlEnv,
  query,
  realFeatures,
  reference,
  registryRows,
  sha256,
  SHIPPED_BYTES,
  SHIPPED_MODEL,
  SIDECAR,
  storeFiles,
  tempStore,
} from './ml-e2e-support';

interface Prediction extends Record<string, unknown> {
  symbol: string;
  prediction: { direction: string; confidence: number; expected_return: number | null };
  model_name: string;
  model_version: string;
  latency_ms: number;
  prediction_id: string;
  served_by: string;
  fallback?: boolean;
}

interface V2Tensor {
  name: string;
  shape: number[];
  datatype: string;
  data: number[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The V2 protocol error body: `error` (a message) and the request id, nothing else. */
function expectV2Error(res: ApiResponse, status: number, message: RegExp): void {
  expect({ status: res.status, keys: Object.keys(res.body ?? {}).sort() }).toEqual({
    status,
    keys: ['error', 'request_id'],
  });
  expect(res.body.error).toMatch(message);
  expect(res.body.request_id).toBe(res.headers.get('x-request-id'));
}

describe('model serving: /predict, batch, V2, feedback', () => {
  let app: TestApp;
  let api: Api;
  let admin: string;
  let apiKey: string;
  let otherKey: string;
  let store: string;
  const features = realFeatures();
  const key = (): { apiKey: string } => ({ apiKey });

  beforeAll(async () => {
    store = tempStore();
    // Every request waits for companions (up to the 2 ms delay), so concurrent requests share batches
    // however fast the workers answer.
    app = await startApp({
      env: mlEnv(store, { ML_PREDICT_BATCH_MAX_ITEMS: '100', ML_BATCH_EAGER_WHEN_IDLE: 'false' }),
    });
    api = new Api(app.url);
    admin = await signInAdmin(api);
    const project = await createProject(api, admin, 'bots');
    apiKey = (await createApiKey(api, admin, project.id)).key;
    const other = await createProject(api, admin, 'others');
    otherKey = (await createApiKey(api, admin, other.id)).key;
  });

  afterAll(async () => {
    await app?.close();
    rmSync(store, { recursive: true, force: true });
  });

  describe('a fresh start', () => {
    it('registers the shipped model in production, copies it into the store and loads it', async () => {
      const res = await api.get<{ models: Record<string, unknown>[] }>('/api/ml/models', { token: admin });
      expect(res.status).toBe(200);
      expect(res.body.models).toHaveLength(1);
      const model = res.body.models[0] as {
        name: string;
        production_version: string;
        split: unknown;
        input_signature: { name: string; dtype: string; shape: number[] };
        output_mapping: { probabilities: string; labels: string[]; expected_return: string };
        versions: {
          version: string;
          stage: string;
          sha256: string;
          artifact: string;
          loaded: boolean;
          metrics: Record<string, unknown>;
        }[];
      };
      expect(model).toMatchObject({
        name: 'trading-signal',
        production_version: SIDECAR.version,
        split: null,
        input_signature: { name: 'features', dtype: 'float32', shape: [-1, 12] },
        output_mapping: {
          probabilities: 'probabilities',
          labels: ['SELL', 'HOLD', 'BUY'],
          expected_return: 'expected_return',
        },
      });
      expect(model.versions).toEqual([
        expect.objectContaining({
          version: SIDECAR.version,
          stage: 'production',
          sha256: sha256(SHIPPED_BYTES),
          artifact: `trading-signal/${SIDECAR.version}.onnx`,
          loaded: true,
        }),
      ]);
      expect(model.versions[0].metrics).toHaveProperty('accuracy');
      expect(storeFiles(store)).toEqual([`trading-signal/${SIDECAR.version}.onnx`]);
      const rows = await query(app.db.url, `SELECT stage FROM ml_model_versions`);
      expect(rows).toEqual([{ stage: 'production' }]);
    });

    it('answers /predict and /api/ml/predict with the shipped model, as the model computes it', async () => {
      for (const path of ['/predict', '/api/ml/predict']) {
        const row = features[3];
        const res = await api.post<Prediction>(path, { symbol: 'DAX', features: row }, key());
        expect(res.status).toBe(200);
        expect(Object.keys(res.body).sort()).toEqual(
          ['latency_ms', 'model_name', 'model_version', 'prediction', 'prediction_id', 'served_by', 'symbol'].sort(),
        );
        expect(res.body).toMatchObject({
          symbol: 'DAX',
          model_name: 'trading-signal',
          model_version: SIDECAR.version,
          served_by: 'local',
        });
        expect(res.body.prediction_id).toMatch(UUID);
        expect(res.body.latency_ms).toBeGreaterThanOrEqual(0);
        const expected = reference(SHIPPED_MODEL, row);
        expect(res.body.prediction.direction).toBe(expected.direction);
        expect(res.body.prediction.confidence).toBeCloseTo(expected.confidence, 5);
        expect(res.body.prediction.expected_return).toBeCloseTo(expected.expected_return, 6);
      }
    });

    it('reports health', async () => {
      const res = await api.get('/api/ml/health');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'healthy', models_loaded: 1, uptime_seconds: expect.any(Number) });
    });
  });

  describe('access', () => {
    it('refuses anonymous callers', async () => {
      expectEnvelope(await api.post('/predict', { symbol: 'DAX', features: features[0] }), 401, 'unauthorized');
      expectEnvelope(await api.get('/api/ml/models'), 401, 'unauthorized');
      expectEnvelope(await api.get('/api/ml/models/trading-signal'), 401, 'unauthorized');
      const v2 = await api.post('/v2/models/trading-signal/infer', {});
      expectEnvelope(v2, 401, 'unauthorized');
    });

    it('lets an API key and any signed-in user read the registry: models, signatures, versions', async () => {
      const member = await createUser(api, admin);
      for (const caller of [key(), { token: member.token }]) {
        const listed = await api.get<{ models: { name: string; input_signature: unknown }[] }>(
          '/api/ml/models',
          caller,
        );
        expect(listed.status).toBe(200);
        expect(listed.body.models.map((m) => m.name)).toEqual(['trading-signal']);
        const one = await api.get('/api/ml/models/trading-signal', caller);
        expect(one.status).toBe(200);
        expect(one.body).toMatchObject({
          name: 'trading-signal',
          production_version: SIDECAR.version,
          input_signature: { name: 'features', dtype: 'float32', shape: [-1, 12] },
          versions: [expect.objectContaining({ version: SIDECAR.version, stage: 'production' })],
        });
        expectEnvelope(await api.get('/api/ml/models/no-such-model', caller), 404, 'model_not_found');
      }
    });

    it('keeps every change (and the A/B statistics) for signed-in administrators: 403 for an API key or a member', async () => {
      const member = await createUser(api, admin);
      const before = await registryRows(app.db.url);
      const model = '/api/ml/models/trading-signal';
      const version = `${model}/versions/${SIDECAR.version}`;
      const changes: [string, string, unknown][] = [
        ['POST', '/api/ml/models', { name: 'other', task: 'classification' }],
        ['POST', `${model}/versions`, {}],
        ['PATCH', version, { stage: 'archived' }],
        ['DELETE', version, undefined],
        ['PUT', `${model}/split`, { arms: [{ version: SIDECAR.version, weight: 1 }] }],
        ['DELETE', `${model}/split`, undefined],
        ['DELETE', model, undefined],
        ['POST', `${model}/reload`, {}],
        ['GET', `${model}/ab`, undefined],
      ];
      for (const caller of [key(), { token: member.token }]) {
        for (const [method, path, body] of changes) {
          const res = await api.request(method, path, { ...caller, body });
          expect({ method, path, status: res.status }).toEqual({ method, path, status: 403 });
          expectEnvelope(res, 403, 'forbidden');
        }
      }
      expect(await registryRows(app.db.url)).toEqual(before);
    });
  });

  describe('bad requests', () => {
    it('refuses a wrong feature count, non-numbers, unknown models and versions with a 4xx envelope, changing nothing', async () => {
      const before = await registryRows(app.db.url);
      const filesBefore = storeFiles(store);
      const short = await api.post('/predict', { symbol: 'DAX', features: features[0].slice(0, 5) }, key());
      expectEnvelope(short, 400, 'validation_failed');
      expect(short.body.message).toMatch(/12 values/);
      const long = await api.post('/predict', { symbol: 'DAX', features: [...features[0], 1] }, key());
      expectEnvelope(long, 400, 'validation_failed');
      for (const bad of [
        ['a', ...features[0].slice(1)],
        [null, ...features[0].slice(1)],
        'not an array',
        [],
        [[1, 2]],
      ]) {
        expectEnvelope(await api.post('/predict', { symbol: 'DAX', features: bad }, key()), 400, 'validation_failed');
      }
      expectEnvelope(
        await api.post('/predict', { symbol: 'DAX', features: features[0].map(() => 1e39) }, key()),
        400,
        'validation_failed',
      );
      expectEnvelope(await api.post('/predict', { features: features[0] }, key()), 400, 'validation_failed');
      expectEnvelope(
        await api.post('/predict', { symbol: 'DAX', features: features[0], extra: 1 }, key()),
        400,
        'validation_failed',
      );
      const unknown = await api.post(
        '/predict',
        { symbol: 'DAX', features: features[0], model: 'no-such-model' },
        key(),
      );
      expectEnvelope(unknown, 404, 'model_not_found');
      const version = await api.post(
        '/predict',
        { symbol: 'DAX', features: features[0], model_version: 'v999' },
        key(),
      );
      expectEnvelope(version, 404, 'model_not_found');
      expectEnvelope(
        await api.post('/predict', { symbol: 'DAX', features: features[0], model_version: '../etc' }, key()),
        400,
        'validation_failed',
      );
      const malformed = await api.request('POST', '/predict', { ...key(), raw: '{"symbol": "DAX", "features": [1,' });
      expectEnvelope(malformed, 400, 'malformed_json');
      expect(await registryRows(app.db.url)).toEqual(before);
      expect(storeFiles(store)).toEqual(filesBefore);
    });
  });

  describe('micro-batching', () => {
    it('gives every concurrent caller its own row, the same as a single request', async () => {
      const rows = features.slice(0, 96);
      const singles: Prediction[] = [];
      for (const row of rows)
        singles.push((await api.post<Prediction>('/predict', { symbol: 'SEQ', features: row }, key())).body);
      const metricsBefore = (await api.get('/metrics')).text;
      const version = SIDECAR.version;
      const sumPattern = new RegExp(
        `conflux_ml_batch_size_sum\\{model="trading-signal",version="${version}"\\} ([0-9.e+]+)`,
      );
      const countPattern = new RegExp(
        `conflux_ml_batch_size_count\\{model="trading-signal",version="${version}"\\} ([0-9.e+]+)`,
      );
      const rowsBefore = metricValue(metricsBefore, sumPattern);
      const batchesBefore = metricValue(metricsBefore, countPattern);

      const concurrent = await Promise.all(
        rows.map((row) => api.post<Prediction>('/predict', { symbol: 'PAR', features: row }, key())),
      );
      concurrent.forEach((res, i) => {
        expect(res.status).toBe(200);
        expect(res.body.prediction.direction).toBe(singles[i].prediction.direction);
        expect(res.body.prediction.confidence).toBeCloseTo(singles[i].prediction.confidence, 6);
        expect(res.body.prediction.expected_return).toBeCloseTo(singles[i].prediction.expected_return!, 7);
        expect(res.body.prediction.confidence).toBeCloseTo(reference(SHIPPED_MODEL, rows[i]).confidence, 5);
      });
      // The inputs are distinct, so equal answers would mean rows got mixed up.
      expect(new Set(concurrent.map((r) => r.body.prediction.confidence)).size).toBeGreaterThan(rows.length / 2);
      const metricsAfter = (await api.get('/metrics')).text;
      const batchedRows = metricValue(metricsAfter, sumPattern) - rowsBefore;
      const batches = metricValue(metricsAfter, countPattern) - batchesBefore;
      expect(batchedRows).toBe(rows.length);
      // Fewer runs than requests: requests shared batches.
      expect(batches).toBeLessThan(rows.length);
    });
  });

  describe('POST /api/ml/predict/batch', () => {
    it('answers in order; a bad item gets its own error and does not fail the others', async () => {
      const items = [
        { symbol: 'A', features: features[10] },
        { symbol: 'B', features: features[11].slice(0, 3) },
        { symbol: 'C', features: features[12] },
        'not an object',
        { symbol: 'D', features: features[13], model: 'no-such-model' },
        { symbol: 'E', features: ['x'] },
        { symbol: 'F', features: features[14], model_version: 'latest' },
      ];
      const res = await api.post<{ results: (Prediction & { error?: string; message?: string })[] }>(
        '/api/ml/predict/batch',
        { items },
        key(),
      );
      expect(res.status).toBe(200);
      const results = res.body.results;
      expect(results).toHaveLength(items.length);
      expect(results.map((r) => r.error ?? r.symbol)).toEqual([
        'A',
        'validation_failed',
        'C',
        'validation_failed',
        'model_not_found',
        'validation_failed',
        'F',
      ]);
      for (const bad of [1, 3, 4, 5]) {
        expect(Object.keys(results[bad]).sort()).toEqual(['error', 'message']);
        expect(results[bad].message?.length).toBeGreaterThan(0);
      }
      for (const [i, row] of [
        [0, features[10]],
        [2, features[12]],
        [6, features[14]],
      ] as const) {
        expect(results[i].model_version).toBe(SIDECAR.version);
        expect(results[i].prediction.confidence).toBeCloseTo(reference(SHIPPED_MODEL, row).confidence, 5);
        expect(results[i].prediction_id).toMatch(UUID);
      }
    });

    it('refuses an empty batch or one over the limit as a whole', async () => {
      expectEnvelope(await api.post('/api/ml/predict/batch', { items: [] }, key()), 400, 'validation_failed');
      const items = Array.from({ length: 101 }, () => ({ symbol: 'A', features: features[0] }));
      expectEnvelope(await api.post('/api/ml/predict/batch', { items }, key()), 400, 'validation_failed');
    });
  });

  describe('Open Inference Protocol (V2)', () => {
    const path = '/v2/models/trading-signal';

    it('answers health and metadata', async () => {
      expect(await api.get('/v2/health/live', key())).toMatchObject({ status: 200, body: { live: true } });
      expect(await api.get('/v2/health/ready', key())).toMatchObject({ status: 200, body: { ready: true } });
      expect((await api.get('/v2', key())).body).toMatchObject({ name: 'conflux', extensions: [] });
      const meta = await api.get(path, key());
      expect(meta.status).toBe(200);
      expect(meta.body).toEqual({
        name: 'trading-signal',
        versions: [SIDECAR.version],
        platform: 'onnxruntime_onnx',
        inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 12] }],
        outputs: [
          { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
          { name: 'expected_return', datatype: 'FP32', shape: [-1, 1] },
        ],
      });
      expect((await api.get(`${path}/versions/${SIDECAR.version}`, key())).body).toEqual(meta.body);
      expect(await api.get(`${path}/ready`, key())).toMatchObject({
        status: 200,
        body: { name: 'trading-signal', ready: true },
      });
      expect(await api.get(`${path}/versions/${SIDECAR.version}/ready`, key())).toMatchObject({
        status: 200,
        body: { ready: true },
      });
    });

    it('infers with JSON tensors (flat or nested data) and answers the protocol shape', async () => {
      const rows = [features[20], features[21]];
      const res = await api.post<{ model_name: string; model_version: string; id: string; outputs: V2Tensor[] }>(
        `${path}/infer`,
        { id: 'req-1', inputs: [{ name: 'features', shape: [2, 12], datatype: 'FP32', data: rows }] },
        key(),
      );
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(['id', 'model_name', 'model_version', 'outputs']);
      expect(res.body).toMatchObject({ model_name: 'trading-signal', model_version: SIDECAR.version, id: 'req-1' });
      expect(res.body.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
        ['probabilities', 'FP32', [2, 3]],
        ['expected_return', 'FP32', [2, 1]],
      ]);
      rows.forEach((row, r) => {
        const expected = reference(SHIPPED_MODEL, row);
        const probabilities = res.body.outputs[0].data.slice(r * 3, r * 3 + 3);
        expect(Math.max(...probabilities)).toBeCloseTo(expected.confidence, 5);
        expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        expect(res.body.outputs[1].data[r]).toBeCloseTo(expected.expected_return, 6);
      });

      const flat = await api.post<{ outputs: V2Tensor[] }>(
        `${path}/versions/${SIDECAR.version}/infer`,
        {
          inputs: [{ name: 'features', shape: [1, 12], datatype: 'FP32', data: features[20] }],
          outputs: [{ name: 'expected_return' }],
        },
        key(),
      );
      expect(flat.status).toBe(200);
      expect(flat.body.outputs).toHaveLength(1);
      expect(flat.body.outputs[0]).toMatchObject({ name: 'expected_return', shape: [1, 1], datatype: 'FP32' });
      expect(flat.body.outputs[0].data[0]).toBeCloseTo(res.body.outputs[1].data[0], 7);
      expect(flat.body).not.toHaveProperty('id');
    });

    it('answers errors with the protocol error body', async () => {
      const tensor = { name: 'features', shape: [1, 12], datatype: 'FP32', data: features[0] };
      expectV2Error(await api.post('/v2/models/nope/infer', { inputs: [tensor] }, key()), 404, /not registered/);
      expectV2Error(await api.get('/v2/models/nope', key()), 404, /not registered/);
      expectV2Error(await api.get('/v2/models/nope/ready', key()), 404, /not registered/);
      expectV2Error(
        await api.post(`${path}/versions/v999/infer`, { inputs: [tensor] }, key()),
        404,
        /no version "v999"/,
      );
      expectV2Error(
        await api.post(`${path}/infer`, { inputs: [{ ...tensor, datatype: 'INT32' }] }, key()),
        400,
        /must be FP32/,
      );
      expectV2Error(
        await api.post(`${path}/infer`, { inputs: [{ ...tensor, shape: [2, 12] }] }, key()),
        400,
        /needs 24 values/,
      );
      expectV2Error(
        await api.post(
          `${path}/infer`,
          { inputs: [{ ...tensor, shape: [1, 8], data: features[0].slice(0, 8) }] },
          key(),
        ),
        400,
        /shape/,
      );
      expectV2Error(
        await api.post(`${path}/infer`, { inputs: [{ ...tensor, name: 'x' }] }, key()),
        400,
        /Unknown input "x"/,
      );
      expectV2Error(
        await api.post(`${path}/infer`, { inputs: [tensor], outputs: [{ name: 'nope' }] }, key()),
        400,
        /Unknown output "nope"/,
      );
      expectV2Error(
        await api.post(`${path}/infer`, { inputs: [{ ...tensor, data: ['a', ...features[0].slice(1)] }] }, key()),
        400,
        /finite numbers/,
      );
      expectV2Error(await api.post(`${path}/infer`, { inputs: [] }, key()), 400, /inputs/);
      expectV2Error(
        await api.post(`${path}/infer`, { inputs: [{ ...tensor, datatype: 'FP128' }] }, key()),
        400,
        /datatype/,
      );
      expectV2Error(await api.post(`${path}/infer`, { inputs: [tensor], extra: true }, key()), 400, /Unknown field/);
    });
  });

  describe('feedback and A/B statistics', () => {
    it('records outcomes of the caller’s predictions and reports them per arm', async () => {
      const statsBefore = await api.get<{
        arms: { version: string; predictions: number; feedback: { count: number } }[];
      }>('/api/ml/models/trading-signal/ab', { token: admin });
      expect(statsBefore.status).toBe(200);
      const armBefore = statsBefore.body.arms.find((a) => a.version === SIDECAR.version)!;
      const made: Prediction[] = [];
      for (const row of features.slice(40, 45))
        made.push((await api.post<Prediction>('/predict', { symbol: 'FTSE', features: row }, key())).body);

      const direction = await api.post(
        '/api/ml/feedback',
        { prediction_id: made[0].prediction_id, outcome: 'BUY' },
        key(),
      );
      expect(direction.status).toBe(200);
      expect(direction.body).toEqual({
        prediction_id: made[0].prediction_id,
        model_name: 'trading-signal',
        model_version: SIDECAR.version,
        arm: SIDECAR.version,
        predicted: made[0].prediction.direction,
        outcome: 'BUY',
        outcome_return: null,
        hit: made[0].prediction.direction === 'BUY',
        abs_error: null,
      });
      // A realised return is classified with the model's threshold (0.004): 0.001 is HOLD.
      const realised = await api.post<{ outcome: string; abs_error: number; hit: boolean }>(
        '/api/ml/feedback',
        { prediction_id: made[1].prediction_id, outcome: 0.001 },
        key(),
      );
      expect(realised.body.outcome).toBe('HOLD');
      expect(realised.body.hit).toBe(made[1].prediction.direction === 'HOLD');
      expect(realised.body.abs_error).toBeCloseTo(Math.abs(made[1].prediction.expected_return! - 0.001), 9);
      // A later outcome replaces the earlier one.
      const corrected = await api.post<{ outcome: string }>(
        '/api/ml/feedback',
        { prediction_id: made[1].prediction_id, outcome: -0.02 },
        key(),
      );
      expect(corrected.body.outcome).toBe('SELL');

      expectEnvelope(
        await api.post('/api/ml/feedback', { prediction_id: randomUUID(), outcome: 'BUY' }, key()),
        404,
        'not_found',
      );
      expectEnvelope(
        await api.post(
          '/api/ml/feedback',
          { prediction_id: made[2].prediction_id, outcome: 'BUY' },
          { apiKey: otherKey },
        ),
        404,
        'not_found',
      );
      expectEnvelope(
        await api.post('/api/ml/feedback', { prediction_id: made[2].prediction_id, outcome: 'UP' }, key()),
        400,
        'validation_failed',
      );
      expectEnvelope(
        await api.post('/api/ml/feedback', { prediction_id: 'x', outcome: 'BUY' }, key()),
        400,
        'validation_failed',
      );

      const stats = await api.get<{
        model: string;
        production_version: string;
        split: unknown;
        arms: {
          version: string;
          predictions: number;
          share: number;
          latency_ms: { mean: number; p50: number; p95: number };
          fallbacks: number;
          feedback: { count: number; hits: number; hit_rate: number; mean_abs_error: number };
        }[];
      }>('/api/ml/models/trading-signal/ab', { token: admin });
      expect(stats.body).toMatchObject({ model: 'trading-signal', production_version: SIDECAR.version, split: null });
      const arm = stats.body.arms.find((a) => a.version === SIDECAR.version)!;
      expect(arm.predictions).toBe(armBefore.predictions + made.length);
      expect(arm.feedback.count).toBe(armBefore.feedback.count + 2);
      expect(arm.latency_ms.p95).toBeGreaterThanOrEqual(arm.latency_ms.p50);
      expect(arm.fallbacks).toBe(0);
      const hits = await query<{ hits: string }>(
        app.db.url,
        `SELECT count(*) FILTER (WHERE hit) AS hits FROM ml_feedback`,
      );
      expect(arm.feedback.hits).toBe(Number(hits[0].hits));
      const recorded = await query<{ n: string }>(
        app.db.url,
        `SELECT count(*) AS n FROM ml_predictions WHERE symbol = 'FTSE'`,
      );
      expect(Number(recorded[0].n)).toBe(made.length);

      const windowed = await api.get<{ arms: unknown[]; since: string }>(
        `/api/ml/models/trading-signal/ab?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
        { token: admin },
      );
      expect(windowed.body.arms).toEqual([]);
      expectEnvelope(
        await api.get('/api/ml/models/trading-signal/ab?since=yesterday', { token: admin }),
        400,
        'validation_failed',
      );
    });
  });

  describe('metrics', () => {
    it('counts inferences and arms by model and version, never by symbol', async () => {
      const symbol = `SYM-${randomUUID()}`;
      await api.post('/predict', { symbol, features: features[5] }, key());
      const text = (await api.get('/metrics')).text;
      const labels = `model="trading-signal",version="${SIDECAR.version}"`;
      expect(
        metricValue(
          text,
          new RegExp(`conflux_ml_inference_duration_seconds_count\\{${labels},served_by="local"\\} (\\d+)`),
        ),
      ).toBeGreaterThan(0);
      expect(
        metricValue(
          text,
          new RegExp(`conflux_ml_inferences_total\\{${labels},served_by="local",outcome="ok"\\} (\\d+)`),
        ),
      ).toBeGreaterThan(0);
      expect(
        metricValue(text, new RegExp(`conflux_ml_queue_wait_seconds_count\\{${labels}\\} (\\d+)`)),
      ).toBeGreaterThan(0);
      expect(
        metricValue(
          text,
          new RegExp(`conflux_ml_ab_assignments_total\\{model="trading-signal",arm="${SIDECAR.version}"\\} (\\d+)`),
        ),
      ).toBeGreaterThan(0);
      expect(metricValue(text, /conflux_ml_models_loaded (\d+)/)).toBe(1);
      expect(text).not.toContain(symbol);
      expect(text).not.toContain('no-such-model');
    });
  });
});
