import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders } from 'node:http';
import { expectEnvelope, type ApiResponse } from './support/http';
import { killAllServers, makeTempDir, minimalEnv, removeDir, ServerProcess } from './support/process';
import {
  createTestDatabase,
  delay,
  testRedisUrl,
  uniqueRedisPrefix,
  waitUntil,
  type TestDatabase,
} from './support/services';

const ADMIN = { email: 'shutdown-admin@conflux.test', password: 'shutdown-admin-password-0123' };
const JWT_SECRET = 'shutdown-test-jwt-secret-0123456789-abcdefghij';
const DRAIN_TIMEOUT_MS = 15_000;

interface TimedResponse extends ApiResponse {
  /** `Date.now()` when the last byte of the response had been read. */
  endedAt: number;
}

function toHeaders(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  return headers;
}

/** Collects the answer to `req`; `agent: false` everywhere, so each request has a connection of its own. */
function responseOf(req: ClientRequest): Promise<TimedResponse> {
  return new Promise((resolve, reject) => {
    req.once('error', reject);
    req.once('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.once('error', reject);
      res.once('end', () => {
        let body: Record<string, unknown> = {};
        try {
          body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        } catch {
          body = {};
        }
        resolve({ status: res.statusCode ?? 0, headers: toHeaders(res.headers), body, text, endedAt: Date.now() });
      });
    });
  });
}

/** A GET on a new connection (never a pooled one). */
function getFresh(baseUrl: string, path: string): Promise<TimedResponse> {
  const req = httpRequest(`${baseUrl}${path}`, { method: 'GET', agent: false, timeout: 5_000 });
  req.once('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
  const response = responseOf(req);
  req.end();
  return response;
}

function once(req: ClientRequest, event: 'continue', timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${timeoutMs} ms`)), timeoutMs);
    req.once(event, () => {
      clearTimeout(timer);
      resolve();
    });
    req.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * A POST whose body arrives in two parts, for as long as the test wants. It asks for
 * `100 Continue`, which the server sends once it has taken the request in: from then
 * on the request is in flight on the server, deterministically.
 */
async function openSlowPost(
  baseUrl: string,
  path: string,
  body: string,
): Promise<{ finish(): Promise<TimedResponse> }> {
  const bytes = Buffer.from(body, 'utf8');
  const half = Math.floor(bytes.length / 2);
  const req = httpRequest(`${baseUrl}${path}`, {
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', 'content-length': bytes.length, expect: '100-continue' },
  });
  req.on('error', () => undefined); // reported through `response`; a second error must not crash the worker
  const response = responseOf(req);
  response.catch(() => undefined); // awaited by finish(); a failure before that must not go unhandled
  const accepted = once(req, 'continue', 10_000);
  req.flushHeaders();
  await accepted;
  await new Promise<void>((resolve, reject) =>
    req.write(bytes.subarray(0, half), (error) => (error ? reject(error) : resolve())),
  );
  return {
    finish: () => {
      req.end(bytes.subarray(half));
      return response;
    },
  };
}

describe('graceful shutdown of node dist/src/main.js on Postgres and Redis', () => {
  let db: TestDatabase | undefined;
  const dirs: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterEach(() => killAllServers());
  afterAll(async () => {
    await killAllServers();
    await Promise.all(dirs.map(removeDir));
    await db?.drop();
  });

  async function startServer(): Promise<ServerProcess> {
    if (db === undefined) throw new Error('no test database');
    const dataDir = makeTempDir('conflux-shutdown-');
    dirs.push(dataDir);
    const server = await ServerProcess.start({
      env: minimalEnv({
        NODE_ENV: 'production',
        LOG_LEVEL: 'info',
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        DATABASE_URL: db.url,
        REDIS_URL: testRedisUrl(),
        REDIS_KEY_PREFIX: uniqueRedisPrefix(),
        JWT_SECRET,
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        SHUTDOWN_DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS),
      }),
    });
    await server.waitForLive(60_000);
    return server;
  }

  it('finishes a request in flight on SIGTERM, turning readiness to 503 meanwhile, then exits 0', async () => {
    const server = await startServer();
    const ready = await getFresh(server.url, '/health/ready');
    expect(ready.status).toBe(200);

    const slow = await openSlowPost(server.url, '/auth/login', JSON.stringify(ADMIN));

    server.signal('SIGTERM');
    const shuttingDown = await server.waitForOutput(
      /Shutting down: readiness is 503, (\d+) request\(s\) in flight/,
      10_000,
    );
    expect(shuttingDown?.[1]).toBe('1');

    let notReady: TimedResponse | undefined;
    await waitUntil(async () => {
      notReady = await getFresh(server.url, '/health/ready');
      return notReady.status === 503;
    }, 10_000);
    if (notReady === undefined) throw new Error('/health/ready was never asked');
    expectEnvelope(notReady, 503, 'service_unavailable');
    expect(notReady.body.details).toMatchObject({ error: { lifecycle: { status: 'down', state: 'draining' } } });

    const live = await getFresh(server.url, '/health/live');
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'ok' });

    // While the request is unfinished the process stays up (it would be gone in milliseconds otherwise).
    await delay(1_000);
    expect(server.exited).toBe(false);

    const answer = await slow.finish();
    const runningWhenAnswered = !server.exited;
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      access_token: expect.any(String),
      refresh_token: expect.stringMatching(/^cfr_/),
      token_type: 'Bearer',
    });
    expect(runningWhenAnswered).toBe(true);

    const exit = await server.waitForExit(10_000);
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit?.at).toBeGreaterThanOrEqual(answer.endedAt);
    expect(server.stdout).toMatch(/Stopped cleanly/);
    expect(server.stdout).not.toMatch(/Drain timeout/);
  }, 120_000);

  it('exits 0 quickly on SIGTERM with no request in flight', async () => {
    const server = await startServer();
    const started = Date.now();
    const exit = await server.stop('SIGTERM', 5_000);
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(server.stdout).toMatch(/0 request\(s\) in flight/);
  }, 90_000);
});
