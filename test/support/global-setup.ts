import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { migrateDatabase } from '../../src/database/migrator';
import {
  TEMPLATE_PREFIX,
  TEST_ENV,
  databaseUrl,
  debianPostgresBinDirs,
  dropDatabase,
  findExecutable,
  findExecutableDir,
  freePort,
  hasExited,
  launchRedisOnFreePort,
  logTail,
  quoteIdent,
  randomHex,
  redisAnswersPing,
  removeDirSync,
  signal,
  terminateConnections,
  testDatabasePrefix,
  waitForExit,
  waitForPidSync,
  waitUntil,
  withClient,
  type ManagedProcess,
} from './services';

const execFileAsync = promisify(execFile);

const PG_READY_TIMEOUT_MS = 30_000;
export const PG_SERVER_SETTINGS = [
  'listen_addresses=127.0.0.1',
  'fsync=off',
  'synchronous_commit=off',
  'full_page_writes=off',
  'max_connections=300',
];

interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

/** How to run a PostgreSQL binary: directly, or as the `postgres` OS user when we are root. */
export interface PostgresRunner {
  wrap(binary: string, args: readonly string[]): [string, string[]];
  owner?: { uid: number; gid: number };
}

/** Everything global setup started, in start order; kept on globalThis for the teardown module. */
interface HarnessState {
  resources: ManagedProcess[];
  exitHookInstalled: boolean;
}

const STATE_KEY = Symbol.for('conflux.test.harness');
type HarnessGlobal = typeof globalThis & { [STATE_KEY]?: HarnessState };

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  installExitHook();
  try {
    const adminUrl = process.env.TEST_DATABASE_URL || (await startPostgres());
    const template = await createTemplate(adminUrl, Boolean(process.env.TEST_DATABASE_URL));
    const redisUrl = process.env.TEST_REDIS_URL || (await startRedis());
    await assertRedisAnswers(redisUrl);
    process.env[TEST_ENV.pgAdminUrl] = adminUrl;
    process.env[TEST_ENV.pgTemplate] = template;
    process.env[TEST_ENV.redisUrl] = redisUrl;
  } catch (error: unknown) {
    await releaseHarness();
    throw error;
  }
  if (process.env.CONFLUX_TEST_VERBOSE) console.log(`\ntest services ready in ${Date.now() - started} ms`);
}

/** Stops everything global setup started, newest first. Safe to call twice. */
export async function releaseHarness(): Promise<void> {
  const state = harnessState();
  const errors: unknown[] = [];
  for (let resource = state.resources.at(-1); resource !== undefined; resource = state.resources.at(-1)) {
    await resource.stop().catch((error: unknown) => errors.push(error));
    state.resources.pop(); // only once stopped, so that the 'exit' hook still sees a resource that hangs
  }
  if (errors.length > 0) throw new AggregateError(errors, 'test services did not stop cleanly');
}

function harnessState(): HarnessState {
  const holder = globalThis as HarnessGlobal;
  holder[STATE_KEY] ??= { resources: [], exitHookInstalled: false };
  return holder[STATE_KEY];
}

function track(resource: ManagedProcess): void {
  harnessState().resources.push(resource);
}

/**
 * If jest exits without running the teardown, or is stopped by a signal (Ctrl-C
 * ends it without an 'exit' event), still leave no server running.
 */
function installExitHook(): void {
  const state = harnessState();
  if (state.exitHookInstalled) return;
  state.exitHookInstalled = true;
  const killAll = (): void => {
    for (const resource of state.resources.splice(0).reverse()) resource.killNow();
  };
  process.once('exit', killAll);
  for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(name, () => {
      killAll();
      if (process.listenerCount(name) === 0) process.kill(process.pid, name); // then die as the signal meant
    });
  }
}

// ---------------------------------------------------------------- template database

async function createTemplate(adminUrl: string, external: boolean): Promise<string> {
  const name = `${TEMPLATE_PREFIX}${randomHex(4)}`;
  await withClient(adminUrl, (client) => client.query(`CREATE DATABASE ${quoteIdent(name)}`));
  if (external) track(externalDatabasesCleanup(adminUrl, name));
  await migrateDatabase(databaseUrl(adminUrl, name));
  await withClient(adminUrl, (client) => terminateConnections(client, name));
  return name;
}

/** On a server we do not own, drop the template and any test database a spec forgot to drop. */
function externalDatabasesCleanup(adminUrl: string, template: string): ManagedProcess {
  return {
    async stop(): Promise<void> {
      const leftovers = await withClient(adminUrl, async (client) => {
        const result = await client.query<{ datname: string }>(
          'SELECT datname FROM pg_database WHERE starts_with(datname, $1)',
          [testDatabasePrefix(template)],
        );
        return result.rows.map((row) => row.datname);
      });
      for (const name of [...leftovers, template]) await dropDatabase(adminUrl, name);
    },
    killNow(): void {
      // nothing synchronous to do: the databases outlive a crashed run
    },
  };
}

// ---------------------------------------------------------------- PostgreSQL

async function startPostgres(): Promise<string> {
  const binaries = findPostgresBinaries();
  const runner = await postgresRunner();
  const dir = await mkdtemp(join(tmpdir(), 'conflux-pg-'));
  track(tempDir(dir));
  if (runner.owner) await chown(dir, runner.owner.uid, runner.owner.gid);
  await initdb(binaries.initdb, runner, dir);
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    try {
      return await launchPostgres(binaries.postgres, runner, dir, port);
    } catch (error: unknown) {
      if (attempt >= 3) throw error;
    }
  }
}

export function findPostgresBinaries(): PostgresBinaries {
  const dir = findExecutableDir(['initdb', 'postgres'], debianPostgresBinDirs());
  if (dir === undefined) {
    throw new Error(
      'PostgreSQL for the tests: initdb and postgres were found neither on PATH nor in /usr/lib/postgresql/*/bin. ' +
        'Install the Debian package `postgresql` (apt-get install -y postgresql), or set TEST_DATABASE_URL to an ' +
        'admin URL of a server where the tests may create databases (e.g. postgres://postgres@127.0.0.1:5432/postgres).',
    );
  }
  return { initdb: join(dir, 'initdb'), postgres: join(dir, 'postgres') };
}

/** PostgreSQL refuses to run as root: then run it as the `postgres` OS user through runuser. */
export async function postgresRunner(): Promise<PostgresRunner> {
  if (process.getuid?.() !== 0) return { wrap: (binary, args) => [binary, [...args]] };
  const runuser = findExecutable('runuser', ['/usr/sbin', '/sbin', '/usr/bin', '/bin']);
  if (runuser === undefined)
    throw new Error('running as root, but runuser (util-linux) was not found to drop to `postgres`.');
  const owner = await osUser('postgres');
  return { owner, wrap: (binary, args) => [runuser, ['-u', 'postgres', '--', binary, ...args]] };
}

async function osUser(name: string): Promise<{ uid: number; gid: number }> {
  try {
    const [uid, gid] = await Promise.all(['-u', '-g'].map((flag) => execFileAsync('id', [flag, name])));
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    throw new Error(
      `running as root, but there is no \`${name}\` OS user to run PostgreSQL as: install the Debian package ` +
        '`postgresql` (apt-get install -y postgresql), or set TEST_DATABASE_URL.',
    );
  }
}

export async function initdb(binary: string, runner: PostgresRunner, dir: string): Promise<void> {
  const args = ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C'];
  const [command, commandArgs] = runner.wrap(binary, args);
  try {
    await execFileAsync(command, commandArgs, { cwd: dir, timeout: 60_000 });
  } catch (error: unknown) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new Error(`initdb failed in ${dir}: ${detail}`);
  }
}

async function launchPostgres(binary: string, runner: PostgresRunner, dir: string, port: number): Promise<string> {
  const logFile = join(dir, `postgres-${port}.log`);
  const args = [
    '-D',
    join(dir, 'data'),
    '-p',
    String(port),
    '-k',
    dir,
    ...PG_SERVER_SETTINGS.flatMap((s) => ['-c', s]),
  ];
  const [command, commandArgs] = runner.wrap(binary, args);
  const logFd = openSync(logFile, 'a');
  const child = spawn(command, commandArgs, { cwd: dir, stdio: ['ignore', logFd, logFd], detached: true });
  closeSync(logFd);
  child.unref();
  const server = postgresProcess(child, join(dir, 'data'));
  track(server);
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const ready = await waitUntil(
    async () => hasExited(child) || (await acceptsConnections(adminUrl)),
    PG_READY_TIMEOUT_MS,
  );
  if (ready && !hasExited(child)) return adminUrl;
  const log = await logTail(logFile);
  await server.stop();
  const reason = ready ? 'it exited' : `it did not accept connections within ${PG_READY_TIMEOUT_MS / 1000} s`;
  throw new Error(`PostgreSQL on port ${port} did not start (${reason}). Log ${logFile}:\n${log}`);
}

async function acceptsConnections(url: string): Promise<boolean> {
  try {
    await withClient(url, (client) => client.query('SELECT 1'));
    return true;
  } catch {
    return false;
  }
}

/** The postmaster's pid: the child itself, or its grandchild when started through runuser. */
function postmasterPid(child: ChildProcess, dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : child.pid;
  } catch {
    return child.pid;
  }
}

/**
 * Stops with SIGINT (fast shutdown) sent to the postmaster itself: runuser ignores
 * SIGINT, and turns SIGTERM into SIGTERM (smart shutdown), a 2 s wait and SIGKILL.
 */
function postgresProcess(child: ChildProcess, dataDir: string): ManagedProcess {
  return {
    async stop(): Promise<void> {
      const pid = postmasterPid(child, dataDir);
      for (const [name, waitMs] of [
        ['SIGINT', 15_000],
        ['SIGQUIT', 5_000],
        ['SIGKILL', 5_000],
      ] as const) {
        if (hasExited(child)) return;
        signal(pid, name);
        if (name === 'SIGKILL') signal(child.pid, name);
        if (await waitForExit(child, waitMs)) return;
      }
    },
    killNow(): void {
      const pid = postmasterPid(child, dataDir);
      if (hasExited(child) || pid === undefined) return;
      signal(pid, 'SIGQUIT');
      waitForPidSync(pid, 3_000);
    },
  };
}

function tempDir(dir: string): ManagedProcess {
  return {
    stop: () => rm(dir, { recursive: true, force: true, maxRetries: 3 }),
    killNow: () => removeDirSync(dir),
  };
}

// ---------------------------------------------------------------- Redis

/** Fails early on an unusable TEST_REDIS_URL (rediss:// is left to the tests: the probe speaks plain TCP). */
async function assertRedisAnswers(url: string): Promise<void> {
  if (new URL(url).protocol === 'redis:' && !(await redisAnswersPing(url, 5_000))) {
    throw new Error(
      `Redis at ${url} does not answer PING: check TEST_REDIS_URL, or unset it to start a throwaway redis-server.`,
    );
  }
}

async function startRedis(): Promise<string> {
  const { port, process: redis } = await launchRedisOnFreePort();
  track(redis);
  return `redis://127.0.0.1:${port}`;
}
