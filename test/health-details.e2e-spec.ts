import { rmSync } from 'node:fs';
import { Gateway, NO_RETRY, startGateway } from './gateway/gateway-support';
import { tempStore } from './ml/ml-e2e-support';
import { FakeForecaster, startFakeForecaster } from './support/fake-forecaster';
import { FakeMlWorker, startFakeMlWorker } from './support/fake-ml-worker';
import { FakeUpstream, startFakeUpstream } from './support/fake-upstreams';
import { Api } from './support/http';
import { waitUntil } from './support/services';

interface Worker {
  id: string;
  url: string;
  status: string;
  breaker: string;
  latency_ms: number | null;
  last_checked: string | null;
}

interface Summary {
  services: Record<string, { available_models: string[]; instances: { id: string; models: string[] }[] }>;
  workers: { ml: Worker[]; forecasting: Worker[] };
  dependencies: Record<string, { status: string; checked_at: string }>;
}

const FORECAST = { series: [10, 11, 12, 13, 12, 14, 15, 16, 15, 17], horizon: 4, engine: 'remote' };

/**
 * GET /health for a status page: each upstream instance's models, the remote workers of the ML and
 * forecasting modules (breaker, status, last call), and when each dependency was checked.
 */
describe('GET /health: instance models, remote workers, dependency check times', () => {
  let ollama: FakeUpstream;
  let vllm: FakeUpstream;
  let mlWorker: FakeMlWorker;
  let forecaster: FakeForecaster;
  let store: string;
  let gw: Gateway;
  let api: Api;

  const summary = async (): Promise<Summary> => {
    const res = await api.get<Summary>('/health');
    expect(res.status).toBe(200);
    return res.body;
  };
  const forecastWorker = async (): Promise<Worker> => (await summary()).workers.forecasting[0];

  beforeAll(async () => {
    ollama = await startFakeUpstream('ollama', { models: ['bge-m3:latest', 'gpt-oss:20b'] });
    vllm = await startFakeUpstream('openai', { models: ['qwen2.5-7b'] });
    mlWorker = await startFakeMlWorker();
    forecaster = await startFakeForecaster();
    store = tempStore();
    gw = await startGateway({
      providers: [
        { id: 'local-ollama', kind: 'ollama', base_url: ollama.baseUrl, retry: NO_RETRY },
        { id: 'gpu-a', kind: 'openai', self_hosted: true, base_url: vllm.baseUrl, models: ['qwen2.5-7b'] },
        { id: 'gpu-b', kind: 'openai', self_hosted: true, base_url: 'http://127.0.0.1:1', models: ['llama-3.1-8b'] },
      ],
      env: {
        MODEL_STORE_DIR: store,
        ML_REGISTRY_REFRESH_MS: '0',
        ML_REMOTE_WORKERS: JSON.stringify([
          { model: 'trading-signal', version: 'gpu-1', url: `${mlWorker.baseUrl}/serving`, protocol: 'v2' },
        ]),
        FORECAST_REMOTE_URL: `${forecaster.baseUrl}/toto`,
        FORECAST_REMOTE_TIMEOUT_MS: '300',
        FORECAST_REMOTE_VOLUME_THRESHOLD: '3',
        FORECAST_REMOTE_ERROR_THRESHOLD_PERCENTAGE: '50',
        FORECAST_REMOTE_RESET_TIMEOUT_MS: '60000',
      },
    });
    api = gw.api;
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([ollama?.close(), vllm?.close(), mlWorker?.close(), forecaster?.close()]);
    if (store) rmSync(store, { recursive: true, force: true });
  });

  it('lists the models of each instance; a service’s models are those of its instances', async () => {
    await waitUntil(async () => (await summary()).services.ollama.instances[0].models.length === 2, 10_000);
    const { services } = await summary();
    expect(services.ollama.instances.map((i) => [i.id, i.models])).toEqual([
      ['local-ollama', ['bge-m3:latest', 'gpt-oss:20b']],
    ]);
    expect(services.vllm.instances.map((i) => [i.id, i.models])).toEqual([
      ['gpu-a', ['qwen2.5-7b']],
      ['gpu-b', ['llama-3.1-8b']],
    ]);
    expect(services.vllm.available_models.sort()).toEqual(['llama-3.1-8b', 'qwen2.5-7b']);
  });

  it('lists the remote ML workers: id, origin only, breaker, and no call yet', async () => {
    const { workers } = await summary();
    expect(workers.ml).toEqual([
      {
        id: 'trading-signal@gpu-1',
        url: mlWorker.baseUrl,
        status: 'healthy',
        breaker: 'closed',
        latency_ms: null,
        last_checked: null,
      },
    ]);
  });

  it('lists the remote forecaster, with its last call once one was made', async () => {
    expect(await forecastWorker()).toEqual({
      id: 'forecast-remote',
      url: forecaster.baseUrl,
      status: 'healthy',
      breaker: 'closed',
      latency_ms: null,
      last_checked: null,
    });
    const before = Date.now();
    expect((await api.post('/forecast', FORECAST, { token: gw.adminToken })).body).toMatchObject({ engine: 'toto' });
    const worker = await forecastWorker();
    expect(worker).toMatchObject({ status: 'healthy', breaker: 'closed', latency_ms: expect.any(Number) });
    expect(Date.parse(worker.last_checked!)).toBeGreaterThanOrEqual(before - 5);
    expect(new Date(worker.last_checked!).toISOString()).toBe(worker.last_checked);
  });

  it('shows a worker whose last call failed degraded, and unhealthy once its breaker opened', async () => {
    forecaster.mode = 'fail';
    await api.post('/forecast', FORECAST, { token: gw.adminToken });
    expect(await forecastWorker()).toMatchObject({ status: 'degraded', breaker: 'closed' });
    for (let i = 0; i < 3; i++) await api.post('/forecast', FORECAST, { token: gw.adminToken });
    expect(await forecastWorker()).toMatchObject({ status: 'unhealthy', breaker: 'open' });
    // An open breaker makes no call: the last call shown is still the last one made.
    const calls = forecaster.requests.length;
    const shown = (await forecastWorker()).last_checked;
    await api.post('/forecast', FORECAST, { token: gw.adminToken });
    expect(forecaster.requests.length).toBe(calls);
    expect((await forecastWorker()).last_checked).toBe(shown);
    forecaster.mode = 'ok';
  });

  it('says when each dependency was checked: for this answer', async () => {
    const before = Date.now();
    const { dependencies } = await summary();
    for (const name of ['database', 'redis']) {
      const checkedAt = dependencies[name].checked_at;
      expect({ name, status: dependencies[name].status }).toEqual({ name, status: 'up' });
      expect(new Date(checkedAt).toISOString()).toBe(checkedAt);
      expect(Date.parse(checkedAt)).toBeGreaterThanOrEqual(before - 5);
    }
  });

  it('documents the new fields', async () => {
    const doc = (await api.get('/docs-json')).body as {
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    const { schemas } = doc.components;
    expect(Object.keys(schemas.InstanceHealthDto.properties ?? {})).toContain('models');
    expect(Object.keys(schemas.HealthSummaryDto.properties ?? {})).toContain('workers');
    expect(Object.keys(schemas.WorkersHealthDto.properties ?? {}).sort()).toEqual(['forecasting', 'ml']);
    expect(Object.keys(schemas.WorkerHealthDto.properties ?? {}).sort()).toEqual([
      'breaker',
      'id',
      'last_checked',
      'latency_ms',
      'status',
      'url',
    ]);
  });
});
