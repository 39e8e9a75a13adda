import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, readFileSync, readdirSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Client } from 'pg';

/** Environment variables through which global setup tells test workers where the services are. */
export const TEST_ENV = {
  pgAdminUrl: 'CONFLUX_TEST_PG_ADMIN_URL',
  pgTemplate: 'CONFLUX_TEST_PG_TEMPLATE',
  redisUrl: 'CONFLUX_TEST_REDIS_URL',
} as const;

export const TEMPLATE_PREFIX = 'conflux_template_';
const TEST_DATABASE_PREFIX = 'conflux_test_';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** A started child process that can be stopped politely, or killed synchronously from an 'exit' hook. */
export interface ManagedProcess {
  stop(): Promise<void>;
  killNow(): void;
}

// ---------------------------------------------------------------- worker-facing helpers

/** A fresh database cloned from the migrated template; `drop()` removes it. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = requiredEnv(TEST_ENV.pgAdminUrl);
  const template = requiredEnv(TEST_ENV.pgTemplate);
  const name = `${testDatabasePrefix(template)}${randomHex(6)}`;
  await withClient(adminUrl, (client) => cloneTemplate(client, name, template));
  return { name, url: databaseUrl(adminUrl, name), drop: () => dropDatabase(adminUrl, name) };
}

/** The Redis shared by every test file; isolate keys with `uniqueRedisPrefix()`. */
export function testRedisUrl(): string {
  return requiredEnv(TEST_ENV.redisUrl);
}

/** A key prefix no other test file uses, e.g. `t:3f9a0c1b2d4e:`. */
export function uniqueRedisPrefix(): string {
  return `t:${randomHex(6)}:`;
}

/** Deletes a test's keys (under its prefix) and closes its connection. */
export async function dropRedisPrefix(
  redis: { keys(p: string): Promise<string[]>; del(...k: string[]): Promise<number>; quit(): Promise<unknown> },
  prefix: string,
): Promise<void> {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
}

/**
 * A dedicated redis-server that a test may stop and start again on the same port.
 * Call `stop()` in `afterAll`; one left running dies with the test process anyway
 * (`setpriv --pdeathsig`).
 */
export async function startRedisServer(): Promise<RedisServer> {
  const binary = requireRedisBinary();
  const { port, process: first } = await launchRedisOnFreePort(binary);
  let running: ManagedProcess | undefined = first;
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start(): Promise<void> {
      running ??= await launchRedis(binary, port);
    },
    async stop(): Promise<void> {
      const current = running;
      running = undefined;
      await current?.stop();
    },
  };
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port was assigned'))));
    });
  });
}

// ---------------------------------------------------------------- PostgreSQL helpers

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `url` pointing at database `name` instead, keeping credentials and parameters. */
export function databaseUrl(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(name)}`;
  return parsed.toString();
}

/** Names of the databases cloned for one template start with this. */
export function testDatabasePrefix(template: string): string {
  return `${TEST_DATABASE_PREFIX}${template.replace(TEMPLATE_PREFIX, '')}_`;
}

export async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Disconnects every session of database `name` (so it can be cloned or dropped). */
export async function terminateConnections(client: Client, name: string): Promise<void> {
  await client.query(
    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [name],
  );
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withClient(adminUrl, async (client) => {
    await terminateConnections(client, name);
    const force = (await serverVersion(client)) >= 130_000 ? ' WITH (FORCE)' : '';
    await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}${force}`);
  });
}

async function serverVersion(client: Client): Promise<number> {
  const result = await client.query<{ server_version_num: string }>('SHOW server_version_num');
  return Number(result.rows[0]?.server_version_num ?? 0);
}

async function cloneTemplate(client: Client, name: string, template: string): Promise<void> {
  const sql = `CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(template)}`;
  for (let attempt = 1; ; attempt += 1) {
    try {
      await client.query(sql);
      return;
    } catch (error: unknown) {
      if (attempt >= 20 || !isTemplateBusy(error)) throw error;
      await delay(50 * attempt);
    }
  }
}

function isTemplateBusy(error: unknown): boolean {
  return error instanceof Error && /being accessed by other users/.test(error.message);
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: run the tests through jest, whose global setup (test/support/global-setup.ts) starts the services.`,
    );
  }
  return value;
}

// ---------------------------------------------------------------- executables

/** First directory (PATH, then `extraDirs`) holding every one of `names` as an executable. */
export function findExecutableDir(names: readonly string[], extraDirs: readonly string[] = []): string | undefined {
  const pathDirs = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '');
  return [...pathDirs, ...extraDirs].find((dir) => names.every((name) => isExecutable(join(dir, name))));
}

export function findExecutable(name: string, extraDirs: readonly string[] = []): string | undefined {
  const dir = findExecutableDir([name], extraDirs);
  return dir === undefined ? undefined : join(dir, name);
}

/** `/usr/lib/postgresql/<version>/bin`, newest version first. */
export function debianPostgresBinDirs(): string[] {
  const root = '/usr/lib/postgresql';
  let versions: string[];
  try {
    versions = readdirSync(root);
  } catch {
    return [];
  }
  return versions
    .filter((version) => /^\d+(\.\d+)?$/.test(version))
    .sort((a, b) => Number(b) - Number(a))
    .map((version) => join(root, version, 'bin'));
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function requireRedisBinary(): string {
  const binary = findExecutable('redis-server', ['/usr/bin', '/usr/sbin', '/usr/local/bin']);
  if (binary === undefined) {
    throw new Error(
      'redis-server was not found on PATH: install the Debian package `redis-server` ' +
        '(apt-get install -y redis-server), or set TEST_REDIS_URL to a Redis the tests may use.',
    );
  }
  return binary;
}

// ---------------------------------------------------------------- processes

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` until it returns true or `timeoutMs` passes; false on timeout. */
export async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return true;
    await delay(intervalMs);
  }
  return false;
}

export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Resolves true once `child` has exited, false after `timeoutMs`. */
export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Sends `signal` to `pid`, ignoring a process that is already gone. */
export function signal(pid: number | undefined, name: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** Whether `pid` is running (a zombie waiting to be reaped counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** Blocks (for 'exit' hooks, where nothing asynchronous runs) until `pid` is gone or `timeoutMs` passes. */
export function waitForPidSync(pid: number, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  while (isAlive(pid) && Date.now() < deadline) Atomics.wait(sleeper, 0, 0, 20);
}

export function removeDirSync(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  } catch {
    // best effort in an 'exit' hook
  }
}

/** Last lines of a log file, for error messages. */
export async function logTail(path: string, lines = 20): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-lines).join('\n');
}

/**
 * Wraps a command so that the kernel kills it if the spawning process dies
 * (`setpriv --pdeathsig`), when util-linux's setpriv is available.
 */
function dieWithParent(command: string, args: readonly string[]): [string, string[]] {
  const setpriv = findExecutable('setpriv', ['/usr/bin', '/bin']);
  return setpriv === undefined ? [command, [...args]] : [setpriv, ['--pdeathsig', 'SIGKILL', '--', command, ...args]];
}

// ---------------------------------------------------------------- Redis

/**
 * Whether the Redis at a redis:// URL answers PING (after AUTH when the URL has a
 * password). Speaks RESP over a plain socket: an ioredis client that fails to
 * connect keeps its process alive for a while, which slows down polling and exit.
 */
export function redisAnswersPing(url: string, timeoutMs = 1_000): Promise<boolean> {
  const { hostname, port, username, password } = new URL(url);
  const auth = password ? [['AUTH', ...(username ? [username] : []), password].map(decodeURIComponent)] : [];
  const request = [...auth, ['PING']].map(respCommand).join('');
  return new Promise((resolve) => {
    const socket = connect(Number(port || 6379), hostname || '127.0.0.1');
    let received = '';
    const finish = (answered: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answered);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (/^-/m.test(received)) finish(false);
      else if (received.endsWith('+PONG\r\n')) finish(true);
    });
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}

function respCommand(parts: readonly string[]): string {
  return `*${parts.length}\r\n${parts.map((part) => `$${Buffer.byteLength(part)}\r\n${part}\r\n`).join('')}`;
}

/** Starts redis-server on a free port, retrying with another port if it was taken meanwhile. */
export async function launchRedisOnFreePort(
  binary = requireRedisBinary(),
): Promise<{ port: number; process: ManagedProcess }> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    try {
      return { port, process: await launchRedis(binary, port) };
    } catch (error: unknown) {
      if (attempt >= 3) throw error;
    }
  }
}

/** Starts redis-server on `port` without persistence, in its own temp dir; resolves once it answers PING. */
async function launchRedis(binary: string, port: number): Promise<ManagedProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'conflux-redis-'));
  const logFile = join(dir, 'redis.log');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const [command, commandArgs] = dieWithParent(binary, [...args, '--dir', dir, '--logfile', logFile]);
  const child = spawn(command, commandArgs, { cwd: dir, stdio: 'ignore', detached: true });
  child.unref();
  const managed = redisProcess(child, dir);
  const url = `redis://127.0.0.1:${port}`;
  const ready = await waitUntil(async () => hasExited(child) || (await redisAnswersPing(url)), 10_000);
  if (ready && !hasExited(child)) return managed;
  const log = await logTail(logFile);
  await managed.stop();
  throw new Error(
    `redis-server on port ${port} did not start (${ready ? 'it exited' : 'no PING answer in 10 s'}):\n${log}`,
  );
}

function redisProcess(child: ChildProcess, dir: string): ManagedProcess {
  return {
    async stop(): Promise<void> {
      signal(child.pid, 'SIGTERM');
      if (!(await waitForExit(child, 5_000))) {
        signal(child.pid, 'SIGKILL');
        await waitForExit(child, 5_000);
      }
      await rm(dir, { recursive: true, force: true });
    },
    killNow(): void {
      signal(child.pid, 'SIGKILL');
      if (child.pid !== undefined) waitForPidSync(child.pid, 2_000);
      removeDirSync(dir);
    },
  };
}
