// HTTP overhead of the foundation: probes, API-key auth and JWT auth, through the
// real server on real Postgres and Redis. Prints figures; asserts nothing.
//
//   npm run bench:http
//   BENCH_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres BENCH_REDIS_URL=redis://127.0.0.1:6379 \
//   BENCH_SECONDS=5 npm run bench:http
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import autocannon from 'autocannon';
import pg from 'pg';

const ADMIN_URL = process.env.BENCH_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const DB = 'conflux_bench';
const ADMIN = { email: 'bench@conflux.local', password: 'bench-password-123' };

function freePort() {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function recreateDatabase() {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await client.query(`CREATE DATABASE ${DB}`);
  await client.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DB}`;
  return url.toString();
}

async function waitLive(base, child) {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${base}/health/live`)).ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}

async function json(base, path, body, headers = {}) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

function run(url, connections, headers) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration: SECONDS, headers }, (err, result) =>
      err ? reject(err) : resolve(result),
    );
  });
}

const databaseUrl = await recreateDatabase();
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const child = spawn(process.execPath, ['dist/src/main.js'], {
  env: {
    PATH: process.env.PATH,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    REDIS_KEY_PREFIX: `bench:${Date.now()}:`,
    JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
    ADMIN_EMAIL: ADMIN.email,
    ADMIN_PASSWORD: ADMIN.password,
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '100000000',
    RATE_LIMIT_PER_HOUR: '100000000',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
try {
  await waitLive(base, child);
  const { access_token } = await json(base, '/auth/login', ADMIN);
  const bearer = { authorization: `Bearer ${access_token}` };
  const project = await json(base, '/projects', { name: 'bench' }, bearer);
  const { key } = await json(base, `/projects/${project.id}/api-keys`, { name: 'bench' }, bearer);

  const cases = [
    ['GET /health/live', '/health/live', {}],
    ['GET /auth/me (X-API-Key)', '/auth/me', { 'x-api-key': key }],
    ['GET /auth/me (JWT)', '/auth/me', bearer],
  ];
  console.log(`node ${process.version}, ${SECONDS} s per run, server on ${base}`);
  console.log('case                          conns      rps   mean ms    p50 ms    p99 ms   non-2xx');
  for (const [name, path, headers] of cases) {
    for (const connections of [1, 50]) {
      const r = await run(`${base}${path}`, connections, headers);
      console.log(
        `${name.padEnd(30)}${String(connections).padStart(5)}${r.requests.average.toFixed(0).padStart(9)}` +
          `${r.latency.mean.toFixed(2).padStart(10)}${r.latency.p50.toFixed(2).padStart(10)}` +
          `${r.latency.p99.toFixed(2).padStart(10)}${String(r.non2xx).padStart(10)}`,
      );
    }
  }
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
  await client.end();
}
