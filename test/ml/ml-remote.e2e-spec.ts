/**
 * Model versions served by remote workers (a fake GPU box over HTTP, speaking V2 or /predict), each
 * behind its own breaker: failures and hangs fall back to the local version and say so, the breaker
 * opens (the worker is then not called), and closes again once the worker is healthy.
 */
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError, loadConfig } from '../../src/config/app-config';
import { startApp, TestApp } from '../support/app';
import { FakeMlWorker, startFakeMlWorker } from '../support/fake-ml-worker';
import { createApiKey, createProject, signInAdmin } from '../support/fixtures';
import { Api } from '../support/http';
import {
  metricValue,
  mlEnv,
  onnxBytes,
  perturbedModel,
  realFeatures,
  reference,
  SHIPPED_MODEL,
  SIDECAR,
  tempStore,
  upload,
} from './ml-e2e-support';

interface Prediction extends Record<string, unknown> {
  prediction: { direction: string; confidence: number; expected_return: number | null };
  model_version: string;
  served_by: string;
  fallback?: boolean;
  fallback_from?: string;
  prediction_id: string;
}

const TOKEN = 'remote-ml-worker-token-0123456789-secret';
const V1 = SIDECAR.version;

describe('remote model workers behind their breakers', () => {
  let fake: FakeMlWorker;
  let app: TestApp;
  let api: Api;
  let admin: string;
  let apiKey: string;
  let store: string;
  const features = realFeatures();
  const row = features[50];
  const local = reference(SHIPPED_MODEL, row);

  /** Answers of /predict for gpu-1 that came from the fallback. */
  let fallbacksSeen = 0;
  const predict = async (extra: Record<string, unknown> = {}) => {
    const res = await api.post<Prediction>('/predict', { symbol: 'DAX', features: row, ...extra }, { apiKey });
    if (res.body.fallback_from === 'gpu-1') fallbacksSeen += 1;
    return res;
  };
  const breaker = async (version: string): Promise<number> =>
    metricValue(
      (await api.get('/metrics')).text,
      new RegExp(`conflux_ml_remote_breaker_state\\{model="trading-signal",version="${version}"\\} (\\d)`),
    );

  beforeAll(async () => {
    fake = await startFakeMlWorker();
    store = tempStore();
    const workers = [
      {
        model: 'trading-signal',
        version: 'gpu-1',
        url: fake.baseUrl,
        protocol: 'v2',
        timeout_ms: 300,
        fallback_version: V1,
        breaker: { volume_threshold: 3, error_threshold_percentage: 50, reset_timeout_ms: 1000 },
      },
      {
        model: 'trading-signal',
        version: 'gpu-2',
        url: `${fake.baseUrl}/`,
        protocol: 'predict',
        timeout_ms: 300,
        fallback_version: V1,
        breaker: { volume_threshold: 3, error_threshold_percentage: 50, reset_timeout_ms: 1000 },
      },
    ];
    app = await startApp({ env: mlEnv(store, { ML_REMOTE_WORKERS: JSON.stringify(workers), ML_REMOTE_TOKEN: TOKEN }) });
    api = new Api(app.url);
    admin = await signInAdmin(api);
    const project = await createProject(api, admin, 'bots');
    apiKey = (await createApiKey(api, admin, project.id)).key;
    // The remote versions are registered like any other (their artifact is the model the worker runs).
    expect(
      (await upload(app.url, admin, 'trading-signal', onnxBytes(perturbedModel(21)), { version: 'gpu-1' })).status,
    ).toBe(201);
    expect(
      (await upload(app.url, admin, 'trading-signal', onnxBytes(perturbedModel(22)), { version: 'gpu-2' })).status,
    ).toBe(201);
    const promoted = await api.request('PATCH', '/api/ml/models/trading-signal/versions/gpu-1', {
      token: admin,
      body: { stage: 'production' },
    });
    expect(promoted.status).toBe(200);
  });

  afterAll(async () => {
    await app?.close();
    await fake?.close();
    rmSync(store, { recursive: true, force: true });
  });

  it('serves production from the V2 worker while it is healthy, the fallback staying loaded', async () => {
    const res = await predict();
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      model_version: 'gpu-1',
      served_by: 'remote',
      prediction: { direction: 'BUY', confidence: 0.97, expected_return: 0.5 },
    });
    expect(res.body.fallback).toBeUndefined();
    const sent = fake.requests.at(-1)!;
    expect(sent.path).toBe('/v2/models/trading-signal/infer');
    expect(sent.authorization).toBe(`Bearer ${TOKEN}`);
    expect(sent.body.inputs).toEqual([{ name: 'features', shape: [1, 12], datatype: 'FP32', data: row }]);
    const model = await api.get<{
      versions: { version: string; stage: string; loaded: boolean; remote?: { breaker: string; protocol: string } }[];
    }>('/api/ml/models/trading-signal', { token: admin });
    const byVersion = new Map(model.body.versions.map((v) => [v.version, v]));
    expect(byVersion.get('gpu-1')).toMatchObject({
      stage: 'production',
      loaded: false,
      remote: { breaker: 'closed', protocol: 'v2' },
    });
    expect(byVersion.get(V1)).toMatchObject({ stage: 'none', loaded: true });
    expect(await breaker('gpu-1')).toBe(0);
  });

  it('forwards V2 inference to the worker', async () => {
    const res = await api.post<{
      model_version: string;
      parameters: Record<string, unknown>;
      outputs: { name: string; data: number[] }[];
    }>(
      '/v2/models/trading-signal/infer',
      { id: 'r1', inputs: [{ name: 'features', shape: [1, 12], datatype: 'FP32', data: row }] },
      { apiKey },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ model_version: 'gpu-1', parameters: { served_by: 'remote' } });
    expect(res.body.outputs[1]).toMatchObject({ name: 'expected_return', data: [0.5] });
    expect((await api.get('/v2/models/trading-signal/ready', { apiKey })).body).toEqual({
      name: 'trading-signal',
      ready: true,
    });
  });

  it('a failing or hanging worker: the local fallback answers and says so', async () => {
    fake.mode = 'fail';
    const failed = await predict();
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({
      model_version: V1,
      served_by: 'local',
      fallback: true,
      fallback_from: 'gpu-1',
    });
    expect(failed.body.prediction.confidence).toBeCloseTo(local.confidence, 5);

    fake.mode = 'hang';
    const abortedBefore = fake.aborted;
    const started = Date.now();
    const hung = await predict();
    expect(hung.body).toMatchObject({ fallback: true, model_version: V1 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    // The hanging call was abandoned, not left open.
    for (let i = 0; i < 50 && fake.aborted === abortedBefore; i++) await sleep(20);
    expect(fake.aborted).toBeGreaterThan(abortedBefore);

    fake.mode = 'malformed';
    expect((await predict()).body).toMatchObject({ fallback: true, model_version: V1 });
    const v2 = await api.post<{ model_version: string; parameters: Record<string, unknown> }>(
      '/v2/models/trading-signal/infer',
      { inputs: [{ name: 'features', shape: [1, 12], datatype: 'FP32', data: row }] },
      { apiKey },
    );
    expect(v2.status).toBe(200);
    expect(v2.body).toMatchObject({
      model_version: V1,
      parameters: { served_by: 'local', fallback: true, fallback_from: 'gpu-1' },
    });
  });

  it('the breaker opens: the worker is no longer called; it closes again once the worker is healthy', async () => {
    fake.mode = 'fail';
    for (let i = 0; i < 10 && (await breaker('gpu-1')) !== 2; i++) await predict();
    expect(await breaker('gpu-1')).toBe(2);
    const calls = fake.requests.length;
    const fastFail = await predict();
    expect(fastFail.body).toMatchObject({ fallback: true, model_version: V1 });
    expect(fake.requests.length).toBe(calls);
    const listed = await api.get<{ versions: { version: string; remote?: { breaker: string } }[] }>(
      '/api/ml/models/trading-signal',
      {
        token: admin,
      },
    );
    expect(listed.body.versions.find((v) => v.version === 'gpu-1')?.remote?.breaker).toBe('open');
    const text = (await api.get('/metrics')).text;
    expect(
      metricValue(
        text,
        /conflux_ml_remote_fallbacks_total\{model="trading-signal",version="gpu-1",reason="breaker_open"\} (\d+)/,
      ),
    ).toBeGreaterThan(0);
    expect(
      metricValue(
        text,
        /conflux_ml_remote_fallbacks_total\{model="trading-signal",version="gpu-1",reason="timeout"\} (\d+)/,
      ),
    ).toBeGreaterThan(0);

    fake.mode = 'ok';
    fake.confidence = 0.91;
    await sleep(1100);
    const recovered = await predict();
    expect(recovered.body).toMatchObject({
      model_version: 'gpu-1',
      served_by: 'remote',
      prediction: { confidence: 0.91 },
    });
    expect(recovered.body.fallback).toBeUndefined();
    expect(await breaker('gpu-1')).toBe(0);
  });

  it('counts fallbacks per arm in the A/B statistics', async () => {
    const stats = await api.get<{ arms: { version: string; predictions: number; fallbacks: number }[] }>(
      '/api/ml/models/trading-signal/ab',
      {
        token: admin,
      },
    );
    const arm = stats.body.arms.find((a) => a.version === 'gpu-1')!;
    expect(fallbacksSeen).toBeGreaterThanOrEqual(4);
    expect(arm.fallbacks).toBe(fallbacksSeen);
    expect(arm.predictions).toBeGreaterThan(arm.fallbacks);
  });

  it('a /predict-contract worker serves its version; refusals fall back without counting against it', async () => {
    fake.mode = 'ok';
    const res = await predict({ model_version: 'gpu-2' });
    expect(res.body).toMatchObject({ model_version: 'gpu-2', served_by: 'remote', prediction: { direction: 'BUY' } });
    expect(fake.requests.at(-1)).toMatchObject({ path: '/predict', body: { symbol: 'DAX', features: row } });
    fake.mode = 'refuse';
    for (let i = 0; i < 6; i++) {
      const refused = await predict({ model_version: 'gpu-2' });
      expect(refused.body).toMatchObject({ model_version: V1, fallback: true, fallback_from: 'gpu-2' });
    }
    expect(await breaker('gpu-2')).toBe(0);
    fake.mode = 'malformed';
    for (let i = 0; i < 10 && (await breaker('gpu-2')) !== 2; i++) await predict({ model_version: 'gpu-2' });
    expect(await breaker('gpu-2')).toBe(2);
    // The other worker's breaker is its own.
    expect(await breaker('gpu-1')).toBe(0);
    fake.mode = 'ok';
  });

  it('never logs the worker token', () => {
    expect(app.logs.text).not.toContain(TOKEN);
  });
});

describe('ML_REMOTE_WORKERS', () => {
  const problems = (value: string): string[] => {
    try {
      loadConfig({ ML_REMOTE_WORKERS: value });
      return [];
    } catch (error) {
      return (error as ConfigError).problems;
    }
  };

  it('accepts JSON or YAML lists and fills in the defaults', () => {
    const config = loadConfig({
      ML_REMOTE_WORKERS: '- model: trading-signal\n  version: gpu-1\n  url: http://gpu:8000/\n',
    });
    expect(config.mlRemoteWorkers).toEqual([
      {
        model: 'trading-signal',
        version: 'gpu-1',
        url: 'http://gpu:8000',
        protocol: 'v2',
        remote_model: 'trading-signal',
        timeout_ms: 2000,
        fallback_version: undefined,
        breaker: {
          error_threshold_percentage: 50,
          volume_threshold: 5,
          reset_timeout_ms: 10_000,
          rolling_window_ms: 10_000,
        },
      },
    ]);
    expect(problems('[]')).toEqual([]);
  });

  it('names every problem, and never an unknown setting silently', () => {
    const found = problems(
      JSON.stringify([
        { model: 'm', version: 'v', url: 'ftp://x', protocol: 'grpc', timeout_ms: 1 },
        { model: 'm', version: 'v', url: 'http://user:secret@x', fallback_version: 'v' },
        { model: 'bad name', version: 'v', url: 'http://x', breaker: { volume_threshold: -1 }, extra: true },
      ]),
    );
    expect(found).toHaveLength(1);
    const text = found[0];
    expect(text).toMatch(/^ML_REMOTE_WORKERS: /);
    for (const part of [
      '[0].url must be an http(s) URL',
      '[0].protocol must be one of v2, predict',
      '[0].timeout_ms must be an integer',
      '[1].url must not carry credentials',
      '[1].fallback_version must be another version',
      '[2].model must match',
      '[2].breaker.volume_threshold must be an integer',
      '[2].extra is not a known setting',
    ]) {
      expect(text).toContain(part);
    }
    // The value itself is never echoed (a URL may carry a secret).
    expect(text).not.toContain('secret');
    expect(problems('{"not": "a list"}')[0]).toMatch(/must be a list/);
    expect(problems('[1, 2')[0]).toMatch(/ML_REMOTE_WORKERS/);
  });
});
