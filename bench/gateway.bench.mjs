// Gateway overhead: POST /v1/chat/completions straight to a fast fake OpenAI upstream (A)
// versus through Conflux with API-key auth, rate limits and quotas (Redis), the usage
// ledger (Redis stream → Postgres) and metrics all on (B), alternating A B A B A B at
// 1 and 50 connections. Also a bare NestJS app forwarding to the same upstream (the
// floor of the fixed shape: what NestJS on Express and one undici call cost before
// Conflux does anything; BENCH_FLOOR=0 skips it). Prints figures; asserts nothing.
// Loopback only.
//
//   npm run bench:gateway
//   BENCH_SECONDS=5 npm run bench:gateway          # shorter runs (default 10 s each)
//   BENCH_PROFILE=1 npm run bench:gateway          # also CPU-profile Conflux (node --cpu-prof)
//   BENCH_BASELINE=/path/to/other/checkout npm run bench:gateway
//       # also runs that checkout's build (its dist/, built beforehand) as a fourth target,
//       # 'baseline', with its own database and Redis prefix, in the same alternating rounds:
//       # a paired before/after comparison that machine noise affects alike
//
// Environment: BENCH_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres; the
// database conflux_gateway_bench_<pid> is created and dropped), BENCH_REDIS_URL (default
// redis://127.0.0.1:6379; keys live under a unique prefix, deleted afterwards),
// BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (2), BENCH_CONNECTIONS (1,50), BENCH_ROUNDS (3), BENCH_PROFILE,
// BENCH_BASELINE, BENCH_NODE_ARGS (extra node flags for Conflux, after those of `npm run start:prod`).
//
// The same file also runs the fake upstream in its own process (`--fake-upstream`), so it
// never shares an event loop with the load generator, and summarises a .cpuprofile on its
// own (`node bench/gateway.bench.mjs --summarise-profile <file>`).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { completionBody, modelsBody, serveToParent } from './fake-openai.mjs';
import { summariseProfile } from './profile.mjs';

const SELF = fileURLToPath(import.meta.url);
const ROOT = join(dirname(SELF), '..');
const MODEL = 'gpt-4o-mini';
/** Usage reported by the fake upstream for every completion. */
const FAKE_USAGE = { prompt_tokens: 12, completion_tokens: 6 };

const mode = process.argv[2];
if (mode === '--fake-upstream') runFakeUpstream();
else if (mode === '--nest-floor') await runNestFloor(process.argv[3]);
else if (mode === '--summarise-profile') summariseProfile(process.argv[3]);
else await main();

// ====================================================================== fake upstream (child)

/**
 * A minimal OpenAI-compatible upstream: answers every POST /v1/chat/completions with the
 * same pre-rendered chat.completion (fixed usage) and GET /v1/models with the model list,
 * on keep-alive connections. Reports its port to the parent over IPC; exits on SIGTERM.
 */
function runFakeUpstream() {
  const completion = completionBody(MODEL, FAKE_USAGE);
  const models = modelsBody(MODEL);
  const headersFor = (body) => ({ 'content-type': 'application/json', 'content-length': body.length });
  const completionHeaders = headersFor(completion);
  const modelsHeaders = headersFor(models);

  serveToParent((req, res) => {
    // Read the request body away (needed for keep-alive), then answer from the buffers.
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/chat/completions')
        res.writeHead(200, completionHeaders).end(completion);
      else if (req.method === 'GET' && req.url === '/v1/models') res.writeHead(200, modelsHeaders).end(models);
      else res.writeHead(404).end();
    });
  });
}

// ====================================================================== the bare NestJS floor (child)

/**
 * What the fixed shape costs before Conflux does anything: a bare NestJS app on
 * @nestjs/platform-express (JSON body parser, one controller, no guards, no logging, no
 * metrics) whose POST /v1/chat/completions forwards the body to the fake upstream with
 * an undici Pool and answers the upstream's JSON. Reports its port over IPC.
 */
async function runNestFloor(upstream) {
  await import('reflect-metadata');
  const { NestFactory } = await import('@nestjs/core');
  const { Body, Controller, HttpCode, Module, Post, Res } = await import('@nestjs/common');
  const { Pool } = await import('undici');
  const pool = new Pool(upstream, { keepAliveTimeout: 120_000 });

  class FloorController {
    async completions(body, res) {
      const answer = await pool.request({
        path: '/v1/chat/completions',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      res.status(200).json(await answer.body.json());
    }
  }
  const method = Object.getOwnPropertyDescriptor(FloorController.prototype, 'completions');
  Reflect.decorate([Post('chat/completions'), HttpCode(200)], FloorController.prototype, 'completions', method);
  Body()(FloorController.prototype, 'completions', 0);
  Res()(FloorController.prototype, 'completions', 1);
  Reflect.decorate([Controller('v1')], FloorController);
  class FloorModule {}
  Reflect.decorate([Module({ controllers: [FloorController] })], FloorModule);

  const app = await NestFactory.create(FloorModule, { logger: false });
  app.getHttpAdapter().getInstance().set('etag', false);
  await app.listen(0, '127.0.0.1');
  process.send({ port: app.getHttpServer().address().port });
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
  process.on('disconnect', () => process.exit(0));
}

// ====================================================================== the benchmark (parent)

async function main() {
  const { default: pg } = await import('pg');
  const {
    ADMIN,
    ADMIN_URL,
    deleteRedisKeys,
    drivePosts,
    freePort,
    NODE_ARGS,
    REDIS_URL,
    serverArgs,
    writeProvidersFile,
  } = await import('./server.mjs');

  const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
  const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? Math.min(2, SECONDS));
  const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '1,50').split(',').map(Number);
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
  const PROFILE = process.env.BENCH_PROFILE === '1';
  /** Also measure the bare NestJS floor (see runNestFloor). */
  const FLOOR = process.env.BENCH_FLOOR !== '0';
  /** Named after this run (pid), so that runs at the same time on one Postgres never drop each other's. */
  const DB = `conflux_gateway_bench_${process.pid}`;
  /** Another checkout whose build runs as the 'baseline' target (see the header). */
  const BASELINE = process.env.BENCH_BASELINE || null;
  const REDIS_PREFIX = `bench-gw:${Date.now()}:`;
  const TARGETS = { addedMeanMsAt1: 0.5, rpsRatioAt50: 0.2 };

  const work = mkdtempSync(join(tmpdir(), 'conflux-gw-bench-'));
  const profileDir = PROFILE ? mkdtempSync(join(tmpdir(), 'conflux-gw-prof-')) : null;
  const children = [];
  const databasesCreated = [];
  let cleanedUp = false;

  // ------------------------------------------------------------------ helpers

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  async function withPg(fn, url = ADMIN_URL) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }

  async function recreateDatabase(name) {
    await withPg(async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.query(`CREATE DATABASE ${name}`);
    });
    databasesCreated.push(name);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    return url.toString();
  }

  /** Spawns a child and remembers it for the cleanup. */
  function start(name, args, options) {
    const child = spawn(process.execPath, args, options);
    child.benchName = name;
    children.push(child);
    return child;
  }

  /** SIGTERM, then wait (SIGKILL after `graceMs`). */
  async function stop(child, graceMs = 30_000) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => {
      console.error(`${child.benchName} did not stop in ${graceMs} ms: SIGKILL`);
      child.kill('SIGKILL');
    }, graceMs);
    await exited;
    clearTimeout(timer);
  }

  async function startFakeUpstream() {
    const child = start('fake upstream', [SELF, '--fake-upstream'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const port = await new Promise((resolve, reject) => {
      child.once('message', (m) => resolve(m.port));
      child.once('exit', (code) => reject(new Error(`fake upstream exited with ${code}`)));
    });
    return { url: `http://127.0.0.1:${port}`, pid: child.pid };
  }

  async function startNestFloor(upstream) {
    const child = start('nest floor', [SELF, '--nest-floor', upstream], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const port = await new Promise((resolve, reject) => {
      child.once('message', (m) => resolve(m.port));
      child.once('exit', (code) => reject(new Error(`nest floor exited with ${code}`)));
    });
    return { url: `http://127.0.0.1:${port}`, pid: child.pid };
  }

  /** Warnings and errors Conflux logs (LOG_LEVEL=warn), kept for the end of the report. */
  const serverLog = [];

  async function startConflux(env, root = ROOT) {
    const port = await freePort();
    const profiled = profileDir && root === ROOT;
    const profiling = profiled ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    const child = start(root === ROOT ? 'conflux' : 'baseline conflux', serverArgs(profiling), {
      cwd: root,
      env: { PATH: process.env.PATH, PORT: String(port), HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop();
      serverLog.push(...lines.filter(Boolean));
    });
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 600; i++) {
      if (child.exitCode !== null) throw new Error(`Conflux exited with ${child.exitCode}:\n${serverLog.join('\n')}`);
      try {
        if ((await fetch(`${base}/health/ready`)).ok) return { child, base }; // live answers while it waits for Postgres
      } catch {
        /* not listening yet */
      }
      await sleep(100);
    }
    throw new Error('Conflux did not start within 60 s');
  }

  async function call(base, method, path, body, headers = {}) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return { res, body: await res.json() };
  }

  /** Answers to POST /v1/chat/completions per status code, from Conflux's own /metrics. */
  async function serverCompletionCounts(base) {
    const text = await (await fetch(`${base}/metrics`)).text();
    const counts = {};
    for (const line of text.split('\n')) {
      const m = /^http_requests_total\{([^}]*)\} (\d+)/.exec(line);
      if (!m) continue;
      const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
      if (labels.method === 'POST' && labels.route === '/v1/chat/completions') counts[labels.status] = Number(m[2]);
    }
    return counts;
  }

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const f = (x, digits = 3, width = 9) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a').padStart(width);
  const verdict = (ok) => (ok ? 'MET' : 'MISSED');

  async function cleanup() {
    if (cleanedUp) return;
    cleanedUp = true;
    for (const child of [...children].reverse()) await stop(child).catch(() => undefined);
    for (const name of databasesCreated) {
      await withPg((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch((err) =>
        console.error(`could not drop ${name}: ${err.message}`),
      );
    }
    await deleteRedisKeys(REDIS_PREFIX);
    rmSync(work, { recursive: true, force: true });
  }
  process.once('SIGINT', () => {
    console.error('\ninterrupted: cleaning up');
    void cleanup().finally(() => process.exit(130));
  });

  // ------------------------------------------------------------------ setup

  try {
    const databaseUrl = await recreateDatabase(DB);
    const { url: upstream, pid: upstreamPid } = await startFakeUpstream();

    const providersFile = writeProvidersFile(work, upstream, MODEL);

    /** A Conflux built in `root`, with a project, an API key and a daily budget of its own. */
    async function prepareConflux(root, url, redisPrefix) {
      const { base, child } = await startConflux(
        {
          DATABASE_URL: url,
          REDIS_URL,
          REDIS_KEY_PREFIX: redisPrefix,
          JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
          ADMIN_EMAIL: ADMIN.email,
          ADMIN_PASSWORD: ADMIN.password,
          LOG_LEVEL: 'warn',
          RATE_LIMIT_PER_MINUTE: '1000000000',
          RATE_LIMIT_PER_HOUR: '1000000000',
          PROVIDERS_FILE: providersFile,
        },
        root,
      );
      const { body: tokens } = await call(base, 'POST', '/auth/login', ADMIN);
      const bearer = { authorization: `Bearer ${tokens.access_token}` };
      const { body: project } = await call(base, 'POST', '/projects', { name: 'gateway-bench' }, bearer);
      const { body: key } = await call(base, 'POST', `/projects/${project.id}/api-keys`, { name: 'bench' }, bearer);
      // A generous daily budget, so that reserve/settle really check a limit; rpm/tpm stay unlimited.
      const { body: quota } = await call(base, 'PUT', `/projects/${project.id}/quota`, { daily_credits: 1e9 }, bearer);
      const headers = { 'content-type': 'application/json', 'x-api-key': key.key };
      return { base, child, headers, quota };
    }

    const { base, child: conflux, headers, quota } = await prepareConflux(ROOT, databaseUrl, REDIS_PREFIX);
    const baseline = BASELINE
      ? await prepareConflux(BASELINE, await recreateDatabase(`${DB}_baseline`), `${REDIS_PREFIX}baseline:`)
      : null;

    const floor = FLOOR ? await startNestFloor(upstream) : null;
    const payload = JSON.stringify({
      model: MODEL,
      messages: [{ role: 'user', content: 'Say hello.' }],
      max_tokens: 16,
    });
    const targets = {
      direct: `${upstream}/v1/chat/completions`,
      ...(floor ? { floor: `${floor.url}/v1/chat/completions` } : {}),
      through: `${base}/v1/chat/completions`,
      ...(baseline ? { baseline: `${baseline.base}/v1/chat/completions` } : {}),
    };
    const serverPid = { direct: upstreamPid, floor: floor?.pid, through: conflux.pid, baseline: baseline?.child.pid };
    const headersOf = (name) => (name === 'baseline' ? baseline.headers : headers);

    // One request each way before anything is measured: both answer, and Conflux routed it.
    for (const [name, url] of Object.entries(targets)) {
      const res = await fetch(url, { method: 'POST', headers: headersOf(name), body: payload });
      const answer = await res.text();
      if (res.status !== 200) throw new Error(`smoke request ${name}: ${res.status} ${answer}`);
      if (name === 'through' && res.headers.get('x-conflux-provider') !== 'bench-openai')
        throw new Error(`through Conflux: unexpected X-Conflux-Provider ${res.headers.get('x-conflux-provider')}`);
    }
    let throughOk = 1; // the smoke request

    console.log(
      `node ${process.version}, ${cpus().length} CPUs; ${ROUNDS} rounds × ${SECONDS} s per run ` +
        `(+${WARMUP_SECONDS} s warm-up each way), connections ${CONNECTIONS.join(', ')}`,
    );
    console.log(
      `upstream (fake, own process) ${upstream}; Conflux ${base}` +
        (baseline ? `; baseline Conflux (built in ${BASELINE}) ${baseline.base}` : ''),
    );
    console.log(
      `Conflux: API-key auth, throttler minute+hour at 1e9 (Redis), project quota daily_credits=` +
        `${quota.limits.daily_credits} (Redis), ledger (Redis stream → Postgres), metrics; LOG_LEVEL=warn` +
        (NODE_ARGS.length > 0 ? `; node ${NODE_ARGS.join(' ')}` : '') +
        (profileDir ? '; --cpu-prof ON (figures inflated by the profiler)' : ''),
    );
    console.log(`request: POST /v1/chat/completions ${payload}\n`);

    // ------------------------------------------------------------------ runs

    const results = new Map(); // connections → { direct: Run[], through: Run[] }
    const maxConnections = Math.max(...CONNECTIONS);
    const profiled = { windows: [], requests: 0 }; // the through runs at the highest load
    let totalFailures = 0;
    let inFlightBound = 0; // requests autocannon may abandon when a through run stops

    console.log(
      'conns  round  target       rps   mean ms    p50 ms    p99 ms       2xx  non-2xx  errors  server CPU µs/req',
    );
    for (const connections of CONNECTIONS) {
      const series = { direct: [], floor: [], through: [], baseline: [] };
      results.set(connections, series);
      const runs = [
        ...(WARMUP_SECONDS > 0 ? [{ round: 0, seconds: WARMUP_SECONDS }] : []),
        ...Array.from({ length: ROUNDS }, (_, i) => ({ round: i + 1, seconds: SECONDS })),
      ];
      for (const { round, seconds } of runs) {
        for (const [name, url] of Object.entries(targets)) {
          const r = await drivePosts(url, connections, seconds, headersOf(name), payload, serverPid[name]);
          totalFailures += r.non2xx + r.errors + r.timeouts;
          if (name === 'through') {
            throughOk += r.ok;
            inFlightBound += connections;
          }
          if (round === 0) continue; // warm-up: counted for the ledger, not reported
          series[name].push(r);
          if (name === 'through' && connections === maxConnections) {
            profiled.windows.push(r.window);
            profiled.requests += r.ok;
          }
          const bad = r.non2xx + r.errors + r.timeouts > 0 ? '   <-- !!! FAILURES' : '';
          console.log(
            `${String(connections).padStart(5)}${String(round).padStart(7)}  ${name.padEnd(8)}` +
              `${f(r.rps, 0)}${f(r.mean, 3, 10)}${f(r.p50, 3, 10)}${f(r.p99, 3, 10)}` +
              `${String(r.ok).padStart(10)}${String(r.non2xx).padStart(9)}${String(r.errors).padStart(8)}` +
              `${f(r.cpuPerRequestUs, 0, 19)}${bad}`,
          );
        }
      }
    }

    // ------------------------------------------------------------------ summary

    console.log(`\nmedians of ${ROUNDS} runs (latency in ms; added = through − direct)`);
    for (const [connections, series] of results) {
      const m = (name, key) => median(series[name].map((r) => r[key]));
      const addedMean = m('through', 'mean') - m('direct', 'mean');
      const addedP50 = m('through', 'p50') - m('direct', 'p50');
      const ratio = m('through', 'rps') / m('direct', 'rps');
      console.log(`\n  ${connections} connection(s)`);
      for (const name of Object.keys(targets)) {
        console.log(
          `    ${name.padEnd(8)} rps${f(m(name, 'rps'), 0)}   mean${f(m(name, 'mean'))}   p50${f(m(name, 'p50'))}` +
            `   p99${f(m(name, 'p99'))}   server CPU${f(m(name, 'cpuPerRequestUs'), 0, 6)} µs/req`,
        );
      }
      let addedLine = `    added latency: mean ${f(addedMean, 3, 0)} ms, p50 ${f(addedP50, 3, 0)} ms`;
      if (connections === 1)
        addedLine += `   [target: added mean ≤ ${TARGETS.addedMeanMsAt1} ms → ${verdict(addedMean <= TARGETS.addedMeanMsAt1)}]`;
      console.log(addedLine);
      let ratioLine = `    through/direct rps: ${(ratio * 100).toFixed(1)} %`;
      if (connections === 50)
        ratioLine += `   [target: ≥ ${TARGETS.rpsRatioAt50 * 100} % of direct → ${verdict(ratio >= TARGETS.rpsRatioAt50)}]`;
      console.log(ratioLine);
      if (floor) {
        const floorAdded = m('floor', 'mean') - m('direct', 'mean');
        console.log(
          `    bare NestJS floor: adds ${f(floorAdded, 3, 0)} ms, serves ${(100 * (m('floor', 'rps') / m('direct', 'rps'))).toFixed(1)} % ` +
            `of direct; Conflux serves ${(100 * (m('through', 'rps') / m('floor', 'rps'))).toFixed(1)} % of the floor's rps`,
        );
      }
      if (baseline) {
        // Paired by round: each round ran both builds back to back under the same conditions.
        const paired = (key) => median(series.through.map((r, i) => r[key] / series.baseline[i][key]));
        console.log(
          `    this build / baseline, median of per-round ratios: rps ${(100 * paired('rps')).toFixed(1)} %, ` +
            `mean latency ${(100 * paired('mean')).toFixed(1)} %, server CPU per request ${(100 * paired('cpuPerRequestUs')).toFixed(1)} %`,
        );
      }
    }
    if (totalFailures > 0) {
      console.log(
        `\n${'!'.repeat(72)}\n!!! ${totalFailures} NON-2XX, ERRORS OR TIMEOUTS (expected 0)\n${'!'.repeat(72)}`,
      );
    } else {
      console.log('\nnon-2xx responses, errors and timeouts: 0 (warm-ups included)');
    }

    // ------------------------------------------------------------------ ledger

    // Every request served through Conflux leaves one 'success' row once the buffer (Redis
    // stream) is drained into usage_ledger. Conflux's own /metrics count of its 200s is the
    // reference: autocannon stops each run with requests in flight, which Conflux may still
    // complete and bill (a 'success' row with no 200 counted anywhere, at most `connections`
    // per run) or cut off (an error row, e.g. client_disconnected).
    const served = (await serverCompletionCounts(base))['200'] ?? 0;
    const countRows = () =>
      withPg(async (c) => {
        const q = await c.query(
          `SELECT status, coalesce(error_class, '') AS error_class, count(*)::int AS n, max(attempt)::int AS max_attempt
             FROM usage_ledger GROUP BY 1, 2 ORDER BY 3 DESC`,
        );
        const total = q.rows.reduce((sum, r) => sum + r.n, 0);
        const success = q.rows.find((r) => r.status === 'success')?.n ?? 0;
        const maxAttempt = Math.max(0, ...q.rows.map((r) => r.max_attempt));
        return { total, success, maxAttempt, errors: q.rows.filter((r) => r.status !== 'success') };
      }, databaseUrl);
    // Poll until every served request has its row and the count has stopped moving (≤ 30 s).
    const drainStarted = Date.now();
    let rows = await countRows();
    for (let stableSince = Date.now(); Date.now() - drainStarted < 30_000;) {
      await sleep(250);
      const next = await countRows();
      if (next.total !== rows.total) stableSince = Date.now();
      rows = next;
      if (rows.success >= served && Date.now() - stableSince >= 1_000) break;
    }
    const drainSeconds = ((Date.now() - drainStarted) / 1000).toFixed(1);
    const extra = rows.success - served;
    const errorText = rows.errors.map((r) => `${r.n} ${r.error_class || r.status}`).join(', ') || 'none';
    console.log(`\nledger (polled ${drainSeconds} s): ${rows.total} rows in usage_ledger, ${rows.success} success`);
    console.log(`  error rows: ${errorText}; highest attempt number: ${rows.maxAttempt}`);
    console.log(
      `  successful requests: ${throughOk} counted by autocannon, ${served} answered 200 by Conflux (/metrics)`,
    );
    if (extra < 0) console.log(`  !!! ${-extra} SERVED REQUESTS HAVE NO LEDGER ROW`);
    else if (extra > inFlightBound)
      console.log(`  !!! ${extra} success rows more than 200s served, above the in-flight bound ${inFlightBound}`);
    else
      console.log(
        `  → every served request has its row; ${extra} more success rows than 200s (requests completed after ` +
          `autocannon hung up at the end of a run; bound ${inFlightBound})`,
      );
    const warnings = serverLog.filter((l) => /"level":(40|50|60)/.test(l));
    if (warnings.length > 0) {
      console.log(`\nConflux logged ${warnings.length} warning(s)/error(s); first ones:`);
      for (const line of warnings.slice(0, 5)) console.log(`  ${line.slice(0, 300)}`);
    }

    // ------------------------------------------------------------------ profile

    if (profileDir) {
      await stop(conflux); // the profile is written when the process exits
      const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
      if (!file) console.log(`\n!!! no .cpuprofile written in ${profileDir}`);
      else {
        const path = join(profileDir, file);
        console.log(`\nCPU profile of Conflux: ${path}`);
        summariseProfile(path, { ...profiled, scope: 'profiled through-Conflux runs' });
      }
    }
  } finally {
    await cleanup();
  }
}
