import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Gateway, NO_RETRY, startGateway } from '../gateway/gateway-support';
import { mlEnv, realFeatures, tempStore } from '../ml/ml-e2e-support';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { parseCurl, SEED_EXAMPLES, type SeedAnswer } from './seed-examples';

/** Where the seed documents live beside the repository, when they do (their requests are in the table). */
const SEEDS_DIR = process.env.SEEDS_DIR ?? join(__dirname, '..', '..', '..', 'shared', 'seeds');

/** A GPU worker's metrics port as Triton serves it: one H200 with 141 GB, 37 % busy. */
const TRITON_GPU_METRICS = [
  '# HELP nv_gpu_utilization GPU utilization rate [0.0 - 1.0)',
  '# TYPE nv_gpu_utilization gauge',
  'nv_gpu_utilization{gpu_uuid="GPU-0b6c"} 0.37',
  '# TYPE nv_gpu_memory_total_bytes gauge',
  'nv_gpu_memory_total_bytes{gpu_uuid="GPU-0b6c"} 141000000000',
  '# TYPE nv_gpu_memory_used_bytes gauge',
  'nv_gpu_memory_used_bytes{gpu_uuid="GPU-0b6c"} 52000000000',
  '',
].join('\n');

describe('the replaced services, replayed: every documented request answers as documented', () => {
  let hosted: FakeUpstream;
  let ollama: FakeUpstream;
  let vllm: FakeUpstream;
  let gpu: Server;
  let gw: Gateway;
  let store: string;
  let userToken: string;

  beforeAll(async () => {
    hosted = await startFakeUpstream('openai', {
      models: ['gpt-4o-mini', 'gpt-4', 'gpt-4o'],
      reply: { text: 'hosted' },
    });
    ollama = await startFakeUpstream('ollama', {
      models: ['gpt-oss:20b', 'bge-m3'],
      ollamaModels: {
        'bge-m3': {
          size: 1_157_672_605,
          family: 'bert',
          parameter_size: '566.70M',
          template: '',
          capabilities: ['embedding'],
        },
      },
      reply: { text: 'Машинное обучение…' },
    });
    vllm = await startFakeUpstream('openai', { models: ['qwen2.5-7b-instruct'], reply: { text: 'local' } });
    gpu = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(TRITON_GPU_METRICS);
    });
    await new Promise<void>((resolve) => gpu.listen(0, '127.0.0.1', resolve));
    store = tempStore();
    gw = await startGateway({
      providers: [
        {
          id: 'openai',
          kind: 'openai',
          base_url: hosted.baseUrl,
          models: ['gpt-4o-mini', 'gpt-4', 'gpt-4o'],
          retry: NO_RETRY,
        },
        { id: 'ollama', kind: 'ollama', base_url: ollama.baseUrl, retry: NO_RETRY },
        {
          id: 'vllm',
          kind: 'openai',
          self_hosted: true,
          base_url: vllm.baseUrl,
          models: ['qwen2.5-7b-instruct'],
          retry: NO_RETRY,
        },
      ],
      models: [{ name: 'qwen2.5-7b-instruct', quality: 0.6 }],
      env: mlEnv(store, {
        GPU_METRICS_URLS: `http://127.0.0.1:${(gpu.address() as AddressInfo).port}/metrics`,
        PROVIDER_PROBE_INTERVAL_MS: '1000',
      }),
    });
    userToken = (await gw.api.login('admin@conflux.test', 'admin-password-for-tests')).access_token;
    // The background probes (providers, GPU workers) have reported once (the examples say if they never do).
    await waitFor(async () => {
      const health = await gw.api.get<{ services?: { ollama?: { status?: string } } }>('/health');
      const ready = await gw.api.get<{ cuda_available?: boolean }>('/api/health/ready');
      return health.body.services?.ollama?.status === 'healthy' && ready.body.cuda_available === true;
    });
  });

  afterAll(async () => {
    await gw?.close();
    await Promise.all([hosted?.close(), ollama?.close(), vllm?.close()]);
    await new Promise((resolve) => gpu?.close(resolve));
    if (store) rmSync(store, { recursive: true, force: true });
  });

  /** Sends a documented request: base URL replaced, the document's placeholders filled with real credentials. */
  async function send(curl: string, isPublic: boolean): Promise<SeedAnswer> {
    const request = parseCurl(curl);
    const headers = { ...request.headers };
    if (headers.authorization === 'Bearer YOUR_JWT_TOKEN') headers.authorization = `Bearer ${userToken}`;
    if (headers['x-api-key'] === 'YOUR_API_KEY') headers['x-api-key'] = gw.apiKey;
    if (!isPublic && !headers.authorization && !headers['x-api-key']) headers['x-api-key'] = gw.apiKey;
    // The ML document elides its feature vector ("[0.1, 0.2, ...]"): a real one of the served model.
    const body = request.body?.replace(/\[0\.1, 0\.2, \.\.\.\]/g, JSON.stringify(realFeatures()[0]));
    const res = await fetch(`${gw.t.url}${request.path}`, { method: request.method, headers, body });
    const text = await res.text();
    let parsed: Record<string, unknown> | undefined;
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  }

  it.each(SEED_EXAMPLES.map((e) => [`${e.seed} · ${e.section}`, e] as const))('%s', async (_name, example) => {
    const answer = await send(example.curl, example.public === true);
    expect({ status: answer.status, body: answer.status === example.status ? 'as documented' : answer.text }).toEqual({
      status: example.status,
      body: 'as documented',
    });
    example.check?.(answer);
  });

  it('the authenticated examples refuse a caller without credentials (Conflux requires them)', async () => {
    for (const example of SEED_EXAMPLES.filter((e) => !e.public && e.status === 200)) {
      const { method, path } = parseCurl(example.curl);
      const res = await fetch(`${gw.t.url}${path}`, { method, headers: { 'content-type': 'application/json' } });
      expect(`${method} ${path} → ${res.status}`).toBe(`${method} ${path} → 401`);
    }
  });

  const seedsPresent = existsSync(SEEDS_DIR);
  (seedsPresent ? it : it.skip)(`every curl command in the seed documents is in the table (reads ${SEEDS_DIR})`, () => {
    const covered = new Set(SEED_EXAMPLES.map((e) => requestLine(e.curl)));
    const missing: string[] = [];
    for (const file of readdirSync(SEEDS_DIR).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
      for (const curl of curlCommands(readFileSync(join(SEEDS_DIR, file), 'utf8'))) {
        // Ollama's own API (port 11434) is what Conflux calls, not a contract it serves.
        if (curl.includes(':11434')) continue;
        if (!covered.has(requestLine(curl))) missing.push(`${file}: ${curl}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

/** `METHOD /path` of a curl command, the document's own port and host dropped. */
function requestLine(curl: string): string {
  const { method, path } = parseCurl(curl.replace(/\s*\|.*$/s, ''));
  return `${method} ${path}`;
}

/** The curl commands of a markdown document's code blocks, with their continuation lines. */
function curlCommands(markdown: string): string[] {
  const commands: string[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i].trim();
    if (!line.startsWith('curl ')) continue;
    let command = line.replace(/\s+#.*$/, '');
    while (command.endsWith('\\') && i + 1 < lines.length) command = `${command.slice(0, -1)} ${lines[++i].trim()}`;
    commands.push(command);
  }
  return commands;
}

async function waitFor(probe: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
}
