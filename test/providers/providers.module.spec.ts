import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { register, Registry } from 'prom-client';
import { type AppConfig, loadConfig } from '../../src/config/app-config';
import { ConfigModule } from '../../src/config/config.module';
import { MetricsModule } from '../../src/metrics/metrics.module';
import { ProvidersModule } from '../../src/providers/providers.module';
import { ProvidersService } from '../../src/providers/providers.service';
import { PROBE_UP, ProviderMetrics } from '../../src/providers/providers.metrics';
import { startFakeUpstream, type FakeUpstream } from '../support/fake-upstreams';
import { upstreamFailure, waitFor } from './helpers';

const OPENAI_KEY = 'sk-proj-module-test-secret-0001';
const ANTHROPIC_KEY = 'sk-ant-module-test-secret-0002';

let openai: FakeUpstream;
let anthropic: FakeUpstream;
let ollama: FakeUpstream;
let dir: string;
let config: AppConfig;
let moduleRef: TestingModule;
let service: ProvidersService;

/** The declaration as an operator would write it, secrets read from the environment. */
function providersFile(): string {
  return `
providers:
  - id: openai-main
    kind: openai
    base_url: ${openai.baseUrl}
    api_key_env: TEST_OPENAI_KEY
    models: [gpt-4o-mini, text-embedding-3-small]
    timeout_ms: 1000
  - id: claude
    kind: anthropic
    base_url: ${anthropic.origin}/v1
    api_key_env: TEST_ANTHROPIC_KEY
    models: [claude-3-5-haiku-20241022]
    timeout_ms: 1000
  - id: local-llama
    kind: ollama
    base_url: ${ollama.baseUrl}
    models: [llama3.2, nomic-embed-text]
    timeout_ms: 1000
    breaker: { volume_threshold: 1, error_threshold_percentage: 1, reset_timeout_ms: 60000 }
`;
}

beforeAll(async () => {
  openai = await startFakeUpstream('openai', { apiKey: OPENAI_KEY });
  // The anthropic fake wants another key: its probe gets 401, which still says "reachable".
  anthropic = await startFakeUpstream('anthropic', { apiKey: 'some-other-key' });
  ollama = await startFakeUpstream('ollama');
  dir = mkdtempSync(join(tmpdir(), 'conflux-providers-'));
  writeFileSync(join(dir, 'providers.yaml'), providersFile());
  config = loadConfig({
    PROVIDERS_FILE: join(dir, 'providers.yaml'),
    TEST_OPENAI_KEY: OPENAI_KEY,
    TEST_ANTHROPIC_KEY: ANTHROPIC_KEY,
  });
  config.PROVIDER_PROBE_INTERVAL_MS = 50; // below the production minimum, to keep the test short
  moduleRef = await Test.createTestingModule({
    imports: [ConfigModule.forRoot(config), MetricsModule, ProvidersModule],
  }).compile();
  service = moduleRef.get(ProvidersService);
});

afterAll(async () => {
  await moduleRef.close();
  await Promise.all([openai.close(), anthropic.close(), ollama.close()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('ProvidersModule', () => {
  it('lists the declared instances before any probe, without blocking', () => {
    expect(service.instances().map((i) => [i.id, i.kind, i.breaker, i.reachable])).toEqual([
      ['openai-main', 'openai', 'closed', null],
      ['claude', 'anthropic', 'closed', null],
      ['local-llama', 'ollama', 'closed', null],
    ]);
    expect(service.instance('claude')?.base_url).toBe(`${anthropic.origin}/v1`);
    expect(service.instance('nope')).toBeUndefined();
    expect(service.instancesForModel('llama3.2').map((i) => i.id)).toEqual(['local-llama']);
    expect(service.instancesForModel('gpt-4o')).toEqual([]);
    expect(service.isAvailable('openai-main')).toBe(true);
    expect(service.isAvailable('nope')).toBe(false);
  });

  it('probes every instance once the application has bootstrapped', async () => {
    await moduleRef.init();
    await waitFor(() => service.instances().every((i) => i.last_probe_at !== null), 2_000, 'first probes');
    const [oa, claude, llama] = service.instances();
    expect(oa).toMatchObject({ reachable: true, upstream_models: openai.models });
    expect(oa.probe_latency_ms).toEqual(expect.any(Number));
    expect(claude).toMatchObject({ reachable: true, upstream_models: null });
    expect(llama).toMatchObject({ reachable: true, upstream_models: ['llama3.2:latest', 'nomic-embed-text:latest'] });
    expect(openai.requestsTo('/v1/models')[0].headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    expect(anthropic.requestsTo('/v1/models')[0].headers['x-api-key']).toBe(ANTHROPIC_KEY);
    expect(ollama.requestsTo('/api/tags').length).toBeGreaterThan(0);
  });

  it('records an unreachable instance without touching its breaker', async () => {
    ollama.status(500);
    await waitFor(() => service.instance('local-llama')?.reachable === false, 2_000, 'the failing probe');
    const probesSoFar = ollama.requestsTo('/api/tags').length;
    await waitFor(() => ollama.requestsTo('/api/tags').length >= probesSoFar + 3, 2_000, 'more probes');
    // A breaker with a volume threshold of 1 would have opened at the first counted failure.
    expect(service.instance('local-llama')).toMatchObject({
      breaker: 'closed',
      reachable: false,
      probe_latency_ms: null,
    });
    expect(service.isAvailable('local-llama')).toBe(true);
    const probeUp = await register.getSingleMetric(PROBE_UP)?.get();
    expect(probeUp?.values.find((v) => v.labels.provider === 'local-llama')?.value).toBe(0);
    expect(probeUp?.values.find((v) => v.labels.provider === 'openai-main')?.value).toBe(1);
    ollama.ok();
    await waitFor(() => service.instance('local-llama')?.reachable === true, 2_000, 'recovery');
  });

  it('calls an instance through the service', async () => {
    const result = await service.chat('openai-main', {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(result.text).toBe('Hello from the fake upstream.');
    const events = [];
    for await (const event of service.chatStream('local-llama', {
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'hi' }],
    })) {
      events.push(event);
    }
    expect(events[events.length - 1]).toEqual({ type: 'finish', finish_reason: 'stop' });
    const embedded = await service.embed('local-llama', { model: 'nomic-embed-text', input: ['a'] });
    expect(embedded.vectors).toHaveLength(1);
    // The anthropic fake refuses our key: auth_failed, carrying its message.
    const failure = await upstreamFailure(
      service.chat('claude', { model: 'claude-3-5-haiku-20241022', messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect(failure).toMatchObject({ errorClass: 'auth_failed', status: 401 });
    expect(failure.options.instanceId).toBe('claude');
    await expect(service.chat('nope', { model: 'x', messages: [] })).rejects.toThrow('Unknown provider instance');
  });

  it('exposes metrics labelled by instance and model only, never URLs or secrets', async () => {
    const text = await register.metrics();
    expect(text).toMatch(
      /conflux_upstream_requests_total\{provider="openai-main",model="gpt-4o-mini",outcome="success"\} 1/,
    );
    expect(text).toMatch(
      /conflux_upstream_requests_total\{provider="claude",model="claude-3-5-haiku-20241022",outcome="auth_failed"\} 1/,
    );
    expect(text).toMatch(
      /conflux_upstream_request_duration_seconds_count\{provider="local-llama",model="llama3.2"\} 1/,
    );
    expect(text).toMatch(/^circuit_breaker_state\{provider="claude",kind="anthropic"\} 0$/m);
    expect(text).toMatch(
      /^conflux_provider_errors_total\{provider="claude",kind="anthropic",class="auth_failed"\} 1$/m,
    );
    // A success is never a provider error.
    expect(text).not.toMatch(/conflux_provider_errors_total\{provider="openai-main"/);
    expect(text).toContain('conflux_upstream_retries_total');
    expect(text).not.toContain('127.0.0.1');
    expect(text).not.toContain(OPENAI_KEY);
    expect(text).not.toContain(ANTHROPIC_KEY);
  });

  it('stops probing on shutdown', async () => {
    await moduleRef.close();
    const count = () => openai.requests.length + anthropic.requests.length + ollama.requests.length;
    const before = count();
    await new Promise((resolve) => setTimeout(resolve, 150)); // three probe intervals
    expect(count()).toBe(before);
  });
});

describe('ProvidersService at startup', () => {
  afterEach(() => jest.restoreAllMocks());

  /** A service over `file` (a providers file's text), with the startup log lines it wrote. */
  function serviceOver(file: string): { service: ProvidersService; logged: string[] } {
    const path = join(dir, `startup-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(path, file);
    const logged: string[] = [];
    const record = (message: unknown): void => void logged.push(String(message));
    jest.spyOn(Logger.prototype, 'log').mockImplementation(record);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(record);
    const settings = loadConfig({ PROVIDERS_FILE: path, TEST_OPENAI_KEY: OPENAI_KEY });
    settings.PROVIDER_PROBE_INTERVAL_MS = 50;
    return { service: new ProvidersService(settings, ProviderMetrics.inRegistry(new Registry())), logged };
  }

  it('logs one line per instance: id, kind, host and models, never a path or a key', async () => {
    const { service: started, logged } = serviceOver(`
providers:
  - id: hosted
    kind: openai
    base_url: ${openai.origin.replace('//', '//user:pass@')}/v1/secret-path?key=abc
    api_key_env: TEST_OPENAI_KEY
    models: [gpt-4o-mini, gpt-4o]
  - id: tags
    kind: ollama
    base_url: ${ollama.baseUrl}
`);
    started.onApplicationBootstrap();
    await started.onApplicationShutdown();
    const host = new URL(openai.origin).host;
    expect(logged).toEqual([
      `Provider hosted: openai at ${host}, models: gpt-4o-mini, gpt-4o`,
      `Provider tags: ollama at ${new URL(ollama.baseUrl).host}, models: what /api/tags reports (known after the first probe)`,
    ]);
    const text = logged.join('\n');
    for (const secret of ['secret-path', 'key=abc', 'user', 'pass', OPENAI_KEY]) expect(text).not.toContain(secret);
  });

  it('says when no instance is configured', () => {
    const { service: empty, logged } = serviceOver('providers: []\n');
    empty.onApplicationBootstrap();
    expect(empty.configured).toBe(false);
    expect(logged).toEqual([expect.stringContaining('503 no_providers')]);
  });

  it('an ollama instance declared without models serves what /api/tags reports, from the first probe', async () => {
    const tags = await startFakeUpstream('ollama', { models: ['qwen2.5:7b', 'llama3.2'] });
    try {
      const { service: discovering } = serviceOver(`
providers:
  - id: tags
    kind: ollama
    base_url: ${tags.baseUrl}
`);
      expect(discovering.discovered()).toEqual([{ instanceId: 'tags', models: [] }]);
      expect(discovering.instancesForModel('qwen2.5:7b')).toEqual([]);
      discovering.onApplicationBootstrap();
      await waitFor(() => discovering.discovered()[0].models.length > 0, 2_000, 'the first probe');
      expect(discovering.discovered()).toEqual([{ instanceId: 'tags', models: ['qwen2.5:7b', 'llama3.2:latest'] }]);
      expect(discovering.instancesForModel('llama3.2:latest').map((i) => i.id)).toEqual(['tags']);
      await discovering.onApplicationShutdown();
    } finally {
      await tags.close();
    }
  });
});
