// Conflux beside a peer gateway: POST /v1/chat/completions straight to a fast fake OpenAI upstream
// (direct), through the Portkey AI gateway (`@portkey-ai/gateway`, installed from the npm registry
// into a temporary folder at run time: it is not a dependency of the project) and through Conflux
// with API-key auth, rate limits, a project budget, the usage ledger and metrics on (LOG_LEVEL=warn,
// as `bench:gateway`), alternating direct / Portkey / Conflux each round, at 1 and 50 connections.
// Then streaming: the time to the first token of a streamed completion, each way, sequentially.
// Prints the comparison table and the targets; asserts nothing. Loopback only.
//
//   npm run bench:peer
//   BENCH_SECONDS=3 BENCH_ROUNDS=1 npm run bench:peer     # a short run, to validate the script
//
// Environment: BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (2), BENCH_ROUNDS (3), BENCH_CONNECTIONS (1,50),
// BENCH_TTFT_STREAMS (200 each way, after 30 warm-up ones), BENCH_ADMIN_URL and BENCH_REDIS_URL (see
// bench/server.mjs; the database conflux_peer_bench is created and dropped, Redis keys live under a
// prefix deleted afterwards), BENCH_NODE_ARGS (extra node flags for Conflux),
// BENCH_PEER_VERSION (1.15.2), BENCH_PEER_OVERRIDES (npm overrides of the peer's dependencies, JSON;
// default below), BENCH_PEER_DIR (an existing install to reuse, e.g. from an earlier run with
// BENCH_PEER_KEEP=1; default: a fresh temporary folder, removed afterwards), BENCH_PEER_NODE (the node
// binary for the peer; default this one: Portkey 1.15.2 runs on Node 20).
//
// The peer is installed with `npm install --prefix <dir> --ignore-scripts` (its only install script
// is patch-package, which has nothing to patch in the published build) and started as its package's
// bin does (`build/start-server.js --port=<p> --headless`), with the upstream as a custom host
// (`x-portkey-provider: openai`, `x-portkey-custom-host`; TRUSTED_CUSTOM_HOSTS lets it reach loopback).
// It runs with none of Conflux's features (no auth, limits, budgets, ledger or metrics). Its
// dependencies `hono` and `@hono/node-server` are pinned to versions its range allows (4.9.7 and
// 1.13.8): with the newest ones npm picks, its streamed answers fail on Node 20 and 24 alike
// (`TypeError: immutable` when it adds its headers, Portkey-AI/gateway#1389); JSON answers work either way.
//
// The fake upstream runs in its own process (`--fake-upstream`): a pre-rendered chat.completion, or
// for `"stream": true` the OpenAI streaming format, a role chunk with the first token at once, then
// STREAM_TOKENS more tokens STREAM_INTERVAL_MS apart, the finish and usage chunks and [DONE].
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { completionBody, modelsBody, serveToParent } from './fake-openai.mjs';

const SELF = fileURLToPath(import.meta.url);
const MODEL = 'gpt-4o-mini';
const FAKE_USAGE = { prompt_tokens: 12, completion_tokens: 6 };
const STREAM_TOKENS = 4;
const STREAM_INTERVAL_MS = 2;
const PEER = '@portkey-ai/gateway';
const PEER_OVERRIDES = { hono: '4.9.7', '@hono/node-server': '1.13.8' };

if (process.argv[2] === '--fake-upstream') runFakeUpstream();
else await main();

// ====================================================================== fake upstream (child)

function runFakeUpstream() {
  const completion = completionBody(MODEL, FAKE_USAGE);
  const models = modelsBody(MODEL);
  const chunk = (delta, finish = null, usage) =>
    `data: ${JSON.stringify({
      id: 'chatcmpl-bench',
      object: 'chat.completion.chunk',
      created: 1_731_000_000,
      model: MODEL,
      choices: usage ? [] : [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(usage ? { usage } : {}),
    })}\n\n`;
  const first = chunk({ role: 'assistant', content: 'Hello' });
  const token = chunk({ content: ' there' });
  const end =
    chunk({}, 'stop') +
    chunk(null, null, { prompt_tokens: 12, completion_tokens: 1 + STREAM_TOKENS, total_tokens: 13 + STREAM_TOKENS }) +
    'data: [DONE]\n\n';

  serveToParent((req, res) => {
    const parts = [];
    req.on('data', (part) => parts.push(part));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': models.length }).end(models);
        return;
      }
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return void res.writeHead(404).end();
      if (!Buffer.concat(parts).includes('"stream":true')) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': completion.length }).end(completion);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(first);
      let sent = 0;
      const timer = setInterval(() => {
        if (sent++ < STREAM_TOKENS) return void res.write(token);
        clearInterval(timer);
        res.end(end);
      }, STREAM_INTERVAL_MS);
      res.on('close', () => clearInterval(timer));
    });
  });
}

// ====================================================================== the benchmark

async function main() {
  const { default: pg } = await import('pg');
  const { default: Redis } = await import('ioredis');
  const {
    ADMIN,
    ADMIN_URL,
    cpuSeconds,
    deleteRedisKeys,
    drivePosts,
    freePort,
    NODE_ARGS,
    productionCommand,
    REDIS_URL,
    writeProvidersFile,
  } = await import('./server.mjs');

  const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
  const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? Math.min(2, SECONDS));
  const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
  const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '1,50').split(',').map(Number);
  const TTFT_STREAMS = Number(process.env.BENCH_TTFT_STREAMS ?? 200);
  const TTFT_WARMUP = 30;
  const PEER_VERSION = process.env.BENCH_PEER_VERSION ?? '1.15.2';
  const PEER_NODE = process.env.BENCH_PEER_NODE || process.execPath;
  const OVERRIDES = process.env.BENCH_PEER_OVERRIDES ? JSON.parse(process.env.BENCH_PEER_OVERRIDES) : PEER_OVERRIDES;
  const DB = 'conflux_peer_bench';
  const REDIS_PREFIX = `bench-peer:${Date.now()}:`;
  const TARGETS = { rpsTimesPeerAt50: 2.5, ttftAddedP50Ms: 1 };

  const work = mkdtempSync(join(tmpdir(), 'conflux-peer-bench-'));
  const peerDir = process.env.BENCH_PEER_DIR || join(work, 'peer');
  const children = [];
  let databaseCreated = false;
  let cleanedUp = false;

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const f = (x, digits = 3, width = 9) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a').padStart(width);

  async function withPg(fn, url = ADMIN_URL) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }

  function start(name, command, args, options) {
    const child = spawn(command, args, options);
    child.benchName = name;
    children.push(child);
    return child;
  }

  async function stop(child, graceMs = 30_000) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  async function cleanup() {
    if (cleanedUp) return;
    cleanedUp = true;
    for (const child of [...children].reverse()) await stop(child).catch(() => undefined);
    if (databaseCreated) {
      await withPg((c) => c.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`)).catch((err) =>
        console.error(`could not drop ${DB}: ${err.message}`),
      );
    }
    await deleteRedisKeys(REDIS_PREFIX);
    if (process.env.BENCH_PEER_KEEP === '1' && !process.env.BENCH_PEER_DIR) {
      console.log(`peer install kept in ${peerDir} (BENCH_PEER_DIR=${peerDir} reuses it)`);
      rmSync(join(work, 'providers.json'), { force: true });
    } else {
      rmSync(work, { recursive: true, force: true });
    }
  }
  process.once('SIGINT', () => {
    console.error('\ninterrupted: cleaning up');
    void cleanup().finally(() => process.exit(130));
  });

  /** Waits until `url` answers (any status) or the child exits. */
  async function waitListening(child, url, name) {
    for (let i = 0; i < 600; i++) {
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
      try {
        await fetch(url);
        return;
      } catch {
        await sleep(100);
      }
    }
    throw new Error(`${name} did not start within 60 s`);
  }

  // ------------------------------------------------------------------ the peer

  function installPeer() {
    const entry = join(peerDir, 'node_modules', ...PEER.split('/'), 'build', 'start-server.js');
    if (existsSync(entry)) return checkPinned(entry);
    console.log(`installing ${PEER}@${PEER_VERSION} into ${peerDir} (npm install --prefix, --ignore-scripts) ...`);
    mkdirSync(peerDir, { recursive: true });
    writeFileSync(join(peerDir, 'package.json'), JSON.stringify({ private: true, overrides: OVERRIDES }));
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const run = spawnSync(
      npm,
      ['install', '--prefix', peerDir, '--no-audit', '--no-fund', '--ignore-scripts', `${PEER}@${PEER_VERSION}`],
      { stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 },
    );
    if (run.status !== 0 || !existsSync(entry)) throw new Error(`npm install of ${PEER}@${PEER_VERSION} failed`);
    return checkPinned(entry);
  }

  /**
   * Every copy of a pinned dependency in the install (hoisted, or nested under the peer) has the pinned
   * version: else Portkey's streamed answers fail (Portkey-AI/gateway#1389) and streaming would not be
   * measured for it. An install reused through BENCH_PEER_DIR is checked the same way.
   */
  function checkPinned(entry) {
    const peerModules = join(peerDir, 'node_modules', ...PEER.split('/'), 'node_modules');
    for (const [name, version] of Object.entries(OVERRIDES)) {
      for (const modules of [join(peerDir, 'node_modules'), peerModules]) {
        const manifest = join(modules, ...name.split('/'), 'package.json');
        if (!existsSync(manifest)) continue;
        const found = JSON.parse(readFileSync(manifest, 'utf8')).version;
        if (found !== version) {
          throw new Error(`${name} ${found} in ${modules}, not the pinned ${version} (remove ${peerDir} to reinstall)`);
        }
      }
    }
    return entry;
  }

  async function startPeer(entry) {
    const port = await freePort();
    const child = start('peer', PEER_NODE, [entry, `--port=${port}`, '--headless'], {
      cwd: peerDir,
      env: { PATH: process.env.PATH, NODE_ENV: 'production', TRUSTED_CUSTOM_HOSTS: '127.0.0.1,localhost' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const base = `http://127.0.0.1:${port}`;
    await waitListening(child, base, 'the peer');
    return { base, pid: child.pid };
  }

  // ------------------------------------------------------------------ Conflux

  async function startConflux(upstream) {
    await withPg(async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
      await c.query(`CREATE DATABASE ${DB}`);
    });
    databaseCreated = true;
    const url = new URL(ADMIN_URL);
    url.pathname = `/${DB}`;
    const providersFile = writeProvidersFile(work, upstream, MODEL);
    const port = await freePort();
    const child = start('conflux', process.execPath, [...NODE_ARGS, ...productionCommand()], {
      cwd: join(SELF, '..', '..'),
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: url.toString(),
        REDIS_URL,
        REDIS_KEY_PREFIX: REDIS_PREFIX,
        JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
        ADMIN_EMAIL: ADMIN.email,
        ADMIN_PASSWORD: ADMIN.password,
        LOG_LEVEL: 'warn',
        RATE_LIMIT_PER_MINUTE: '1000000000',
        RATE_LIMIT_PER_HOUR: '1000000000',
        PROVIDERS_FILE: providersFile,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`Conflux exited with ${child.exitCode}`);
      if (i > 600) throw new Error('Conflux did not start within 60 s');
      const ready = await fetch(`${base}/health/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      await sleep(100);
    }
    const call = async (method, path, body, headers = {}) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    const { access_token } = await call('POST', '/auth/login', ADMIN);
    const bearer = { authorization: `Bearer ${access_token}` };
    const project = await call('POST', '/projects', { name: 'peer-bench' }, bearer);
    const key = await call('POST', `/projects/${project.id}/api-keys`, { name: 'bench' }, bearer);
    // A generous daily budget, so that every request is reserved and settled against a limit.
    await call('PUT', `/projects/${project.id}/quota`, { daily_credits: 1e9 }, bearer);
    return { base, pid: child.pid, headers: { 'content-type': 'application/json', 'x-api-key': key.key } };
  }

  // ------------------------------------------------------------------ load

  /** The local Redis process (from INFO), so that the CPU it spends for Conflux's requests is counted too. */
  async function redisPid() {
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      const pid = Number(/process_id:(\d+)/.exec(await redis.info('server'))?.[1]);
      return pid > 0 && existsSync(`/proc/${pid}/stat`) ? pid : null;
    } catch {
      return null;
    } finally {
      redis.disconnect();
    }
  }
  const REDIS_PID = await redisPid();

  /** One autocannon run; latency from the 'response' event (float ms; the histogram has whole ms only). */
  async function drive(url, connections, seconds, headers, body, serverPid) {
    const depsBefore = cpuSeconds(REDIS_PID);
    const started = performance.now();
    const run = await drivePosts(url, connections, seconds, headers, body, serverPid);
    run.depsCpuSeconds = cpuSeconds(REDIS_PID) - depsBefore;
    run.seconds = (performance.now() - started) / 1000;
    return run;
  }

  /** One streamed completion: ms from sending the request to the first content token, then to the end. */
  function streamOnce(agent, url, headers, body) {
    return new Promise((resolve, reject) => {
      const started = performance.now();
      let first = NaN;
      let text = '';
      const req = http.request(url, { method: 'POST', agent, headers }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return reject(new Error(`status ${res.statusCode}`));
        }
        res.setEncoding('utf8');
        res.on('data', (part) => {
          if (!Number.isNaN(first)) return;
          text += part;
          if (/"content":"[^"]/.test(text)) first = performance.now() - started;
        });
        res.on('end', () =>
          Number.isNaN(first)
            ? reject(new Error('no token'))
            : resolve({ ttft: first, total: performance.now() - started }),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  // ------------------------------------------------------------------ run

  try {
    const peerEntry = installPeer();
    const fake = start('fake upstream', process.execPath, [SELF, '--fake-upstream'], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const upstreamPort = await new Promise((resolve, reject) => {
      fake.once('message', (m) => resolve(m.port));
      fake.once('exit', (code) => reject(new Error(`fake upstream exited with ${code}`)));
    });
    const upstream = `http://127.0.0.1:${upstreamPort}`;
    const peer = await startPeer(peerEntry);
    const conflux = await startConflux(upstream);

    const payload = JSON.stringify({
      model: MODEL,
      messages: [{ role: 'user', content: 'Say hello.' }],
      max_tokens: 16,
    });
    const targets = {
      direct: {
        url: `${upstream}/v1/chat/completions`,
        headers: { 'content-type': 'application/json' },
        pid: fake.pid,
      },
      portkey: {
        url: `${peer.base}/v1/chat/completions`,
        headers: {
          'content-type': 'application/json',
          'x-portkey-provider': 'openai',
          'x-portkey-custom-host': `${upstream}/v1`,
          authorization: 'Bearer sk-bench',
        },
        pid: peer.pid,
      },
      conflux: { url: `${conflux.base}/v1/chat/completions`, headers: conflux.headers, pid: conflux.pid },
    };
    for (const [name, t] of Object.entries(targets)) {
      const res = await fetch(t.url, { method: 'POST', headers: t.headers, body: payload });
      const text = await res.text();
      if (res.status !== 200 || !text.includes('Hello from the bench upstream.')) {
        throw new Error(`smoke request ${name}: ${res.status} ${text.slice(0, 300)}`);
      }
    }

    const peerNode = spawnSync(PEER_NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();
    console.log(
      `node ${process.version} (peer on ${peerNode}), ${cpus().length} CPUs; ${ROUNDS} rounds × ${SECONDS} s per run ` +
        `(+${WARMUP_SECONDS} s warm-up each way), connections ${CONNECTIONS.join(', ')}`,
    );
    console.log(
      `Conflux: API-key auth, rate limits (Redis), project budget (Redis), ledger (Redis stream → Postgres), ` +
        `metrics, LOG_LEVEL=warn${NODE_ARGS.length > 0 ? `; node ${NODE_ARGS.join(' ')}` : ''}`,
    );
    const installed = (name) => {
      try {
        return JSON.parse(readFileSync(join(peerDir, 'node_modules', ...name.split('/'), 'package.json'), 'utf8'))
          .version;
      } catch {
        return '?';
      }
    };
    console.log(
      `Portkey: ${PEER}@${installed(PEER)} (hono ${installed('hono')}, @hono/node-server ` +
        `${installed('@hono/node-server')}), no auth, limits, budgets, ledger or metrics`,
    );
    console.log(`request: POST /v1/chat/completions ${payload}\n`);
    console.log(
      'conns  round  target        rps   mean ms    p50 ms    p99 ms  failures  server CPU µs/req  Redis CPU µs/req',
    );

    const results = new Map();
    let failures = 0;
    for (const connections of CONNECTIONS) {
      const series = { direct: [], portkey: [], conflux: [] };
      results.set(connections, series);
      const runs = [
        ...(WARMUP_SECONDS > 0 ? [{ round: 0, seconds: WARMUP_SECONDS }] : []),
        ...Array.from({ length: ROUNDS }, (_, i) => ({ round: i + 1, seconds: SECONDS })),
      ];
      for (const { round, seconds } of runs) {
        for (const [name, t] of Object.entries(targets)) {
          const r = await drive(t.url, connections, seconds, t.headers, payload, t.pid);
          failures += r.failures;
          if (round === 0) continue;
          series[name].push(r);
          console.log(
            `${String(connections).padStart(5)}${String(round).padStart(7)}  ${name.padEnd(9)}` +
              `${f(r.rps, 0)}${f(r.mean, 3, 10)}${f(r.p50, 3, 10)}${f(r.p99, 3, 10)}${String(r.failures).padStart(10)}` +
              `${f(r.cpuPerRequestUs, 0, 19)}${f((1e6 * r.depsCpuSeconds) / r.requests, 0, 18)}`,
          );
        }
      }
    }

    // ---------------------------------------------------------------- streaming: time to first token

    const streamBody = JSON.stringify({
      model: MODEL,
      messages: [{ role: 'user', content: 'Say hello.' }],
      max_tokens: 16,
      stream: true,
    });
    const ttft = { direct: [], portkey: [], conflux: [] };
    const streamErrors = { direct: 0, portkey: 0, conflux: 0 };
    const agents = Object.fromEntries(
      Object.keys(targets).map((name) => [name, new http.Agent({ keepAlive: true, maxSockets: 1 })]),
    );
    for (let i = 0; i < TTFT_WARMUP + TTFT_STREAMS; i++) {
      for (const [name, t] of Object.entries(targets)) {
        try {
          const r = await streamOnce(agents[name], t.url, t.headers, streamBody);
          if (i >= TTFT_WARMUP) ttft[name].push(r.ttft);
        } catch (err) {
          streamErrors[name] += 1;
          if (streamErrors[name] === 1) console.log(`stream through ${name} failed: ${err.message}`);
        }
      }
    }
    for (const agent of Object.values(agents)) agent.destroy();

    // ---------------------------------------------------------------- summary

    const m = (connections, name, key) => median(results.get(connections)?.[name].map((r) => r[key]) ?? []);
    const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
    const ms = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(2)} ms`;
    const rows = [];
    const verdicts = [];
    if (results.has(50)) {
      const [d, p, c] = ['direct', 'portkey', 'conflux'].map((n) => m(50, n, 'rps'));
      rows.push(['50 connections: RPS', d.toFixed(0), p.toFixed(0), `${c.toFixed(0)} (${ratio(c, p)})`]);
      rows.push([
        '50 connections: server CPU per request',
        '',
        `${m(50, 'portkey', 'cpuPerRequestUs').toFixed(0)} µs`,
        `${m(50, 'conflux', 'cpuPerRequestUs').toFixed(0)} µs`,
      ]);
      // What Redis spent for Conflux: its CPU during Conflux's runs less its rate meanwhile (other work on
      // this machine) as measured during the peer's runs, which do not use it.
      const background = median(results.get(50).portkey.map((r) => r.depsCpuSeconds / r.seconds));
      const deps = median(results.get(50).conflux.map((r) => (r.depsCpuSeconds - background * r.seconds) / r.requests));
      rows.push(['50 connections: Redis CPU per request', '', '—', `${(1e6 * deps).toFixed(0)} µs`]);
      rows.push([
        '50 connections: p50 latency',
        `${m(50, 'direct', 'p50').toFixed(2)} ms`,
        `${m(50, 'portkey', 'p50').toFixed(2)} ms`,
        `${m(50, 'conflux', 'p50').toFixed(2)} ms`,
      ]);
      const met = c >= TARGETS.rpsTimesPeerAt50 * p;
      verdicts.push(
        `50 connections: RPS ≥ ${TARGETS.rpsTimesPeerAt50}× Portkey's → ${met ? 'MET' : 'MISSED'} (${ratio(c, p)})`,
      );
    }
    if (results.has(1)) {
      const direct = m(1, 'direct', 'mean');
      const addedPeer = m(1, 'portkey', 'mean') - direct;
      const addedConflux = m(1, 'conflux', 'mean') - direct;
      rows.push(['1 connection: added mean latency', '', ms(addedPeer), ms(addedConflux)]);
      rows.push([
        '1 connection: added p50 latency',
        '',
        ms(m(1, 'portkey', 'p50') - m(1, 'direct', 'p50')),
        ms(m(1, 'conflux', 'p50') - m(1, 'direct', 'p50')),
      ]);
      const [d, p, c] = ['direct', 'portkey', 'conflux'].map((n) => m(1, n, 'rps'));
      rows.push(['1 connection: RPS', d.toFixed(0), p.toFixed(0), `${c.toFixed(0)} (${ratio(c, p)})`]);
      verdicts.push(
        `1 connection: added mean ≤ Portkey's → ${addedConflux <= addedPeer ? 'MET' : 'MISSED'} ` +
          `(${ms(addedConflux)} vs ${ms(addedPeer)})`,
      );
    }
    const p50 = (name) => (ttft[name].length > 0 ? median(ttft[name]) : NaN);
    const streamCell = (name) =>
      ttft[name].length === 0
        ? 'failed'
        : `${ms(p50(name) - p50('direct'))}${streamErrors[name] > 0 ? ` (${streamErrors[name]} failed)` : ''}`;
    rows.push([
      'streaming: time to first token p50',
      `${p50('direct').toFixed(2)} ms`,
      streamCell('portkey'),
      streamCell('conflux'),
    ]);
    if (ttft.conflux.length > 0) {
      const added = p50('conflux') - p50('direct');
      verdicts.push(
        `streaming: added TTFT p50 ≤ ${TARGETS.ttftAddedP50Ms} ms → ${added <= TARGETS.ttftAddedP50Ms ? 'MET' : 'MISSED'} (${ms(added)})`,
      );
    }

    console.log(
      `\nmedians of ${ROUNDS} rounds; streaming: ${TTFT_STREAMS} sequential streams each way (after ${TTFT_WARMUP})\n`,
    );
    console.log('| | direct | Portkey | Conflux |');
    console.log('| --- | --- | --- | --- |');
    for (const row of rows) console.log(`| ${row.join(' | ')} |`);
    console.log('');
    for (const v of verdicts) console.log(`target: ${v}`);
    console.log(
      failures > 0 ? `\n!!! ${failures} non-2xx responses, errors or timeouts` : '\nnon-2xx, errors, timeouts: 0',
    );
  } finally {
    await cleanup();
  }
}
