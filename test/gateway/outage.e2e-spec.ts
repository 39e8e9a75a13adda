import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeUpstream, startFakeUpstream } from '../support/fake-upstreams';
import { TEST_ADMIN, TEST_JWT_SECRET } from '../support/app';
import { createApiKey, createProject, signInAdmin } from '../support/fixtures';
import { Api } from '../support/http';
import { killAllServers, minimalEnv, ServerProcess } from '../support/process';
import { createTestDatabase, testRedisUrl, TestDatabase, uniqueRedisPrefix } from '../support/services';
import { proxiedUrl, TcpProxy } from '../support/tcp-proxy';
import { Gateway, ledgerRows, NO_RETRY, startGateway } from './gateway-support';

/** How long Postgres stays down under load (the acceptance asks for 30 s). */
const OUTAGE_MS = Number(process.env.GATEWAY_TEST_OUTAGE_MS ?? 30_000);

/** Sends requests with `concurrency` workers until `stop()`; remembers the ids of the served ones. */
class Load {
  readonly served: string[] = [];
  readonly failed: number[] = [];
  private running = true;
  private readonly workers: Promise<void>[];

  constructor(
    private readonly send: () => Promise<{ status: number; id: string | null }>,
    concurrency: number,
  ) {
    this.workers = Array.from({ length: concurrency }, () => this.work());
  }

  private async work(): Promise<void> {
    while (this.running) {
      try {
        const { status, id } = await this.send();
        if (status === 200 && id) this.served.push(id);
        else this.failed.push(status);
      } catch {
        this.failed.push(0);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }
}

async function waitForRows(url: string, ids: string[], timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let count = 0;
  while (Date.now() < deadline) {
    const rows = await ledgerRows(url, "status = 'success' AND request_id = ANY($1)", [ids]);
    count = rows.length;
    if (count >= ids.length) return count;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return count;
}

const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 };

describe('no ledger row is lost', () => {
  let upstream: FakeUpstream;

  beforeAll(async () => {
    upstream = await startFakeUpstream('openai', { models: ['gpt-4o-mini'], reply: { text: 'ok' } });
  });
  afterAll(() => upstream?.close());

  describe('when Postgres is down for a while under load', () => {
    let proxy: TcpProxy;
    let gw: Gateway;
    let db: TestDatabase;

    beforeAll(async () => {
      db = await createTestDatabase();
      proxy = await TcpProxy.forUrl(db.url);
      gw = await startGateway({
        providers: [
          { id: 'openai', kind: 'openai', base_url: upstream.baseUrl, models: ['gpt-4o-mini'], retry: NO_RETRY },
        ],
        db,
        databaseUrl: proxiedUrl(db.url, proxy),
        // Keys stay trusted through the outage; connections fail fast instead of waiting.
        env: { API_KEY_CACHE_TTL_SECONDS: '600', DATABASE_CONNECT_TIMEOUT_MS: '500' },
      });
    });

    afterAll(async () => {
      proxy?.restore();
      await gw?.close();
      await proxy?.close();
      await db?.drop();
    });

    it(
      `serves through a ${OUTAGE_MS / 1000} s outage and writes every served request once it is back`,
      async () => {
        const load = new Load(async () => {
          const res = await gw.api.post('/v1/chat/completions', chat, { apiKey: gw.apiKey });
          return { status: res.status, id: res.headers.get('x-request-id') };
        }, 4);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const beforeCut = load.served.length;
        proxy.cut();
        await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
        const duringCut = load.served.length - beforeCut;
        proxy.restore();
        await new Promise((resolve) => setTimeout(resolve, 1000));
        await load.stop();

        expect(beforeCut).toBeGreaterThan(0);
        expect(duringCut).toBeGreaterThan(0);
        const written = await waitForRows(db.url, load.served, 60_000);
        expect(written).toBe(load.served.length);
        const rows = await ledgerRows(db.url, "status = 'success'");
        expect(new Set(rows.map((r) => r.request_id)).size).toBe(rows.length);
        expect(rows.length).toBe(load.served.length);
      },
      OUTAGE_MS + 120_000,
    );
  });

  describe('when the process gets SIGTERM under load', () => {
    let db: TestDatabase;
    let dir: string;
    let server: ServerProcess;

    beforeAll(async () => {
      db = await createTestDatabase();
      dir = mkdtempSync(join(tmpdir(), 'conflux-term-'));
      const file = join(dir, 'providers.json');
      writeFileSync(
        file,
        JSON.stringify({
          providers: [{ id: 'openai', kind: 'openai', base_url: upstream.baseUrl, models: ['gpt-4o-mini'] }],
        }),
      );
      server = await ServerProcess.start({
        env: minimalEnv({
          DATABASE_URL: db.url,
          REDIS_URL: testRedisUrl(),
          REDIS_KEY_PREFIX: uniqueRedisPrefix(),
          JWT_SECRET: TEST_JWT_SECRET,
          ADMIN_EMAIL: TEST_ADMIN.email,
          ADMIN_PASSWORD: TEST_ADMIN.password,
          PROVIDERS_FILE: file,
          DATA_DIR: dir,
          RATE_LIMIT_PER_MINUTE: '1000000',
          RATE_LIMIT_PER_HOUR: '1000000',
          SHUTDOWN_DELAY_MS: '500',
          LOG_LEVEL: 'warn',
        }),
      });
      await server.waitForLive();
    });

    afterAll(async () => {
      await killAllServers();
      await db?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('flushes the ledger before exiting 0', async () => {
      const api = new Api(server.url);
      const token = await signInAdmin(api);
      const project = await createProject(api, token, 'sigterm');
      const { key } = await createApiKey(api, token, project.id, 'sigterm');
      const load = new Load(async () => {
        const res = await api.post('/v1/chat/completions', chat, { apiKey: key });
        return { status: res.status, id: res.headers.get('x-request-id') };
      }, 4);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const exit = server.stop('SIGTERM', 30_000);
      const result = await exit;
      await load.stop();
      expect(result?.code).toBe(0);
      expect(load.served.length).toBeGreaterThan(0);
      // Everything served was written before the process exited: no other instance replays it here.
      const rows = await ledgerRows(db.url, "status = 'success'");
      expect(rows.length).toBe(load.served.length);
      expect(new Set(rows.map((r) => r.request_id))).toEqual(new Set(load.served));
    }, 90_000);
  });
});
