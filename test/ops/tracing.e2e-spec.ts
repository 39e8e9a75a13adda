import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { FAST_BREAKER, NO_RETRY } from '../gateway/gateway-support';
import { mlEnv, onnxBytes, perturbedModel, realFeatures, upload } from '../ml/ml-e2e-support';
import { testAppEnv } from '../support/app';
import { FakeMlWorker, startFakeMlWorker } from '../support/fake-ml-worker';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { createApiKey, createProject, signInAdmin } from '../support/fixtures';
import { Api } from '../support/http';
import { killAllServers, makeTempDir, minimalEnv, removeDir, SERVER_ENTRY, ServerProcess } from '../support/process';
import { createTestDatabase, delay, TestDatabase, waitUntil } from '../support/services';

/** One span as OTLP/JSON encodes it (ids in hex). */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: OtlpValue }[];
  status?: { code?: number; message?: string };
}

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpValue[] };
}

const SPAN_KIND = { SERVER: 2, CLIENT: 3 };
const STATUS_ERROR = 2;

function plain(value: OtlpValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue !== undefined) return (value.arrayValue.values ?? []).map(plain);
  return undefined;
}

function attrs(span: OtlpSpan): Record<string, unknown> {
  return Object.fromEntries((span.attributes ?? []).map((a) => [a.key, plain(a.value)]));
}

/** An OTLP/HTTP receiver on loopback: POST /v1/traces with OTLP JSON (the exporter's default encoding). */
class OtlpReceiver {
  readonly payloads: string[] = [];
  readonly spans: OtlpSpan[] = [];
  readonly services: string[] = [];
  private readonly server: Server;

  constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const text = body.toString('utf8');
        if (req.method !== 'POST' || req.url !== '/v1/traces') {
          res.writeHead(404).end();
          return;
        }
        this.payloads.push(text);
        const decoded = JSON.parse(text) as {
          resourceSpans?: {
            resource?: { attributes?: { key: string; value: OtlpValue }[] };
            scopeSpans?: { spans?: OtlpSpan[] }[];
          }[];
        };
        for (const rs of decoded.resourceSpans ?? []) {
          const service = rs.resource?.attributes?.find((a) => a.key === 'service.name');
          if (service) this.services.push(String(plain(service.value)));
          for (const ss of rs.scopeSpans ?? []) this.spans.push(...(ss.spans ?? []));
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
  }

  listen(): Promise<string> {
    return new Promise((resolve) => {
      this.server.listen(0, '127.0.0.1', () => {
        const address = this.server.address() as { port: number };
        resolve(`http://127.0.0.1:${address.port}`);
      });
    });
  }

  trace(traceId: string): OtlpSpan[] {
    return this.spans.filter((s) => s.traceId === traceId);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const PROMPT = 'the zebra-4711 prompt that must stay private';
const COMPLETION = 'the okapi-0815 completion that must stay private';
const UPSTREAM_KEY = 'sk-upstream-secret-key-0123456789abcdef';
const BATCH_DELAY_MS = 3000;
/** The remote ML worker's name in its spans: `ml-remote-{model}@{version}`. */
const ML_WORKER = 'ml-remote-trading-signal@gpu-1';

describe('OpenTelemetry tracing (OTLP endpoint configured)', () => {
  let receiver: OtlpReceiver;
  let primary: FakeUpstream;
  let backup: FakeUpstream;
  let mlWorker: FakeMlWorker;
  let db: TestDatabase;
  let server: ServerProcess;
  let dataDir: string;
  let dir: string;
  let api: Api;
  let projectId: string;
  let apiKey: string;

  /** The request's log lines (JSON), by its request id. */
  const logsOf = (requestId: string | null): Record<string, unknown>[] =>
    server.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.request_id === requestId);

  /** The exported server span of a request, found by the trace id its log lines carry. */
  const serverSpanOf = async (requestId: string | null): Promise<OtlpSpan> => {
    const find = () => {
      const traceId = logsOf(requestId).find((line) => typeof line.trace_id === 'string')?.trace_id;
      return receiver.trace(String(traceId)).find((s) => s.kind === SPAN_KIND.SERVER);
    };
    expect(await waitUntil(() => Promise.resolve(find() !== undefined), 15_000, 50)).toBe(true);
    return find()!;
  };

  /** Waits until the trace holds a span that matches (exported once it ended), and returns it. */
  const spanIn = async (traceId: string, match: (span: OtlpSpan) => boolean): Promise<OtlpSpan> => {
    const find = () => receiver.trace(traceId).find(match);
    expect(await waitUntil(() => Promise.resolve(find() !== undefined), 15_000, 50)).toBe(true);
    return find()!;
  };

  beforeAll(async () => {
    receiver = new OtlpReceiver();
    const endpoint = await receiver.listen();
    primary = await startFakeUpstream('openai', { models: ['llama-3.1-8b'], apiKey: UPSTREAM_KEY });
    backup = await startFakeUpstream('openai', {
      models: ['gpt-4o-mini'],
      apiKey: UPSTREAM_KEY,
      reply: { text: COMPLETION, usage: { input_tokens: 12, output_tokens: 6 }, finishReason: 'stop' },
    });
    primary.status(503);
    mlWorker = await startFakeMlWorker();
    dir = mkdtempSync(join(tmpdir(), 'conflux-tracing-'));
    const modelStore = join(dir, 'models');
    mkdirSync(modelStore);
    const providersFile = join(dir, 'providers.json');
    const declare = (id: string, upstream: FakeUpstream, model: string) => ({
      id,
      kind: 'openai',
      base_url: upstream.baseUrl,
      models: [model],
      api_key_env: 'UPSTREAM_KEY',
      timeout_ms: 2000,
      breaker: FAST_BREAKER,
      retry: NO_RETRY,
    });
    // `auto` with cost_optimized tries the cheap local model first (it fails), then falls back.
    writeFileSync(
      providersFile,
      JSON.stringify({
        providers: [declare('a-primary', primary, 'llama-3.1-8b'), declare('b-backup', backup, 'gpt-4o-mini')],
        models: [{ name: 'llama-3.1-8b', input_usd_per_1m: 0.01, output_usd_per_1m: 0.02 }],
      }),
    );
    db = await createTestDatabase();
    dataDir = makeTempDir();
    server = await ServerProcess.start({
      env: minimalEnv({
        NODE_ENV: 'production',
        LOG_LEVEL: 'info',
        HOST: '127.0.0.1',
        ...testAppEnv(db.url, dataDir),
        ...mlEnv(modelStore, {
          ML_REMOTE_WORKERS: JSON.stringify([
            { model: 'trading-signal', version: 'gpu-1', url: mlWorker.baseUrl, protocol: 'predict', timeout_ms: 2000 },
          ]),
        }),
        PROVIDERS_FILE: providersFile,
        PROVIDER_PROBE_INTERVAL_MS: '60000',
        UPSTREAM_KEY,
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_SERVICE_NAME: 'conflux-under-test',
        // Long enough that only the shutdown's flush exports the spans of the last request.
        OTEL_BSP_SCHEDULE_DELAY: String(BATCH_DELAY_MS),
      }),
    });
    await server.waitForLive(90_000);
    api = new Api(server.url);
    const adminToken = await signInAdmin(api);
    projectId = (await createProject(api, adminToken, 'tracing')).id;
    apiKey = (await createApiKey(api, adminToken, projectId, 'tracing')).key;
    // The remotely served version is registered like any other (its artifact is the model the worker runs).
    const registered = await upload(server.url, adminToken, 'trading-signal', onnxBytes(perturbedModel(21)), {
      version: 'gpu-1',
    });
    expect(registered.status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await killAllServers();
    await Promise.all([primary?.close(), backup?.close(), mlWorker?.close(), receiver?.close()]);
    await db?.drop();
    if (dataDir) await removeDir(dataDir);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('exports one trace per request: server span, an attempt span per fallback, HTTP, Redis/pg spans', async () => {
    const res = await api.post(
      '/v1/chat/completions',
      { model: 'auto', messages: [{ role: 'user', content: PROMPT }], max_tokens: 8 },
      { apiKey, headers: { 'X-Conflux-Strategy': 'cost_optimized' } },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-conflux-attempts')).toBe('2');
    const requestId = res.headers.get('x-request-id');

    // The server span, named by the route template, once exported.
    const findServer = () =>
      receiver.spans.find((s) => s.kind === SPAN_KIND.SERVER && s.name === 'POST /v1/chat/completions');
    expect(await waitUntil(() => Promise.resolve(findServer() !== undefined), 15_000, 50)).toBe(true);
    const root = findServer()!;
    const traceId = root.traceId;
    const spanCount = () => receiver.trace(traceId).length;
    // Let the spans ended after the response (settle, ledger) arrive too.
    await delay(500);
    const spans = receiver.trace(traceId);
    expect(spanCount()).toBe(spans.length);
    expect(receiver.services).toContain('conflux-under-test');

    // One server span, with the request's project and bill.
    expect(spans.filter((s) => s.kind === SPAN_KIND.SERVER)).toHaveLength(1);
    const rootAttrs = attrs(root);
    expect(rootAttrs['http.route']).toBe('/v1/chat/completions');
    expect(rootAttrs['http.response.status_code']).toBe(200);
    expect(rootAttrs['conflux.project.id']).toBe(projectId);
    expect(rootAttrs['conflux.credits']).toEqual(expect.any(Number));
    expect(rootAttrs['conflux.credits'] as number).toBeGreaterThan(0);
    expect(rootAttrs['conflux.attempt']).toBe(2);
    expect(rootAttrs['conflux.instance']).toBe('b-backup');

    // Two attempt spans (CLIENT, GenAI names), children of the server span, attempts 1 and 2.
    const attempts = spans
      .filter((s) => s.kind === SPAN_KIND.CLIENT && s.name.startsWith('chat '))
      .sort((a, b) => Number(attrs(a)['conflux.attempt']) - Number(attrs(b)['conflux.attempt']));
    expect(attempts.map((s) => s.name)).toEqual(['chat llama-3.1-8b', 'chat gpt-4o-mini']);
    expect(attempts.map((s) => attrs(s)['conflux.attempt'])).toEqual([1, 2]);
    for (const span of attempts) expect(span.parentSpanId).toBe(root.spanId);

    const [failed, served] = attempts;
    expect(failed.status?.code).toBe(STATUS_ERROR);
    expect(attrs(failed)['error.type']).toBe('http_5xx');
    expect(attrs(failed)['conflux.instance']).toBe('a-primary');
    expect(served.status?.code).not.toBe(STATUS_ERROR);
    expect(attrs(served)).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 6,
      'gen_ai.response.finish_reasons': ['stop'],
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(backup.baseUrl).port),
      'conflux.project.id': projectId,
      'conflux.instance': 'b-backup',
    });

    // The HTTP client span of each attempt is its child, and its traceparent reached the upstream.
    for (const [attempt, upstream] of [
      [failed, primary],
      [served, backup],
    ] as const) {
      const http = spans.filter((s) => s.parentSpanId === attempt.spanId && s.kind === SPAN_KIND.CLIENT);
      expect(http).toHaveLength(1);
      const received = upstream.requestsTo('/chat/completions');
      expect(received).toHaveLength(1);
      const traceparent = String(received[0].headers.traceparent);
      expect(traceparent).toMatch(new RegExp(`^00-${traceId}-${http[0].spanId}-01$`));
    }

    // Redis (quota, rate limit) or Postgres spans of the request belong to its trace.
    const dbSpans = spans.filter((s) => {
      const a = attrs(s);
      return ['redis', 'postgresql'].includes(String(a['db.system.name'] ?? a['db.system']));
    });
    expect(dbSpans.length).toBeGreaterThan(0);
    // Redis commands by name and argument count only (no keys, no budgets, no ledger entries).
    const statements = dbSpans
      .map(attrs)
      .filter((a) => (a['db.system.name'] ?? a['db.system']) === 'redis')
      .map((a) => a['db.query.text'] ?? a['db.statement']);
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) expect(statement).toEqual(expect.stringMatching(/^\w+( \[\d+ arguments\])?$/));

    // Never a prompt, a completion or a key in what was exported.
    const exported = receiver.payloads.join('\n');
    for (const secret of [PROMPT, 'zebra-4711', COMPLETION, 'okapi-0815', apiKey, UPSTREAM_KEY]) {
      expect(exported).not.toContain(secret);
    }
    expect(exported).not.toMatch(/authorization/i);

    // The request's log lines carry its trace id.
    const lines = logsOf(requestId);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.trace_id).toBe(traceId);
  });

  it('ends a streamed attempt span with its token counts and finish reason, under the server span', async () => {
    const res = await api.post(
      '/v1/chat/completions',
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: PROMPT }], max_tokens: 8, stream: true },
      { apiKey },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.text).toContain('[DONE]');

    const root = await serverSpanOf(res.headers.get('x-request-id'));
    expect(root.name).toBe('POST /v1/chat/completions');
    const attempt = await spanIn(root.traceId, (s) => s.name === 'chat gpt-4o-mini');
    expect(attempt.kind).toBe(SPAN_KIND.CLIENT);
    expect(attempt.parentSpanId).toBe(root.spanId);
    expect(attempt.status?.code).not.toBe(STATUS_ERROR);
    expect(attrs(attempt)).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 6,
      'gen_ai.response.finish_reasons': ['stop'],
      'conflux.instance': 'b-backup',
    });
    const exported = receiver.payloads.join('\n');
    for (const secret of [PROMPT, COMPLETION]) expect(exported).not.toContain(secret);
  });

  it('propagates the trace to a remote ML worker, whose call has its CLIENT span in the trace', async () => {
    const res = await api.post<{ served_by: string; model_version: string }>(
      '/predict',
      { symbol: 'DAX', features: realFeatures()[50], model_version: 'gpu-1' },
      { apiKey },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ served_by: 'remote', model_version: 'gpu-1' });

    const root = await serverSpanOf(res.headers.get('x-request-id'));
    expect(root.name).toBe('POST /predict');
    const call = await spanIn(root.traceId, (s) => s.name === `${ML_WORKER} /predict`);
    expect(call.kind).toBe(SPAN_KIND.CLIENT);
    expect(attrs(call)['conflux.instance']).toBe(ML_WORKER);
    expect(call.status?.code).not.toBe(STATUS_ERROR);

    // The worker received the trace context of the HTTP client span below the call's span.
    const received = mlWorker.requests.filter((r) => r.path === '/predict');
    expect(received).toHaveLength(1);
    const http = await spanIn(root.traceId, (s) => s.parentSpanId === call.spanId);
    expect(http.kind).toBe(SPAN_KIND.CLIENT);
    expect(received[0].traceparent).toMatch(new RegExp(`^00-${root.traceId}-${http.spanId}-01$`));
  });

  it('traces neither probes nor scrapes', async () => {
    const before = receiver.spans.length;
    expect((await api.get('/health/live')).status).toBe(200);
    await delay(500);
    const after = receiver.spans.slice(before);
    expect(after.filter((s) => s.kind === SPAN_KIND.SERVER)).toHaveLength(0);
  });

  it('flushes the spans still buffered on a graceful shutdown', async () => {
    const res = await api.post(
      '/v1/chat/completions',
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 },
      { apiKey },
    );
    expect(res.status).toBe(200);
    const requestId = res.headers.get('x-request-id');
    const stopping = Date.now();
    const exit = await server.stop('SIGTERM');
    expect(exit?.code).toBe(0);
    // Stopped before the batch delay passed: only the shutdown's flush exported the request's span.
    expect(Date.now() - stopping).toBeLessThan(BATCH_DELAY_MS);
    const line = logsOf(requestId).find((l) => l.msg === 'request completed');
    expect(line?.trace_id).toEqual(expect.any(String));
    expect(receiver.trace(String(line?.trace_id)).some((s) => s.kind === SPAN_KIND.SERVER)).toBe(true);
  });
});

describe('OpenTelemetry tracing (no OTLP endpoint)', () => {
  /** Loads the compiled tracing entry in a bare node and reports what it started. */
  function probe(env: Record<string, string>): { modules: string[]; provider: string; patched: boolean } {
    const script = `
      require(${JSON.stringify(join(SERVER_ENTRY, '..', 'tracing.js'))});
      const api = require('@opentelemetry/api');
      const modules = [...new Set(Object.keys(require.cache)
        .filter((k) => k.includes('@opentelemetry'))
        .map((k) => k.split('@opentelemetry/')[1].split('/')[0]))];
      process.stdout.write(JSON.stringify({
        modules,
        provider: api.trace.getTracerProvider().getDelegate().constructor.name,
        patched: require('node:http').Server.prototype.emit.__wrapped === true,
      }));`;
    const out = execFileSync(process.execPath, ['-e', script], { env: minimalEnv(env), encoding: 'utf8' });
    return JSON.parse(out) as { modules: string[]; provider: string; patched: boolean };
  }

  it('starts no SDK, patches nothing and keeps the no-op tracer provider', () => {
    expect(probe({})).toEqual({ modules: ['api'], provider: 'NoopTracerProvider', patched: false });
    expect(probe({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SDK_DISABLED: 'true' })).toEqual({
      modules: ['api'],
      provider: 'NoopTracerProvider',
      patched: false,
    });
  });

  it('starts the SDK when an endpoint is configured (traces-specific variable included)', () => {
    const on = probe({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:9/v1/traces' });
    expect(on.provider).toBe('NodeTracerProvider');
    expect(on.patched).toBe(true);
  });
});
