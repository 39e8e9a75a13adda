import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { startApp, TestApp } from '../support/app';
import { Api, expectEnvelope } from '../support/http';
import { testRedisUrl, waitUntil } from '../support/services';
import { proxiedUrl, TcpProxy } from '../support/tcp-proxy';
import { Gateway, NO_RETRY, startGateway } from '../gateway/gateway-support';

const GIB = 1024 ** 3;

/** Triton's metrics port: one GPU of 80 GiB, 32 GiB used, 50 % busy (a fraction, as Triton exports it). */
const TRITON_TEXT = [
  '# HELP nv_gpu_utilization GPU utilization rate [0.0 - 1.0)',
  '# TYPE nv_gpu_utilization gauge',
  'nv_gpu_utilization{gpu_uuid="GPU-aaaa"} 0.5',
  '# HELP nv_gpu_memory_total_bytes GPU total memory, in bytes',
  '# TYPE nv_gpu_memory_total_bytes gauge',
  `nv_gpu_memory_total_bytes{gpu_uuid="GPU-aaaa"} ${80 * GIB}`,
  `nv_gpu_memory_used_bytes{gpu_uuid="GPU-aaaa"} ${32 * GIB}`,
  'nv_gpu_power_usage{gpu_uuid="GPU-aaaa"} NaN',
  'nv_inference_count{model="simple",version="1"} 12',
  '',
].join('\n');

/** dcgm-exporter: one GPU of 61 GiB (MiB used + free), 24 % busy; a label with braces and spaces, a timestamp. */
const DCGM_TEXT = [
  '# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).',
  '# TYPE DCGM_FI_DEV_GPU_UTIL gauge',
  'DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="GPU-bbbb",device="nvidia0",modelName="NVIDIA H100 {SXM} 80GB",Hostname="box"} 24',
  `DCGM_FI_DEV_FB_USED{gpu="0",UUID="GPU-bbbb",device="nvidia0",modelName="NVIDIA H100 {SXM} 80GB",Hostname="box"} ${16 * 1024} 1700000000000`,
  `DCGM_FI_DEV_FB_FREE{gpu="0",UUID="GPU-bbbb",device="nvidia0",modelName="NVIDIA H100 {SXM} 80GB",Hostname="box"} ${45 * 1024}`,
  'DCGM_FI_DEV_SM_CLOCK{gpu="0"} +Inf',
  'garbage line without value',
  '',
].join('\n');

interface FakeGpuWorker {
  url: string;
  requests: IncomingMessage[];
  /** Requests the poller gave up on (closed before an answer). */
  abandoned: number;
  close(): Promise<void>;
}

/** A GPU worker's metrics endpoint serving `text`, or never answering (`{hang: true}`). */
async function startGpuWorker(text: string | { hang: true }, credentials = ''): Promise<FakeGpuWorker> {
  const state = { requests: [] as IncomingMessage[], abandoned: 0 };
  const server: Server = createServer((req, res) => {
    state.requests.push(req);
    if (typeof text !== 'string') {
      req.socket.once('close', () => (state.abandoned += 1));
      return;
    }
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${credentials}127.0.0.1:${port}/metrics`,
    get requests() {
      return state.requests;
    },
    get abandoned() {
      return state.abandoned;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface ServiceBody {
  status: string;
  url: string;
  ollama_url?: string;
  available_models: string[];
  total_models: number;
  instances: { id: string; status: string; breaker: string; latency_ms: number | null; last_checked: string | null }[];
}

interface SummaryBody {
  status: string;
  ok: boolean;
  version: string;
  uptime_seconds: number;
  models_loaded: number;
  services: Record<string, ServiceBody>;
  timestamp: string;
  dependencies: Record<string, { status: string }>;
}

interface ProductionMetricsBody {
  system: Record<string, unknown>;
  gpu: {
    available: boolean;
    count: number;
    memory_total_gb: number | null;
    memory_used_gb: number | null;
    gpu_utilization: string | null;
  };
  application: Record<string, number>;
}

/** What the Production API's monitoring client does: `float(metrics["gpu"]["gpu_utilization"].rstrip('%'))`. */
function seedUtilization(value: unknown): number {
  if (typeof value !== 'string') throw new Error(`gpu_utilization is not a string: ${JSON.stringify(value)}`);
  const number = Number.parseFloat(value.replace(/%+$/, ''));
  if (Number.isNaN(number)) throw new Error(`float() would fail on ${value}`);
  return number;
}

describe('health, status and service information of the replaced services', () => {
  describe('with upstreams and GPU workers', () => {
    let ollama: FakeUpstream;
    let vllm: FakeUpstream;
    let triton: FakeGpuWorker;
    let dcgm: FakeGpuWorker;
    let hanging: FakeGpuWorker;
    let redisProxy: TcpProxy;
    let gw: Gateway;
    let api: Api;

    beforeAll(async () => {
      ollama = await startFakeUpstream('ollama', { models: ['bge-m3:latest', 'gpt-oss:20b'] });
      vllm = await startFakeUpstream('openai', { models: ['qwen2.5-7b'] });
      triton = await startGpuWorker(TRITON_TEXT, 'metrics:tritonpass@');
      dcgm = await startGpuWorker(DCGM_TEXT);
      hanging = await startGpuWorker({ hang: true }, 'gpu:hunter2secret@');
      redisProxy = await TcpProxy.forUrl(testRedisUrl());
      const withCredentials = vllm.baseUrl.replace('http://', 'http://vllm-user:s3cr3t-pass@');
      gw = await startGateway({
        providers: [
          { id: 'local-ollama', kind: 'ollama', base_url: ollama.baseUrl, retry: NO_RETRY },
          {
            id: 'gpu-box',
            kind: 'openai',
            self_hosted: true,
            base_url: `${withCredentials}?token=query-secret`,
            models: ['qwen2.5-7b'],
            retry: NO_RETRY,
          },
          {
            id: 'claude',
            kind: 'anthropic',
            base_url: 'http://127.0.0.1:1',
            models: ['claude-3-haiku-20240307'],
            retry: NO_RETRY,
          },
        ],
        env: {
          REDIS_URL: proxiedUrl(testRedisUrl(), redisProxy),
          HEALTH_CHECK_TIMEOUT_MS: '500',
          REDIS_COMMAND_TIMEOUT_MS: '300',
          GPU_METRICS_URLS: [triton.url, dcgm.url, hanging.url].join(', '),
          GPU_METRICS_INTERVAL_MS: '1000',
          GPU_METRICS_TIMEOUT_MS: '300',
        },
      });
      api = new Api(gw.t.url);
      // The background probes and polls have answered.
      await waitUntil(async () => {
        const body = (await api.get<SummaryBody>('/health')).body;
        return Object.values(body.services).every((s) => s.instances.every((i) => i.last_checked !== null));
      }, 10_000);
      await waitUntil(async () => (await api.get('/api/health/ready')).body.cuda_available === true, 10_000);
    });

    afterAll(async () => {
      redisProxy?.restore();
      await gw?.close();
      await Promise.all([ollama?.close(), vllm?.close(), triton?.close(), dcgm?.close(), hanging?.close()]);
      await redisProxy?.close();
    });

    it('GET /health is the merged document: status, ok, version, uptime, models, services, timestamp', async () => {
      const res = await api.get<SummaryBody>('/health');
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.body).toMatchObject({
        status: 'healthy',
        ok: true,
        version: expect.any(String),
        uptime_seconds: expect.any(Number),
        models_loaded: expect.any(Number),
        dependencies: { database: { status: 'up' }, redis: { status: 'up' } },
      });
      expect(new Date(res.body.timestamp).toISOString()).toBe(res.body.timestamp);
      const ml = await api.get<{ models_loaded: number }>('/api/ml/health');
      expect(res.body.models_loaded).toBe(ml.body.models_loaded);
      expect(Object.keys(res.body.services).sort()).toEqual(['anthropic', 'ollama', 'vllm']);
    });

    it('names an ollama instance `ollama`, with the models it lists and its origin as ollama_url', async () => {
      const { ollama: service } = (await api.get<SummaryBody>('/health')).body.services;
      expect(service).toMatchObject({
        status: 'healthy',
        url: ollama.origin,
        ollama_url: ollama.origin,
        available_models: ['bge-m3:latest', 'gpt-oss:20b'],
        total_models: 2,
        bge_m3_available: true,
        gpt_oss_available: true,
      });
      expect(service.instances).toEqual([
        {
          id: 'local-ollama',
          url: ollama.origin,
          status: 'healthy',
          breaker: 'closed',
          latency_ms: expect.any(Number),
          last_checked: expect.any(String),
          models: ['bge-m3:latest', 'gpt-oss:20b'],
        },
      ]);
    });

    it('names a self-hosted OpenAI-compatible instance `vllm`, its url the origin without credentials', async () => {
      const res = await api.get<SummaryBody>('/health');
      expect(res.body.services.vllm).toMatchObject({
        status: 'healthy',
        url: vllm.origin,
        available_models: ['qwen2.5-7b'],
        total_models: 1,
        instances: [{ id: 'gpu-box', status: 'healthy', breaker: 'closed' }],
      });
      expect(res.body.services.vllm.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      for (const secret of ['vllm-user', 's3cr3t-pass', 'query-secret', '/v1']) {
        expect(JSON.stringify(res.body.services.vllm)).not.toContain(secret);
      }
      expect(res.text).not.toMatch(/s3cr3t|query-secret|hunter2|tritonpass/);
    });

    it('shows an unreachable instance unhealthy, without making the gateway unhealthy', async () => {
      const res = await api.get<SummaryBody>('/health');
      expect(res.body.services.anthropic).toMatchObject({
        status: 'unhealthy',
        url: 'http://127.0.0.1:1',
        instances: [{ id: 'claude', status: 'unhealthy' }],
      });
      expect(res.body.status).toBe('healthy');
    });

    it('answers GET /v1/health as GET /health, and GET /ready as GET /health/ready', async () => {
      const [versioned, summary] = await Promise.all([
        api.get<SummaryBody>('/v1/health'),
        api.get<SummaryBody>('/health'),
      ]);
      expect(versioned.status).toBe(200);
      expect(versioned.headers.get('cache-control')).toBe('no-store');
      expect(Object.keys(versioned.body).sort()).toEqual(Object.keys(summary.body).sort());
      expect(versioned.body).toMatchObject({
        status: 'healthy',
        ok: true,
        services: { ollama: { status: 'healthy' } },
      });
      const ready = await api.get('/ready');
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({
        status: 'ok',
        details: { database: { status: 'up' }, redis: { status: 'up' } },
      });
    });

    it('answers GET / with the service information, to anyone', async () => {
      const res = await api.get<{
        name: string;
        version: string;
        links: Record<string, string>;
        endpoints: Record<string, string[]>;
      }>('/');
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        name: 'Conflux',
        version: (await api.get<SummaryBody>('/health')).body.version,
        description: expect.any(String),
        links: { docs: '/docs', redoc: '/redoc', health: '/health', metrics: '/metrics' },
      });
      expect(res.body.endpoints.openai).toContain('/v1/chat/completions');
      expect(res.body.endpoints.anthropic).toContain('/v1/messages');
      expect(res.body.endpoints.health).toEqual(expect.arrayContaining(['/v1/health', '/ready', '/api/health']));
    });

    it('answers the Production API probes: /api/health, /api/health/live, /api/health/ready with the GPUs', async () => {
      const health = await api.get<SummaryBody>('/api/health');
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({ status: 'healthy', uptime_seconds: expect.any(Number) });
      expect(health.headers.get('cache-control')).toBe('no-store');
      const live = await api.get('/api/health/live');
      expect(live).toMatchObject({ status: 200, body: { status: 'alive' } });
      const ready = await api.get('/api/health/ready');
      expect(ready.status).toBe(200);
      // 80 GiB on Triton's GPU and 61 GiB on dcgm-exporter's; the hanging worker reports nothing.
      expect(ready.body).toMatchObject({ status: 'ready', cuda_available: true, gpu_memory_gb: '141.00' });
    });

    it('answers /api/metrics with the host, the GPUs (utilisation as "NN%") and the generation requests', async () => {
      const chat = await gw.api.post(
        '/v1/chat/completions',
        { model: 'gpt-oss:20b', messages: [{ role: 'user', content: 'hi' }] },
        { apiKey: gw.apiKey },
      );
      expect(chat.status).toBe(200);
      const res = await api.get<ProductionMetricsBody>('/api/metrics');
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.body.system).toMatchObject({
        cpu_percent: expect.any(Number),
        cpu_count: expect.any(Number),
        load_average: [expect.any(Number), expect.any(Number), expect.any(Number)],
        memory_total_gb: expect.any(Number),
        memory_used_gb: expect.any(Number),
        memory_percent: expect.any(Number),
        disk_total_gb: expect.any(Number),
        disk_used_gb: expect.any(Number),
        disk_percent: expect.any(Number),
      });
      expect(res.body.system.cpu_percent).toBeGreaterThanOrEqual(0);
      expect(res.body.system.cpu_percent).toBeLessThanOrEqual(100);
      expect(res.body.gpu).toMatchObject({
        available: true,
        count: 2,
        memory_total_gb: 141,
        memory_used_gb: 48,
        gpu_utilization: '37%',
        workers: 3,
        workers_reporting: 2,
      });
      expect(seedUtilization(res.body.gpu.gpu_utilization)).toBe(37);
      expect(res.body.application).toMatchObject({
        total_requests: 1,
        successful_requests: 1,
        failed_requests: 0,
        success_rate: 1,
        tokens_generated: 6,
        uptime_seconds: expect.any(Number),
      });
      expect(res.body.application.avg_response_time).toBeGreaterThanOrEqual(0);
      expect(res.body.application.avg_response_time).toBeLessThan(5);
    });

    it('reads the workers with their basic credentials, bounds a hanging one and never logs a secret', async () => {
      expect(triton.requests[0].headers.authorization).toBe(
        `Basic ${Buffer.from('metrics:tritonpass').toString('base64')}`,
      );
      expect(dcgm.requests[0].headers.authorization).toBeUndefined();
      // Every poll of the hanging worker is given up after GPU_METRICS_TIMEOUT_MS, and the next one tried.
      expect(await waitUntil(() => Promise.resolve(hanging.abandoned >= 2), 5_000)).toBe(true);
      const started = performance.now();
      expect((await api.get('/api/health/ready')).status).toBe(200);
      expect(performance.now() - started).toBeLessThan(1_000);
      const warning = gw.t.logs.lines.find((line) => line.includes('GPU metrics of') && line.includes('not read'));
      expect(warning).toContain('no answer within 300 ms');
      expect(warning).toContain('"level":40');
      expect(gw.t.logs.text).not.toMatch(/hunter2secret|tritonpass|s3cr3t-pass|query-secret/);
    });

    it('answers 503 not_ready with the envelope while Redis is cut, on /api/health/ready and /ready', async () => {
      redisProxy.cut();
      try {
        expect(await waitUntil(async () => (await api.get('/ready')).status === 503, 5_000)).toBe(true);
        const ready = await api.get('/api/health/ready');
        expectEnvelope(ready, 503, 'service_unavailable');
        expect(ready.body).toMatchObject({ status: 'not_ready', message: expect.stringContaining('redis') });
        expectEnvelope(await api.get('/ready'), 503, 'service_unavailable');
        const summary = await api.get<SummaryBody>('/api/health');
        expect(summary.status).toBe(200);
        expect(summary.body.status).toBe('degraded');
        expect((await api.get('/api/health/live')).status).toBe(200);
      } finally {
        redisProxy.restore();
      }
      expect(await waitUntil(async () => (await api.get('/api/health/ready')).status === 200, 10_000)).toBe(true);
    });
  });

  describe('without GPU workers or upstreams', () => {
    let t: TestApp;
    let api: Api;

    beforeAll(async () => {
      t = await startApp();
      api = new Api(t.url);
    });

    afterAll(async () => {
      await t?.close();
    });

    it('documents the routes in the OpenAPI document, under the compat tag', async () => {
      type Doc = {
        paths: Record<string, { get?: { tags?: string[] } }>;
        components: { schemas: Record<string, unknown> };
      };
      const doc = (await api.get<Doc>('/docs-json')).body;
      for (const path of [
        '/',
        '/v1/health',
        '/ready',
        '/api/health',
        '/api/health/live',
        '/api/health/ready',
        '/api/metrics',
      ]) {
        expect({ path, tags: doc.paths[path]?.get?.tags }).toEqual({ path, tags: ['compat'] });
      }
      expect(doc.paths['/api/ml/health']?.get).toBeDefined();
      expect(Object.keys(doc.components.schemas)).toEqual(
        expect.arrayContaining(['HealthSummaryDto', 'ServiceHealthDto', 'InstanceHealthDto', 'ProductionMetricsDto']),
      );
    });

    it('says no CUDA and no GPU memory', async () => {
      const ready = await api.get('/api/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({ status: 'ready', cuda_available: false, gpu_memory_gb: null });
      const metrics = await api.get<ProductionMetricsBody>('/api/metrics');
      expect(metrics.body.gpu).toMatchObject({
        available: false,
        count: 0,
        memory_total_gb: null,
        memory_used_gb: null,
        gpu_utilization: null,
        workers: 0,
        workers_reporting: 0,
      });
      expect(metrics.body.application).toMatchObject({ total_requests: 0, success_rate: 0, avg_response_time: 0 });
    });

    it('answers /health healthy with no upstream service, and /api/ml/health healthy, to anyone', async () => {
      const res = await api.get<SummaryBody>('/health');
      expect(res.body).toMatchObject({ status: 'healthy', ok: true, services: {} });
      const ml = await api.get('/api/ml/health');
      expect(ml.status).toBe(200);
      expect(ml.body).toEqual({ status: 'healthy', models_loaded: 1, uptime_seconds: expect.any(Number) });
    });
  });
});
