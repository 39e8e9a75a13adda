import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Api } from './support/http';
import { killAllServers, makeTempDir, minimalEnv, removeDir, ServerProcess, type ExitResult } from './support/process';
import { freePort } from './support/services';

const DEFAULT_ADMIN_EMAIL = 'admin@conflux.local';
const PASSWORD_LINE = /with the generated password: ([A-Za-z0-9_-]+)/;
/** PGlite's first start (initdb and migrations) takes a few seconds, more on a busy machine. */
const START_TIMEOUT_MS = 80_000;
const STOP_TIMEOUT_MS = 20_000;
// A bad configuration is found before the application's modules load (~0.5 s quiet); generous for a busy machine.
const CONFIG_EXIT_TIMEOUT_MS = 45_000;
const EX_CONFIG = 78;

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
}

interface ProjectBody {
  id: string;
  name: string;
}

interface ModelList {
  models: {
    name: string;
    production_version: string;
    versions: { version: string; stage: string; loaded: boolean }[];
  }[];
}

/** The version the shipped trading-signal model carries in its sidecar. */
const SHIPPED_VERSION = (
  JSON.parse(readFileSync(join(__dirname, '../src/ml/shipped/signal-model.json'), 'utf8')) as { version: string }
).version;
const FEATURES = [0.001, -0.002, 0.0005, 0.003, -0.001, 0.01, 0.02, 0.004, 0.006, 0.009, 0.011, 55];

/** The shipped model serves /predict and is listed in production, alone. */
async function expectShippedModelServing(api: Api, token: string): Promise<void> {
  const predicted = await api.post<{ model_name: string; model_version: string; prediction: { direction: string } }>(
    '/predict',
    { symbol: 'DAX', features: FEATURES },
    { token },
  );
  expect(predicted.status).toBe(200);
  expect(predicted.body.model_name).toBe('trading-signal');
  expect(predicted.body.model_version).toBe(SHIPPED_VERSION);
  expect(['BUY', 'SELL', 'HOLD']).toContain(predicted.body.prediction.direction);
  const listed = await api.get<ModelList>('/api/ml/models', { token });
  expect(listed.status).toBe(200);
  expect(listed.body.models.map((m) => m.name)).toEqual(['trading-signal']);
  expect(listed.body.models[0].production_version).toBe(SHIPPED_VERSION);
  expect(listed.body.models[0].versions).toEqual([
    expect.objectContaining({ version: SHIPPED_VERSION, stage: 'production', loaded: true }),
  ]);
}

/** The console's page, its hashed script, and a browser's visit to `/` sent to it. */
async function expectConsoleServed(url: string): Promise<void> {
  const page = await fetch(`${url}/console/`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  const html = await page.text();
  const script = /<script[^>]*\bsrc="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  expect(script).toBeDefined();
  const asset = await fetch(`${url}${script}`);
  expect(asset.status).toBe(200);
  expect(asset.headers.get('content-type')).toMatch(/javascript/);
  expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(10_000);
  const root = await fetch(`${url}/`, { headers: { accept: 'text/html' }, redirect: 'manual' });
  expect(root.status).toBe(302);
  expect(root.headers.get('location')).toBe('/console/');
}

describe('startup of node dist/src/main.js', () => {
  const dirs: string[] = [];

  function tempDataDir(): string {
    const dir = makeTempDir('conflux-startup-');
    dirs.push(dir);
    return dir;
  }

  afterEach(() => killAllServers());
  afterAll(async () => {
    await killAllServers();
    await Promise.all(dirs.map(removeDir));
  });

  it('fresh start on the embedded default', async () => {
    const dataDir = tempDataDir();
    const envFor = async (): Promise<Record<string, string>> =>
      minimalEnv({
        PORT: String(await freePort()),
        DATA_DIR: dataDir,
        MODEL_STORE_DIR: join(dataDir, 'models'),
        LOG_LEVEL: 'info',
      });

    // ---- first start: empty DATA_DIR, nothing configured
    const first = await ServerProcess.start({ env: await envFor() });
    await first.waitForLive(START_TIMEOUT_MS);
    // Logged once the application has taken over from the waiting server, which may answer first.
    expect(await first.waitForOutput(/No DATABASE_URL: using the embedded database/, START_TIMEOUT_MS)).toBeDefined();
    const api = new Api(first.url);

    const docs = await api.get('/docs');
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-type')).toMatch(/^text\/html/);
    expect(docs.text).toMatch(/swagger-ui/i);
    const redoc = await api.get('/redoc');
    expect(redoc.status).toBe(200);
    expect(redoc.text).toContain('<redoc spec-url="/docs-json"></redoc>');

    // The web console is served by the same process with no step beyond the build `npm start` runs.
    await expectConsoleServed(first.url);

    const openapi = await api.get<OpenApiDocument>('/docs-json');
    expect(openapi.status).toBe(200);
    expect(openapi.body.openapi).toMatch(/^3\./);
    expect(Object.keys(openapi.body.paths)).toEqual(expect.arrayContaining(['/auth/login', '/projects']));
    expect(openapi.body.paths['/auth/login']).toHaveProperty('post');
    expect(openapi.body.paths['/projects']).toHaveProperty('post');

    expect(first.stdout.match(new RegExp(PASSWORD_LINE.source, 'g'))).toHaveLength(1);
    const password = PASSWORD_LINE.exec(first.stdout)?.[1] ?? '';
    expect(password.length).toBeGreaterThanOrEqual(12);
    expect(first.stderr).not.toContain(password);

    const firstTokens = await api.login(DEFAULT_ADMIN_EMAIL, password);
    const created = await api.post<ProjectBody>(
      '/projects',
      { name: 'survives-restarts' },
      { token: firstTokens.access_token },
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: expect.any(String), name: 'survives-restarts' });
    await expectShippedModelServing(api, firstTokens.access_token);
    // The embedded database is reached through a pool of one connection, idle between requests.
    const metrics = (await api.get('/metrics')).text;
    expect(metrics).toMatch(/^conflux_db_pool_size 1$/m);
    expect(metrics).toMatch(/^conflux_db_pool_idle 1$/m);
    expect(metrics).toMatch(/^conflux_db_pool_waiting 0$/m);

    expect(await first.stop('SIGTERM', STOP_TIMEOUT_MS)).toMatchObject({ code: 0, signal: null });

    // ---- second start on the same DATA_DIR
    const second = await ServerProcess.start({ env: await envFor() });
    await second.waitForLive(START_TIMEOUT_MS);
    const again = new Api(second.url);

    expect(second.stdout).not.toMatch(/generated password/);
    expect(second.stdout).not.toContain(password);

    // The access token signed before the restart still verifies: the generated JWT secret was kept.
    const me = await again.get('/auth/me', { token: firstTokens.access_token });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ email: DEFAULT_ADMIN_EMAIL, role: 'admin' });

    const secondTokens = await again.login(DEFAULT_ADMIN_EMAIL, password);
    const projects = await again.get<ProjectBody[]>('/projects', { token: secondTokens.access_token });
    expect(projects.status).toBe(200);
    expect(projects.body).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: created.body.id, name: 'survives-restarts' })]),
    );
    // Registered once: the second start finds it in the registry and serves it again.
    await expectShippedModelServing(again, secondTokens.access_token);

    expect(await second.stop('SIGTERM', STOP_TIMEOUT_MS)).toMatchObject({ code: 0, signal: null });
  }, 180_000);

  describe('bad configuration stops startup naming every bad key', () => {
    interface Outcome {
      exit: ExitResult | undefined;
      stdout: string;
      stderr: string;
      dataDirEntries: string[];
    }

    async function startWith(env: Record<string, string>): Promise<Outcome> {
      const dataDir = tempDataDir();
      const server = await ServerProcess.start({ env: minimalEnv({ DATA_DIR: dataDir, ...env }) });
      const exit = await server.waitForExit(CONFIG_EXIT_TIMEOUT_MS);
      return { exit, stdout: server.stdout, stderr: server.stderr, dataDirEntries: readdirSync(dataDir) };
    }

    function expectConfigFailure(outcome: Outcome, keys: readonly string[]): void {
      expect(outcome.exit).toMatchObject({ code: EX_CONFIG, signal: null });
      expect(outcome.stderr).toMatch(/Invalid configuration/);
      for (const key of keys) expect(outcome.stderr).toMatch(new RegExp(`^\\s*- ${key}:`, 'm'));
      expect(outcome.stderr).not.toMatch(/^\s+at /m);
      expect(outcome.stdout).not.toMatch(/Listening on/);
      // Nothing was started: no embedded database, no generated secret.
      expect(outcome.dataDirEntries).toEqual([]);
    }

    it('names PORT, JWT_ALGORITHM and LOG_LEVEL at once', async () => {
      const outcome = await startWith({ PORT: 'abc', JWT_ALGORITHM: 'XX', LOG_LEVEL: 'loud' });
      expectConfigFailure(outcome, ['PORT', 'JWT_ALGORITHM', 'LOG_LEVEL']);
    });

    it('requires DATABASE_URL and JWT_SECRET in production', async () => {
      const outcome = await startWith({ NODE_ENV: 'production', LOG_LEVEL: 'info' });
      expectConfigFailure(outcome, ['DATABASE_URL', 'JWT_SECRET']);
    });

    it('names a bad secret without echoing its value', async () => {
      const outcome = await startWith({ JWT_SECRET: 'short-secret-value', LOG_LEVEL: 'info' });
      expectConfigFailure(outcome, ['JWT_SECRET']);
      expect(outcome.stderr).not.toContain('short-secret-value');
      expect(outcome.stdout).not.toContain('short-secret-value');
    });

    it.each([
      [
        'a bad declaration',
        'providers:\n  - id: a\n    kind: nope\n    base_url: ftp://x\n',
        'providers\\[0\\]\\.kind',
      ],
      [
        'an unpriced hosted model',
        'providers:\n  - id: a\n    kind: openai\n    base_url: http://127.0.0.1:9/v1\n    models: [mystery]\n',
        'providers\\.a',
      ],
    ])('prints the errors of a providers file with %s once, without a stack', async (_label, text, path) => {
      const file = join(tempDataDir(), 'providers.yaml');
      writeFileSync(file, text);
      const outcome = await startWith({ PROVIDERS_FILE: file });
      expectConfigFailure(outcome, [`PROVIDERS_FILE ${path}`]);
      expect(outcome.stderr.match(/Invalid configuration/g)).toHaveLength(1);
      expect(outcome.stdout).not.toMatch(/Invalid configuration|ConfigError/);
    });
  });
});
