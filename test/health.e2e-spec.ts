import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startApp, TestApp } from './support/app';
import { Api, ApiResponse, expectEnvelope } from './support/http';
import { createTestDatabase, delay, testRedisUrl, TestDatabase } from './support/services';
import { proxiedUrl, TcpProxy } from './support/tcp-proxy';

interface IndicatorState {
  status: 'up' | 'down';
  mode?: string;
  message?: string;
  latency_ms?: number;
}

/** Terminus' result, answered as is by a ready probe and as `details` of the 503 envelope. */
interface HealthCheckBody {
  status: string;
  info?: Record<string, IndicatorState>;
  error?: Record<string, IndicatorState>;
  details: Record<string, IndicatorState>;
}

type ReadyErrorBody = {
  error: string;
  message: string;
  request_id: string;
  details?: HealthCheckBody;
};

interface SummaryBody {
  status: string;
  ok: boolean;
  version: string;
  uptime_seconds: number;
  dependencies: Record<string, IndicatorState>;
}

/** Every probe must answer within this, even with a dependency cut. */
const PROBE_BOUND_MS = 3_000;
/** How long a cut may take to show in readiness. */
const DETECT_MS = 5_000;
/** How long readiness may take to recover after a restore (Redis reconnects with up to 2 s of backoff). */
const RECOVER_MS = 8_000;
/** How long a poll goes on before the assertions judge its last answer. */
const SETTLE_MS = 10_000;

describe('health probes against real dependencies cut and restored', () => {
  let db: TestDatabase;
  let pgProxy: TcpProxy;
  let redisProxy: TcpProxy;
  let t: TestApp | undefined;
  let api: Api;

  beforeAll(async () => {
    db = await createTestDatabase();
    // app -> TcpProxy (cut: connections reset; stall: connections hang) -> server
    pgProxy = await TcpProxy.forUrl(db.url);
    redisProxy = await TcpProxy.forUrl(testRedisUrl());
    t = await startApp({
      db,
      databaseUrl: proxiedUrl(db.url, pgProxy),
      env: {
        REDIS_URL: proxiedUrl(testRedisUrl(), redisProxy),
        HEALTH_CHECK_TIMEOUT_MS: '500',
        REDIS_COMMAND_TIMEOUT_MS: '300',
        DATABASE_CONNECT_TIMEOUT_MS: '1000',
      },
    });
    api = new Api(t.url);
  });

  afterAll(async () => {
    pgProxy?.restore();
    redisProxy?.restore();
    await t?.close();
    await Promise.all([pgProxy?.close(), redisProxy?.close()]);
    await db?.drop();
  });

  /** A GET that must answer within PROBE_BOUND_MS: a hanging probe fails the test rather than timing it out. */
  async function probe<T>(path: string): Promise<ApiResponse<T>> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`GET ${path} took longer than ${PROBE_BOUND_MS} ms`)), PROBE_BOUND_MS);
    });
    try {
      const res = await Promise.race([api.get<T>(path), bound]);
      expect(performance.now() - started).toBeLessThan(PROBE_BOUND_MS);
      return res;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Polls a probe until `done` holds or SETTLE_MS passes; returns the last answer for the assertions. */
  async function pollProbe<T>(path: string, done: (res: ApiResponse<T>) => boolean): Promise<ApiResponse<T>> {
    const deadline = Date.now() + SETTLE_MS;
    let res = await probe<T>(path);
    while (!done(res) && Date.now() < deadline) {
      await delay(100);
      res = await probe<T>(path);
    }
    return res;
  }

  async function expectAllReady(): Promise<void> {
    const started = Date.now();
    const ready = await pollProbe<HealthCheckBody>('/health/ready', (r) => r.status === 200);
    expect(ready.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(RECOVER_MS);
    expect(ready.body.status).toBe('ok');
    expect(ready.body.details.database?.status).toBe('up');
    expect(ready.body.details.redis?.status).toBe('up');
    const summary = await probe<SummaryBody>('/health');
    expect(summary.status).toBe(200);
    expect(summary.body.status).toBe('healthy');
  }

  /** While `cut` is down: ready is 503 naming it, live stays 200, the summary is degraded. */
  async function expectDownWhileCut(cut: 'database' | 'redis', up: 'database' | 'redis'): Promise<void> {
    const started = Date.now();
    const ready = await pollProbe<ReadyErrorBody>('/health/ready', (r) => r.status === 503);
    expectEnvelope(ready, 503, 'service_unavailable');
    expect(Date.now() - started).toBeLessThan(DETECT_MS);
    expect(ready.body.message).toContain(cut);
    expect(ready.body.details?.details[cut]?.status).toBe('down');
    expect(ready.body.details?.details[up]?.status).toBe('up');
    expect(Object.keys(ready.body.details?.error ?? {})).toEqual([cut]);

    // Answers stay bounded and consistent while the dependency is away.
    for (let i = 0; i < 3; i += 1) {
      const again = await probe<ReadyErrorBody>('/health/ready');
      expect(again.status).toBe(503);
      const live = await probe<{ status: string }>('/health/live');
      expect(live.status).toBe(200);
      expect(live.body).toEqual({ status: 'ok' });
    }

    const summary = await probe<SummaryBody>('/health');
    expect(summary.status).toBe(200);
    expect(summary.body.status).toBe('degraded');
    expect(summary.body.dependencies[cut]?.status).toBe('down');
    expect(summary.body.dependencies[up]?.status).toBe('up');
  }

  it('is ready with the database and Redis up, and live', async () => {
    const ready = await probe<HealthCheckBody>('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.status).toBe('ok');
    expect(ready.body.details.database).toMatchObject({ status: 'up', mode: 'postgres' });
    expect(ready.body.details.redis).toMatchObject({ status: 'up', mode: 'redis' });
    expect(ready.body.details.lifecycle).toMatchObject({ status: 'up' });
    const live = await probe<{ status: string }>('/health/live');
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'ok' });
  });

  it('summarises status, version, uptime and dependencies', async () => {
    const res = await probe<SummaryBody>('/health');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual([
      'dependencies',
      'models_loaded',
      'ok',
      'services',
      'status',
      'timestamp',
      'uptime_seconds',
      'version',
      'workers',
    ]);
    expect(res.body.status).toBe('healthy');
    expect(res.body.ok).toBe(true);
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
    expect(res.body.version).toBe(pkg.version);
    expect(Number.isInteger(res.body.uptime_seconds)).toBe(true);
    expect(res.body.uptime_seconds).toBeGreaterThanOrEqual(0);
    expect(res.body.dependencies.database).toMatchObject({ status: 'up', mode: 'postgres' });
    expect(res.body.dependencies.redis).toMatchObject({ status: 'up', mode: 'redis' });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('reports Redis down when it is cut, and ready again once restored', async () => {
    redisProxy.cut();
    try {
      await expectDownWhileCut('redis', 'database');
    } finally {
      redisProxy.restore();
    }
    await expectAllReady();
  });

  it('reports the database down when it is cut, and ready again once restored', async () => {
    pgProxy.cut();
    try {
      await expectDownWhileCut('database', 'redis');
    } finally {
      pgProxy.restore();
    }
    await expectAllReady();
  });

  it('reports both down when both are cut, still within bounded time', async () => {
    pgProxy.cut();
    redisProxy.cut();
    try {
      const ready = await pollProbe<ReadyErrorBody>(
        '/health/ready',
        (r) => r.status === 503 && Object.keys(r.body?.details?.error ?? {}).length === 2,
      );
      expectEnvelope(ready, 503, 'service_unavailable');
      expect(Object.keys(ready.body.details?.error ?? {}).sort()).toEqual(['database', 'redis']);
      const summary = await probe<SummaryBody>('/health');
      expect(summary.status).toBe(200);
      expect(summary.body.status).toBe('degraded');
      expect(summary.body.dependencies.database?.status).toBe('down');
      expect(summary.body.dependencies.redis?.status).toBe('down');
      expect((await probe('/health/live')).status).toBe(200);
    } finally {
      pgProxy.restore();
      redisProxy.restore();
    }
    await expectAllReady();
  });

  it('answers within bounded time when a dependency hangs instead of refusing', async () => {
    pgProxy.stall();
    redisProxy.stall();
    try {
      const ready = await pollProbe<ReadyErrorBody>(
        '/health/ready',
        (r) => r.status === 503 && Object.keys(r.body?.details?.error ?? {}).length === 2,
      );
      expectEnvelope(ready, 503, 'service_unavailable');
      expect(Object.keys(ready.body.details?.error ?? {}).sort()).toEqual(['database', 'redis']);
      // Several probes in a row, and in parallel: none may queue behind the hung checks.
      for (let i = 0; i < 3; i += 1) {
        const answers = await Promise.all([
          probe<ReadyErrorBody>('/health/ready'),
          probe<SummaryBody>('/health'),
          probe('/health/live'),
        ]);
        expect(answers.map((a) => a.status)).toEqual([503, 200, 200]);
        expect(answers[1].body.status).toBe('degraded');
      }
    } finally {
      pgProxy.restore();
      redisProxy.restore();
    }
    await expectAllReady();
  });
});
