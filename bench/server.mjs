// Shared by the benchmarks: a throwaway database and the built server on a free loopback port.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:net';
import autocannon from 'autocannon';
import Redis from 'ioredis';
import pg from 'pg';

export const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
export const ADMIN = { email: 'bench@conflux.local', password: 'bench-password-123' };
/** Extra node flags for the server, after those of start:prod so that they override them (e.g. --cpu-prof). */
export const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);

/**
 * The node flags and entry point of `npm run start:prod` (package.json), so that every
 * benchmark measures the server as it is run in production.
 */
export function productionCommand() {
  const script = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).scripts['start:prod'];
  const words = script.split(/\s+/).filter(Boolean);
  if (words[0] !== 'node') throw new Error(`start:prod does not start with node: ${script}`);
  return words.slice(1);
}

/** Deletes the Redis keys under `prefix` (a benchmark's own); says so, and goes on, when it cannot. */
export async function deleteRedisKeys(prefix) {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } catch (err) {
    console.error(`could not delete Redis keys ${prefix}*: ${err.message}`);
  } finally {
    redis.disconnect();
  }
}

/**
 * Writes `dir`/providers.json: one openai-kind instance `bench-openai` for `model` at the fake upstream
 * `upstream` (its origin), without retries, so that one request is one upstream call. Returns its path.
 */
export function writeProvidersFile(dir, upstream, model) {
  const path = join(dir, 'providers.json');
  const instance = {
    id: 'bench-openai',
    kind: 'openai',
    base_url: `${upstream}/v1`,
    models: [model],
    timeout_ms: 10_000,
    retry: { max_attempts: 1, base_delay_ms: 0, max_delay_ms: 0 },
  };
  writeFileSync(path, JSON.stringify({ providers: [instance] }));
  return path;
}

/** CPU seconds (user + system, all threads) a process has used so far; NaN where /proc is missing. */
export function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in USER_HZ (100 on Linux)
  } catch {
    return NaN;
  }
}

/** Monotonic microseconds: the clock of V8's CPU profile timestamps. */
export const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

/**
 * One autocannon run of POSTs. Latency is taken from autocannon's 'response' event (hrtime, float ms) of
 * the 2xx answers, not from its histogram, which records whole milliseconds only — too coarse for
 * sub-millisecond overheads at 1 connection. Returns { rps, mean, p50, p99 (ms), ok, non2xx, errors,
 * timeouts, failures, requests, window: [start, end] (monotonic µs), cpuPerRequestUs (the answering
 * server's CPU, all its threads, per request) }.
 */
export function drivePosts(url, connections, seconds, headers, body, serverPid) {
  return new Promise((resolve, reject) => {
    let lat = new Float64Array(1 << 16);
    let n = 0;
    const startedUs = monotonicUs();
    const cpuBefore = cpuSeconds(serverPid);
    const instance = autocannon({ url, method: 'POST', connections, duration: seconds, headers, body }, (err, r) => {
      if (err) return reject(err);
      const sorted = lat.subarray(0, n).sort();
      let sum = 0;
      for (let i = 0; i < n; i++) sum += sorted[i];
      const pct = (p) => (n === 0 ? NaN : sorted[Math.min(n - 1, Math.floor((p / 100) * n))]);
      resolve({
        rps: r.requests.total / r.duration,
        mean: n === 0 ? NaN : sum / n,
        p50: pct(50),
        p99: pct(99),
        ok: r['2xx'],
        non2xx: r.non2xx,
        errors: r.errors,
        timeouts: r.timeouts,
        failures: r.non2xx + r.errors + r.timeouts,
        requests: r.requests.total,
        window: [startedUs, monotonicUs()],
        cpuPerRequestUs: (1e6 * (cpuSeconds(serverPid) - cpuBefore)) / r.requests.total,
      });
    });
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status < 200 || status >= 300) return;
      if (n === lat.length) {
        const grown = new Float64Array(lat.length * 2);
        grown.set(lat);
        lat = grown;
      }
      lat[n++] = ms;
    });
  });
}

/** The server's node arguments: start:prod's flags, NODE_ARGS, then `extra`, then the entry point. */
export function serverArgs(extra = []) {
  const command = productionCommand();
  return [...command.slice(0, -1), ...NODE_ARGS, ...extra, command.at(-1)];
}

export function freePort() {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function adminQuery(sql) {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function waitLive(base, child) {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${base}/health/ready`)).ok) return; // live answers while it waits for Postgres
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}

export async function postJson(base, path, body, headers = {}) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** autocannon for SECONDS against one URL. */
export function load(url, connections, options = {}) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration: SECONDS, ...options }, (err, result) =>
      err ? reject(err) : resolve(result),
    );
  });
}

/**
 * Starts the built server (as start:prod does) on a fresh database `<name>_<pid>` with rate limits out of the way,
 * signs in the admin and issues an API key. Returns { base, key, bearer, projectId, stop, pid }; stop() also drops
 * the database and deletes the server's Redis keys. NODE_ARGS, then `nodeArgs`, follow start:prod's node flags.
 */
export async function startServer(name, env = {}, { nodeArgs = [] } = {}) {
  // This run's own database (pid): runs at the same time on one Postgres never drop each other's.
  const db = `${name}_${process.pid}`;
  await adminQuery(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await adminQuery(`CREATE DATABASE ${db}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${db}`;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const redisPrefix = `bench:${db}:${Date.now()}:`;
  const child = spawn(process.execPath, serverArgs(nodeArgs), {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: url.toString(),
      REDIS_URL,
      REDIS_KEY_PREFIX: redisPrefix,
      JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '100000000',
      RATE_LIMIT_PER_HOUR: '100000000',
      ...env,
    },
    // BENCH_SERVER_STDOUT=1 shows the server's stdout (e.g. with BENCH_NODE_ARGS=--trace-gc).
    stdio: ['ignore', process.env.BENCH_SERVER_STDOUT ? 'inherit' : 'ignore', 'inherit'],
  });
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await adminQuery(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await deleteRedisKeys(redisPrefix);
  };
  try {
    await waitLive(base, child);
    const { access_token } = await postJson(base, '/auth/login', ADMIN);
    const bearer = { authorization: `Bearer ${access_token}` };
    const project = await postJson(base, '/projects', { name: 'bench' }, bearer);
    const { key } = await postJson(base, `/projects/${project.id}/api-keys`, { name: 'bench' }, bearer);
    return { base, key, bearer, projectId: project.id, stop, pid: child.pid };
  } catch (error) {
    await stop();
    throw error;
  }
}
