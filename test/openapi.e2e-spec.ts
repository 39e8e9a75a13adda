import { randomUUID } from 'node:crypto';
import { STRATEGIES } from '../src/routing/routing.api';
import { startApp, TestApp } from './support/app';
import { signInAdmin } from './support/fixtures';
import { Api, ApiResponse, expectEnvelope, expectKserveError, expectOpenAiError } from './support/http';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
type Method = (typeof METHODS)[number];

interface SecurityScheme {
  type: string;
  scheme?: string;
  in?: string;
  name?: string;
}

interface Operation {
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; schema?: { enum?: string[] } }>;
}

type OpenApiDocument = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Partial<Record<Method, Operation>>>;
  components?: { securitySchemes?: Record<string, SecurityScheme> };
};

/** The operations anyone may call; every other one must refuse an anonymous caller. */
const PUBLIC_OPERATIONS = new Set([
  'POST /auth/login',
  'POST /auth/refresh',
  'POST /auth/session',
  'POST /auth/session/refresh',
  'DELETE /auth/session',
  'GET /health',
  'GET /health/live',
  'GET /health/ready',
  'GET /',
  'GET /v1/health',
  'GET /ready',
  'GET /api/health',
  'GET /api/health/live',
  'GET /api/health/ready',
  'GET /api/metrics',
  'GET /api/ml/health',
]);

/** Public operations whose credential is the session cookie: without it they answer 401. */
const COOKIE_OPERATIONS = new Set(['POST /auth/session/refresh']);

/** The compatible routes answer errors in their API's own shape, every other route in the envelope. */
const OPENAI_PATHS = new Set([
  '/v1/chat/completions',
  '/v1/embeddings',
  '/v1/models',
  '/v1/models/{model}',
  '/v1/responses',
]);
const ANTHROPIC_PATHS = new Set(['/v1/messages', '/v1/messages/count_tokens']);
const KSERVE_PATHS = new Set(['/v1/timeseries/forecast']);

function expectUnauthorized(path: string, res: ApiResponse): void {
  if (OPENAI_PATHS.has(path)) expectOpenAiError(res, 401, 'unauthorized');
  else if (ANTHROPIC_PATHS.has(path)) {
    expect({ status: res.status, type: res.body.type, error: res.body.error }).toEqual({
      status: 401,
      type: 'error',
      error: { type: 'authentication_error', message: expect.any(String) },
    });
  } else if (KSERVE_PATHS.has(path)) expectKserveError(res, 401, 'unauthorized');
  else expectEnvelope(res, 401, 'unauthorized');
}

const DOCUMENTED_PATHS = [
  '/auth/login',
  '/auth/refresh',
  '/auth/logout',
  '/auth/me',
  '/auth/session',
  '/auth/session/refresh',
  '/admin/users',
  '/projects',
  '/projects/{id}',
  '/projects/{id}/members',
  '/projects/{projectId}/api-keys',
  '/projects/{projectId}/api-keys/{keyId}/rotate',
  '/projects/{projectId}/api-keys/{keyId}',
  '/health',
  '/health/live',
  '/health/ready',
  '/',
  '/v1/health',
  '/ready',
  '/api/health',
  '/api/health/live',
  '/api/health/ready',
  '/api/metrics',
  '/api/ml/health',
  '/v1/timeseries/forecast',
];

const UUID_ANYWHERE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

interface DocumentedOperation {
  method: Method;
  path: string;
  operation: Operation;
}

function operationsOf(doc: OpenApiDocument): DocumentedOperation[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.flatMap((method) => {
      const operation = item[method];
      return operation ? [{ method, path, operation }] : [];
    }),
  );
}

function label(op: DocumentedOperation): string {
  return `${op.method.toUpperCase()} ${op.path}`;
}

/** Every `name="value"` label of a Prometheus text exposition, comments aside. */
function labelsOf(exposition: string): Array<{ metric: string; name: string; value: string }> {
  return exposition
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .flatMap((line) => {
      const metric = line.split(/[{\s]/)[0];
      return [...line.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => ({ metric, name: m[1], value: m[2] }));
    });
}

describe('OpenAPI document, docs UI and metrics', () => {
  let t: TestApp | undefined;
  let api: Api;
  let doc: OpenApiDocument;

  beforeAll(async () => {
    t = await startApp();
    api = new Api(t.url);
    const res = await api.get<OpenApiDocument>('/docs-json');
    if (res.status !== 200) throw new Error(`/docs-json answered ${res.status}: ${res.text}`);
    doc = res.body;
  });

  afterAll(async () => {
    await t?.close();
  });

  it('is an OpenAPI 3 document with the bearer and api-key security schemes', () => {
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(doc.info.title).toBe('Conflux');
    expect(doc.components?.securitySchemes?.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components?.securitySchemes?.['api-key']).toMatchObject({
      type: 'apiKey',
      in: 'header',
      name: 'X-API-Key',
    });
  });

  it('documents every endpoint of the API, and not the metrics scrape', () => {
    const paths = Object.keys(doc.paths);
    expect(DOCUMENTED_PATHS.filter((p) => !paths.includes(p))).toEqual([]);
    expect(paths).not.toContain('/metrics');
  });

  it('documents X-Conflux-Strategy on every LLM route that reads it', () => {
    for (const path of ['/v1/chat/completions', '/v1/responses', '/v1/messages']) {
      const header = doc.paths[path]?.post?.parameters?.find((p) => p.name === 'X-Conflux-Strategy');
      expect({ path, in: header?.in, values: header?.schema?.enum }).toEqual({
        path,
        in: 'header',
        values: [...STRATEGIES],
      });
    }
  });

  it('declares both credentials on every protected operation, and none on the public ones', () => {
    const ops = operationsOf(doc);
    // The allow-list is not stale: each public operation is documented.
    expect([...PUBLIC_OPERATIONS].filter((name) => !ops.some((op) => label(op) === name))).toEqual([]);
    const wrong = ops.flatMap((op) => {
      const schemes = (op.operation.security ?? []).flatMap((requirement) => Object.keys(requirement)).sort();
      const expected = PUBLIC_OPERATIONS.has(label(op)) ? [] : ['api-key', 'bearer'];
      return JSON.stringify(schemes) === JSON.stringify(expected) ? [] : [`${label(op)}: ${JSON.stringify(schemes)}`];
    });
    expect(wrong).toEqual([]);
  });

  it('refuses an anonymous caller on every documented operation outside the public allow-list', async () => {
    const ops = operationsOf(doc);
    expect(ops.length).toBeGreaterThanOrEqual(DOCUMENTED_PATHS.length);
    const answers: string[] = [];
    for (const op of ops) {
      const path = op.path.replace(/\{[^}]+\}/g, () => randomUUID());
      const withBody = op.method === 'post' || op.method === 'put' || op.method === 'patch';
      const res = await api.request(op.method.toUpperCase(), path, withBody ? { body: {} } : {});
      if (COOKIE_OPERATIONS.has(label(op))) {
        expectEnvelope(res, 401, 'unauthorized');
      } else if (PUBLIC_OPERATIONS.has(label(op))) {
        expect({ op: label(op), status: res.status }).not.toEqual({ op: label(op), status: 401 });
        expect(res.status).toBeLessThan(500);
      } else {
        expectUnauthorized(op.path, res);
      }
      answers.push(`${label(op)} ${res.status}`);
    }
    // Every operation was actually called.
    expect(answers).toHaveLength(ops.length);
  });

  it('serves the Swagger UI at /docs', async () => {
    const res = await fetch(`${api.baseUrl}/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toMatch(/swagger-ui/i);
  });

  it('exposes Prometheus metrics labelled by route template, never by raw id', async () => {
    const token = await signInAdmin(api);
    const projectId = randomUUID();
    expect((await api.get('/auth/me', { token })).status).toBe(200);
    expect((await api.get(`/projects/${projectId}`, { token })).status).toBeGreaterThanOrEqual(400);
    expect((await api.get(`/projects/${projectId}/api-keys`)).status).toBe(401);
    expect((await api.get(`/no/such/${projectId}`)).status).toBe(404);

    const res = await fetch(`${api.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');

    const labels = labelsOf(text);
    const routes = new Set(
      labels
        .filter((l) => l.metric.startsWith('http_request_duration_seconds') && l.name === 'route')
        .map((l) => l.value),
    );
    expect(routes).toContain('/auth/me');
    expect(routes).toContain('/projects/:id');
    expect(routes).toContain('/projects/:projectId/api-keys');
    expect(text).toMatch(/http_request_duration_seconds_count\{[^}]*route="\/auth\/me"[^}]*status="200"/);
    // The request counter carries the same labels as the histogram.
    expect(text).toMatch(/^http_requests_total\{method="GET",route="\/auth\/me",status="200"\} [1-9]/m);
    expect(text).not.toContain('status_code=');
    // The Postgres pool, read at the scrape: these requests opened at least one connection.
    expect(text).toMatch(/^conflux_db_pool_size [1-9]\d*$/m);
    expect(text).toMatch(/^conflux_db_pool_idle \d+$/m);
    expect(text).toMatch(/^conflux_db_pool_waiting 0$/m);
    expect(labels.filter((l) => UUID_ANYWHERE.test(l.value))).toEqual([]);
    expect(text).not.toContain(projectId);
  });
});
