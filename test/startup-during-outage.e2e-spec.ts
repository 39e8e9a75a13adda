import { TEST_ADMIN, TEST_JWT_SECRET } from './support/app';
import { Api } from './support/http';
import { killAllServers, makeTempDir, minimalEnv, removeDir, ServerProcess } from './support/process';
import {
  databaseUrl,
  delay,
  dropDatabase,
  quoteIdent,
  randomHex,
  TEST_ENV,
  testRedisUrl,
  uniqueRedisPrefix,
  waitUntil,
  withClient,
} from './support/services';
import { proxiedUrl, TcpProxy } from './support/tcp-proxy';

/** Longer than the two connection attempts a process used to make before giving up. */
const OUTAGE_MS = 8_000;

describe('a process started while Postgres is unreachable', () => {
  const adminUrl = process.env[TEST_ENV.pgAdminUrl] ?? '';
  const name = `conflux_outage_start_${randomHex(6)}`;
  let dir: string;
  let proxy: TcpProxy;
  let server: ServerProcess;

  beforeAll(async () => {
    // An empty database: the migrations must run once Postgres can be reached.
    await withClient(adminUrl, (client) => client.query(`CREATE DATABASE ${quoteIdent(name)}`));
    proxy = await TcpProxy.forUrl(adminUrl);
    dir = makeTempDir('conflux-outage-start-');
  });

  afterAll(async () => {
    await killAllServers();
    await proxy?.close();
    await dropDatabase(adminUrl, name);
    await removeDir(dir);
  });

  it('stays live and not ready while it waits, then migrates and serves once Postgres answers', async () => {
    proxy.cut();
    server = await ServerProcess.start({
      env: minimalEnv({
        DATABASE_URL: proxiedUrl(databaseUrl(adminUrl, name), proxy),
        DATABASE_CONNECT_TIMEOUT_MS: '1000',
        REDIS_URL: testRedisUrl(),
        REDIS_KEY_PREFIX: uniqueRedisPrefix(),
        JWT_SECRET: TEST_JWT_SECRET,
        ADMIN_EMAIL: TEST_ADMIN.email,
        ADMIN_PASSWORD: TEST_ADMIN.password,
        DATA_DIR: dir,
        LOG_LEVEL: 'warn',
      }),
    });
    const api = new Api(server.url);
    const liveWhileWaiting = async (): Promise<boolean> => {
      const res = await api.get('/health/live').catch(() => null);
      return res?.status === 200;
    };
    expect(await waitUntil(liveWhileWaiting, 30_000, 200)).toBe(true);

    await delay(OUTAGE_MS);
    expect(server.exited).toBe(false);
    const starting = await api.get('/health/live');
    expect(starting).toMatchObject({ status: 200, body: { status: 'starting' } });
    // Nothing is kept alive across the hand-over to the application (a reused connection would be reset).
    expect(starting.headers.get('connection')).toBe('close');
    expect(await api.get('/api/health/live')).toMatchObject({ status: 200, body: { status: 'alive' } });
    const ready = await api.get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body).toMatchObject({ error: 'service_unavailable', request_id: expect.any(String) });
    const login = await api.post('/auth/login', TEST_ADMIN);
    expect(login.status).toBe(503);
    expect(login.body).toMatchObject({ error: 'service_unavailable', request_id: expect.any(String) });

    proxy.restore();
    const readyAgain = await waitUntil(async () => (await api.get('/health/ready')).status === 200, 60_000, 250);
    expect(readyAgain).toBe(true);
    expect(server.exited).toBe(false);
    // The schema is there (migrated on arrival) and the admin account was seeded.
    expect((await api.login(TEST_ADMIN.email, TEST_ADMIN.password)).access_token).toEqual(expect.any(String));
  }, 120_000);
});
