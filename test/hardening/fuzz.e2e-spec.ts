import { appendFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import fc from 'fast-check';
import { ERROR_STATUS } from '../../src/common/errors/app-error';
import { dialectOfPath } from '../../src/common/errors/error-dialects';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { createProject } from '../support/fixtures';
import { Gateway, NO_RETRY, startGateway } from '../gateway/gateway-support';
import { FuzzRequest, OpenApiDocument, requestArbitrary } from './openapi-arbitraries';

/**
 * Requests generated from the app's own OpenAPI document (GET /docs-json), valid and broken in every way
 * openapi-arbitraries.ts knows, with and without credentials, against one app with fake upstreams. No
 * answer may be a 5xx, and every error must be in its envelope: `{error, message, request_id}`, OpenAI's
 * or Anthropic's shape on the compatible routes, KServe's time-series shape on /v1/timeseries/forecast, the
 * Open Inference Protocol's `{error}` on /v2.
 *
 * Replay a failure with FUZZ_SEED=<seed printed below>; FUZZ_REQUESTS sets how many requests a run sends;
 * FUZZ_TRACE=<file> appends every request with its status there.
 */

const TOTAL_REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_000);
/** Requests in flight at once: one property run sends one batch concurrently. */
const CONCURRENCY = 16;
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const ANSWER_TIMEOUT_MS = 30_000;
const READINESS_PATHS = new Set(['/health/ready', '/ready', '/api/health/ready']);

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Why an answer breaks the contract, or undefined. */
function problemWith(req: FuzzRequest, answer: Answer): string | undefined {
  // The readiness probes (GET /health/ready and its aliases of the replaced services) answer 503 when a
  // dependency is slow to its ping (as under this load): their documented answer, in the envelope, not a fault.
  const readiness = answer.status === 503 && READINESS_PATHS.has(req.path.split('?')[0]);
  if (answer.status >= 500 && !readiness) return `answered ${answer.status}`;
  if (answer.status < 400 || req.method === 'HEAD') return undefined;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(answer.text) as Record<string, unknown>;
  } catch {
    return `error ${answer.status} is not JSON`;
  }
  if (typeof body !== 'object' || body === null) return `error ${answer.status} is not a JSON object`;
  // The protocol's readiness answer: 400 means "not ready", with the readiness body, not an error.
  if (answer.status === 400 && body.ready === false && /^\/v2\/models\/.+\/ready$/i.test(req.path.split('?')[0])) {
    return undefined;
  }
  if (body.request_id !== answer.headers['x-request-id']) return 'request_id missing or not the X-Request-Id';
  const path = req.path.split('?')[0];
  const dialect = dialectOfPath(path);
  const error = body.error as Record<string, unknown> | undefined;
  if (dialect === 'openai') {
    const ok =
      typeof error === 'object' &&
      typeof error?.message === 'string' &&
      typeof error.type === 'string' &&
      typeof error.code === 'string' &&
      'param' in error;
    return ok ? undefined : 'not the OpenAI error shape';
  }
  if (dialect === 'anthropic') {
    const ok = body.type === 'error' && typeof error?.type === 'string' && typeof error.message === 'string';
    return ok ? undefined : 'not the Anthropic error shape';
  }
  if (dialect === 'kserve') {
    const ok =
      typeof error === 'object' &&
      error?.code === String(answer.status) &&
      typeof error.message === 'string' &&
      typeof error.type === 'string' &&
      error.type in ERROR_STATUS &&
      'param' in error;
    return ok ? undefined : "not KServe's time-series error shape";
  }
  if (/^\/v2(\/|$)/i.test(path) && typeof body.error === 'string' && body.message === undefined) return undefined;
  const ok = typeof body.error === 'string' && body.error in ERROR_STATUS && typeof body.message === 'string';
  return ok ? undefined : 'not the {error, message, request_id} envelope';
}

describe('fuzz: requests from the OpenAPI document', () => {
  const upstreams: FakeUpstream[] = [];
  let gw: Gateway;
  let doc: OpenApiDocument;
  let agent: Agent;
  const statuses = new Map<number, number>();
  let sent = 0;

  beforeAll(async () => {
    const openai = await startFakeUpstream('openai', { models: ['gpt-4o-mini'] });
    const anthropic = await startFakeUpstream('anthropic', { models: ['claude-3-haiku-20240307'] });
    const ollama = await startFakeUpstream('ollama', { models: ['llama3.1:8b', 'nomic-embed-text'] });
    upstreams.push(openai, anthropic, ollama);
    gw = await startGateway({
      providers: [
        { id: 'openai', kind: 'openai', base_url: openai.baseUrl, models: ['gpt-4o-mini'], retry: NO_RETRY },
        {
          id: 'anthropic',
          kind: 'anthropic',
          base_url: anthropic.baseUrl,
          models: ['claude-3-haiku-20240307'],
          retry: NO_RETRY,
        },
        {
          id: 'ollama',
          kind: 'ollama',
          base_url: ollama.baseUrl,
          models: ['llama3.1:8b', 'nomic-embed-text'],
          retry: NO_RETRY,
        },
      ],
    });
    doc = (await gw.api.get<OpenApiDocument>('/docs-json')).body;
    agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  });

  afterAll(async () => {
    agent?.destroy();
    await gw?.close();
    await Promise.all(upstreams.map((u) => u.close()));
  });

  function send(req: FuzzRequest): Promise<Answer> {
    const headers: Record<string, string> = { ...req.headers };
    if (req.credentials === 'admin') headers.authorization = `Bearer ${gw.adminToken}`;
    if (req.credentials === 'apiKey') headers['x-api-key'] = gw.apiKey;
    if (req.credentials === 'apiKeyAsBearer') headers.authorization = `Bearer ${gw.apiKey}`;
    if (req.credentials === 'garbage') headers.authorization = 'Bearer cfx_not-a-key.eyJhbGciOiJub25lIn0.';
    if (req.body) headers['content-length'] = String(req.body.length);
    const url = new URL(gw.t.url);
    return new Promise((resolve, reject) => {
      const r = request(
        {
          host: url.hostname,
          port: url.port,
          method: req.method,
          path: req.path,
          headers,
          agent,
          timeout: ANSWER_TIMEOUT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', reject);
        },
      );
      r.on('timeout', () => r.destroy(new Error(`no answer within ${ANSWER_TIMEOUT_MS} ms`)));
      r.on('error', reject);
      r.end(req.body);
    });
  }

  it(`answers ${TOTAL_REQUESTS} generated requests without a 5xx, every error in its envelope`, async () => {
    const otherProject = await createProject(gw.api, gw.adminToken, 'fuzz-target');
    const models =
      (await gw.api.get<{ models: { name: string }[] }>('/api/ml/models', { token: gw.adminToken })).body.models ?? [];
    const arbitrary = requestArbitrary(doc, {
      pathValues: {
        id: [otherProject.id],
        projectId: [otherProject.id],
        name: models.map((m) => m.name),
        version: ['1', 'latest'],
      },
      fieldValues: {
        model: [
          'gpt-4o-mini',
          'claude-3-haiku-20240307',
          'llama3.1:8b',
          'nomic-embed-text',
          'auto',
          ...models.map((m) => m.name),
        ],
        role: ['user', 'assistant', 'system'],
      },
      // Signing out would end the shared admin session and leave the rest of the run unauthenticated.
      anonymousOnly: (method, route) => route === '/auth/logout' || (method === 'DELETE' && route === '/auth/session'),
    });
    console.log(`fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
    await fc.assert(
      fc.asyncProperty(fc.array(arbitrary, { minLength: CONCURRENCY, maxLength: CONCURRENCY }), async (batch) => {
        const started = Date.now();
        const answers = await Promise.all(batch.map((req) => send(req)));
        if (process.env.FUZZ_TRACE) {
          const lines = batch.map(
            (r, i) =>
              `${answers[i].status} ${r.method} ${r.path.slice(0, 80)} [${r.credentials}; ${r.variant.slice(0, 60)}]`,
          );
          appendFileSync(
            process.env.FUZZ_TRACE,
            `batch ${sent / CONCURRENCY} ${Date.now() - started} ms\n${lines.join('\n')}\n`,
          );
        }
        sent += batch.length;
        for (const u of upstreams) u.reset();
        const failures = batch.flatMap((req, i) => {
          const answer = answers[i];
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          const problem = problemWith(req, answer);
          return problem
            ? [
                `${problem}: ${req.method} ${req.path.slice(0, 300)} [${req.credentials}; ${req.variant.slice(0, 200)}] -> ${answer.text.slice(0, 300)}`,
              ]
            : [];
        });
        if (failures.length > 0) throw new Error(failures.join('\n'));
      }),
      { seed: SEED, numRuns: Math.ceil(TOTAL_REQUESTS / CONCURRENCY), endOnFailure: true, verbose: 0 },
    );
    const counts = [...statuses.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}: ${n}`);
    console.log(`fuzz sent ${sent} requests; statuses ${counts.join(', ')}`);
    expect(sent).toBeGreaterThanOrEqual(TOTAL_REQUESTS);
    expect(statuses.get(429) ?? 0).toBeLessThan(sent / 10);
    // Valid requests reach the routes and succeed, LLM routes included: the run is not all refusals.
    const succeeded = [...statuses.entries()].filter(([status]) => status < 300).reduce((n, [, c]) => n + c, 0);
    expect(succeeded).toBeGreaterThan(sent / 20);
  }, 600_000);
});
