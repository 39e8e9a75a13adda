// Streaming relay: the time to first token (TTFT) that Conflux adds to a streamed
// POST /v1/chat/completions (the same fake upstream, direct and through Conflux, alternately,
// N sequential streams each way), then many concurrent slow streams held by one instance: a
// ramp to BENCH_STREAMS open streams, each sent a token every BENCH_STREAM_INTERVAL_MS by the
// upstream, held for BENCH_STREAM_HOLD_SECONDS, with Conflux's memory per stream, its event-loop
// delay, its CPU per relayed event and the errors. Prints figures; asserts nothing. Loopback only;
// stops by itself (a watchdog ends a run that overruns).
//
//   npm run bench:stream
//   BENCH_STREAMS=500 BENCH_STREAM_HOLD_SECONDS=10 BENCH_STREAM_RAMP_SECONDS=5 BENCH_TTFT_STREAMS=100 \
//     npm run bench:stream                 # a short run
//   BENCH_PROFILE=1 npm run bench:stream   # also CPU-profile Conflux (node --cpu-prof) and summarise the hold
//   BENCH_STREAM_FLOOR=1 npm run bench:stream   # also the same load through a bare relay (see below)
//
// Environment (defaults are the targets): BENCH_STREAMS (5000), BENCH_STREAM_INTERVAL_MS (50),
// BENCH_STREAM_HOLD_SECONDS (30), BENCH_STREAM_RAMP_SECONDS (30: streams are opened evenly over it,
// which for 30 s streams is the rate that keeps 5000 open), BENCH_TTFT_STREAMS (200 each way),
// BENCH_TTFT_WARMUP (50 each way), BENCH_STREAM_SAMPLE_SECONDS (5: how often the server's memory and
// event-loop delay are read during the hold), BENCH_STREAM_FLOOR, BENCH_PROFILE, BENCH_ADMIN_URL and
// BENCH_REDIS_URL (see bench/server.mjs: the database conflux_bench_stream_<pid> is created and dropped,
// the server's Redis keys deleted), BENCH_NODE_ARGS (extra node flags for Conflux).
//
// Conflux's memory, event-loop delay (prom-client's nodejs_eventloop_lag_p99_seconds, which resets at
// every read, so each sample covers the time since the previous one) and active handles come from its
// own /metrics; its CPU from /proc. Each process (this load generator, the fake upstream, the server)
// needs a file descriptor per stream, the server two: node raises its open-files soft limit to the hard
// one by itself, and the script says so when the hard limit is too low.
//
// The fake upstream runs in its own process (`--fake-upstream`) so that it never shares an event
// loop with the load generator. It answers the OpenAI streaming wire format: a role chunk and the
// first token at once, then a token every interval, then the finish chunk, the usage chunk and
// [DONE]. The number of tokens and the interval travel in the prompt ("tokens=N interval_ms=M"), so
// that the same request means the same stream direct and through Conflux. Its timers run on a 5 ms
// wheel: streams keep the phase of their start, as real upstreams do, not one synchronised burst.
//
// The bare relay (`--relay-floor`, BENCH_STREAM_FLOOR=1) is the floor of the shape: node:http and one
// undici request whose body chunks are written on as they come, unparsed: no auth, quotas, ledger,
// metrics, SSE parsing or re-encoding. What Conflux costs above it is its own work per event.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { summariseProfile } from './profile.mjs';

const SELF = fileURLToPath(import.meta.url);
const MODEL = 'gpt-4o-mini';
/** prom-client samples the event loop every 10 ms and its lag figures include that interval. */
const EVENT_LOOP_RESOLUTION_MS = 10;

const setting = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
  return value;
};

if (process.argv[2] === '--fake-upstream') runFakeUpstream();
else if (process.argv[2] === '--relay-floor') await runRelayFloor(Number(process.argv[3]));
else await main();

/**
 * Answers the parent's 'stats' (over IPC) with this process's event-loop delay since the last ask, its
 * memory, and whatever `extra()` adds.
 */
function answerStats(extra = () => ({})) {
  const eld = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  eld.enable();
  process.on('message', (m) => {
    if (m !== 'stats') return;
    const { rss, heapUsed, external } = process.memoryUsage();
    process.send({
      rss,
      heap: heapUsed,
      external,
      eldP99Ms: eld.percentile(99) / 1e6 - EVENT_LOOP_RESOLUTION_MS,
      eldMaxMs: eld.max / 1e6 - EVENT_LOOP_RESOLUTION_MS,
      ...extra(),
    });
    eld.reset();
  });
}

/** Stops `server` on SIGTERM, or when the parent goes away. */
function stopOnSignal(server) {
  process.on('SIGTERM', () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
  process.on('disconnect', () => process.exit(0));
}

// ====================================================================== fake upstream (child)

function runFakeUpstream() {
  const SLOT_MS = 5;
  const frame = (value) => `data: ${JSON.stringify(value)}\n\n`;
  const chunk = (fields) =>
    frame({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1_731_000_000, model: MODEL, ...fields });
  const delta = (value, finish) => chunk({ choices: [{ index: 0, delta: value, finish_reason: finish }] });
  const token = delta({ content: ' tok' }, null);
  const TOKEN = Buffer.from(token);
  const FIRST = Buffer.from(delta({ role: 'assistant', content: '' }, null) + token);
  const last = (tokens) =>
    Buffer.from(
      token +
        delta({}, 'stop') +
        chunk({ choices: [], usage: { prompt_tokens: 12, completion_tokens: tokens, total_tokens: 12 + tokens } }) +
        'data: [DONE]\n\n',
    );
  const models = JSON.stringify({
    object: 'list',
    data: [{ id: MODEL, object: 'model', created: 0, owned_by: 'bench' }],
  });
  const SSE_HEAD = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };

  /** Streams by the 5 ms slot in which their next token is due. */
  const wheel = new Map();
  let nextSlot = 0;
  let timer = null;
  let open = 0;

  /** Never into a slot already processed (`earliest`: the one being processed is, too). */
  const schedule = (stream, earliest = nextSlot) => {
    const slot = Math.max(Math.floor(stream.due / SLOT_MS), earliest);
    const list = wheel.get(slot);
    if (list) list.push(stream);
    else wheel.set(slot, [stream]);
  };
  const step = (stream) => {
    if (stream.res.destroyed) return;
    if (--stream.left > 0) {
      stream.res.write(TOKEN);
      stream.due += stream.interval;
      schedule(stream, nextSlot + 1);
    } else stream.res.end(last(stream.tokens));
  };
  const tick = () => {
    const current = Math.floor(performance.now() / SLOT_MS);
    for (; nextSlot <= current; nextSlot++) {
      const list = wheel.get(nextSlot);
      if (!list) continue;
      wheel.delete(nextSlot);
      for (const stream of list) step(stream);
    }
    if (open === 0 && wheel.size === 0) {
      clearInterval(timer);
      timer = null;
    }
  };

  const server = http.createServer((req, res) => {
    const parts = [];
    req.on('data', (part) => parts.push(part));
    req.on('end', () => {
      if (req.method === 'GET' && req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(models);
        return;
      }
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404).end();
        return;
      }
      let body;
      try {
        body = JSON.parse(Buffer.concat(parts).toString('utf8'));
      } catch {
        res.writeHead(400).end();
        return;
      }
      const prompt = String(body.messages?.at(-1)?.content ?? '');
      const tokens = Math.max(1, Number(/tokens=(\d+)/.exec(prompt)?.[1] ?? 3));
      const interval = Math.max(1, Number(/interval_ms=(\d+)/.exec(prompt)?.[1] ?? 50));
      if (body.stream !== true) {
        res.writeHead(400).end();
        return;
      }
      res.writeHead(200, SSE_HEAD);
      if (tokens === 1) {
        res.end(Buffer.concat([FIRST.subarray(0, FIRST.length - TOKEN.length), last(1)]));
        return;
      }
      res.write(FIRST);
      open++;
      res.once('close', () => open--);
      if (timer === null) {
        nextSlot = Math.floor(performance.now() / SLOT_MS);
        timer = setInterval(tick, SLOT_MS);
      }
      schedule({ res, tokens, left: tokens - 1, interval, due: performance.now() + interval });
    });
  });
  server.keepAliveTimeout = 120_000;
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  answerStats();
  stopOnSignal(server);
}

// ====================================================================== the bare relay (child)

async function runRelayFloor(upstreamPort) {
  const { Pool } = await import('undici');
  const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { keepAliveTimeout: 10_000 });
  const head = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };
  const server = http.createServer((req, res) => {
    const parts = [];
    req.on('data', (part) => parts.push(part));
    req.on('end', async () => {
      try {
        const upstream = await pool.request({
          path: '/v1/chat/completions',
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: Buffer.concat(parts),
        });
        res.writeHead(upstream.statusCode, head);
        for await (const chunk of upstream.body) res.write(chunk);
        res.end();
      } catch (err) {
        res.destroy(err);
      }
    });
  });
  server.keepAliveTimeout = 120_000;
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  answerStats();
  stopOnSignal(server);
}

// ====================================================================== the benchmark (parent)

/** The soft and hard limits on open files of this process (Infinity when unlimited). */
function fileLimits() {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  const [soft, hard] = line
    .trim()
    .split(/\s+/)
    .slice(3, 5)
    .map((v) => (v === 'unlimited' ? Infinity : Number(v)));
  return { soft, hard };
}

/**
 * Warns when the open-files limit is below what `streams` need (the server holds two sockets per
 * stream). Node raises its soft limit to the hard one as it starts, and so do the children; only the
 * hard limit, which takes root to raise, can be too low.
 */
function checkFileLimit(streams) {
  const need = 2 * streams + 2048;
  let limits;
  try {
    limits = fileLimits();
  } catch {
    return; // no /proc: let the errors speak
  }
  if (limits.soft >= need) return;
  console.log(
    `!!! the open-files limit (soft ${limits.soft}, hard ${limits.hard}) is below the ${need} that ` +
      `${streams} streams need: expect EMFILE errors; raise the hard limit (\`ulimit -Hn\` as root, or ` +
      '/etc/security/limits.conf) or lower BENCH_STREAMS',
  );
}

async function main() {
  const STREAMS = setting('BENCH_STREAMS', 5000);
  const INTERVAL_MS = Math.max(1, setting('BENCH_STREAM_INTERVAL_MS', 50));
  const HOLD_SECONDS = setting('BENCH_STREAM_HOLD_SECONDS', 30);
  const RAMP_SECONDS = setting('BENCH_STREAM_RAMP_SECONDS', 30);
  const TTFT_STREAMS = setting('BENCH_TTFT_STREAMS', 200);
  const TTFT_WARMUP = setting('BENCH_TTFT_WARMUP', 50);
  const SAMPLE_SECONDS = Math.max(1, setting('BENCH_STREAM_SAMPLE_SECONDS', 5));
  const PROFILE = process.env.BENCH_PROFILE === '1';
  const FLOOR = process.env.BENCH_STREAM_FLOOR === '1';
  const TARGETS = { addedTtftP50Ms: 1, eventLoopP99Ms: 20, streams: 5000 };
  /** Every stream outlasts the ramp (twice over, for a slow one) and the hold. */
  const STREAM_TOKENS = Math.max(2, Math.ceil(((2 * RAMP_SECONDS + HOLD_SECONDS + 2) * 1000) / INTERVAL_MS));
  const STREAM_SECONDS = Math.ceil((STREAM_TOKENS * INTERVAL_MS) / 1000);

  checkFileLimit(STREAMS);

  const { cpuSeconds, startServer, writeProvidersFile } = await import('./server.mjs');

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const median = (xs) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);
  const percentile = (sorted, p) =>
    sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  const f = (x, digits = 3, width = 9) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a').padStart(width);
  const mb = (bytes) => (bytes / 2 ** 20).toFixed(0);
  const verdict = (ok) => (ok ? 'MET' : 'MISSED');
  const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);

  const work = mkdtempSync(join(tmpdir(), 'conflux-stream-bench-'));
  const profileDir = PROFILE ? mkdtempSync(join(tmpdir(), 'conflux-stream-prof-')) : null;
  /** Conflux's hold on the monotonic clock (µs, as the profile's) and the events relayed in it. */
  const profiled = { windows: [], requests: 0, unit: 'relayed event', scope: 'hold window' };
  const children = []; // the fake upstream and the bare relay
  let server = null;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await server?.stop().catch((err) => console.error(`stopping Conflux: ${err.message}`));
    for (const child of children) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(work, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      console.error(`\n${signal}: cleaning up`);
      void cleanup().finally(() => process.exit(128 + (signal === 'SIGINT' ? 2 : 15)));
    });
  }
  // The whole run has a bound: warm-ups and TTFT streams, each load's ramp, streams and drain.
  const loads = FLOOR ? 2 : 1;
  const budgetMs = 180_000 + 3 * (TTFT_STREAMS + TTFT_WARMUP) * 100 + loads * (RAMP_SECONDS + STREAM_SECONDS) * 2000;
  const watchdog = setTimeout(() => {
    console.error(`\n!!! the benchmark overran its ${Math.round(budgetMs / 1000)} s bound: stopping`);
    void cleanup().finally(() => process.exit(1));
  }, budgetMs);

  /** Starts this script in `mode` as a child; resolves with its port and the child. */
  async function startChild(mode, ...args) {
    const child = spawn(process.execPath, [SELF, mode, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    const port = await new Promise((resolve, reject) => {
      child.once('message', (m) => resolve(m.port));
      child.once('exit', (code) => reject(new Error(`${mode} exited with ${code}`)));
    });
    return { child, port };
  }

  /** A child's answer to 'stats' (see answerStats). */
  function childStats(child) {
    return new Promise((resolve) => {
      child.once('message', resolve);
      child.send('stats');
    });
  }

  // ------------------------------------------------------------------ the streams (client side)

  const requestBody = (tokens, interval) =>
    JSON.stringify({
      model: MODEL,
      messages: [{ role: 'user', content: `bench stream: tokens=${tokens} interval_ms=${interval}` }],
      max_tokens: tokens + 16,
      stream: true,
      stream_options: { include_usage: true },
    });
  const FIRST_CONTENT = /"content":"[^"]/;
  const DATA = Buffer.from('data:');
  const countData = (buf) => {
    let n = 0;
    for (let i = buf.indexOf(DATA); i >= 0; i = buf.indexOf(DATA, i + DATA.length)) n++;
    return n;
  };

  /**
   * Counters of one load: requests in flight (sent, not yet ended), streams open (first token in, not yet
   * ended), events, and the gaps between events in 1 ms buckets (the last one for 2 s or more).
   */
  const newLive = () => ({ inFlight: 0, open: 0, events: 0, gapsMs: new Uint32Array(2001) });

  /**
   * One streamed request. Resolves with { status, ttftMs (request sent → first content token), events,
   * error } once the response ended; never rejects. With `live`, counts into it.
   */
  function stream(target, body, agent, live = null) {
    return new Promise((resolve) => {
      const started = performance.now();
      const result = { status: 0, connectMs: NaN, headersMs: NaN, ttftMs: NaN, events: 0, error: null, ended: false };
      let tail = '';
      let last = 0;
      let opened = false;
      if (live) live.inFlight++;
      const finish = (error) => {
        if (opened) live.open--;
        opened = false;
        if (live && !result.ended) live.inFlight--;
        result.ended = true;
        if (error && !result.error) result.error = error;
        resolve(result);
      };
      const options = { agent, host: '127.0.0.1', port: target.port, path: '/v1/chat/completions', method: 'POST' };
      const req = http.request({ ...options, headers: target.headers }, (res) => {
        result.headersMs = performance.now() - started;
        result.status = res.statusCode;
        if (res.statusCode !== 200) {
          res.resume();
          res.once('end', () => finish(`HTTP ${res.statusCode}`));
          return;
        }
        res.on('data', (buf) => {
          const now = performance.now();
          const seam = tail.slice(-4) + buf.toString('latin1', 0, 4); // a 'data:' split across two reads
          const n = countData(buf) + (seam.includes('data:') ? 1 : 0);
          result.events += n;
          if (Number.isNaN(result.ttftMs) && FIRST_CONTENT.test(buf.toString('latin1'))) {
            result.ttftMs = now - started;
            if (live) {
              live.open++;
              opened = true;
            }
          }
          if (live) {
            live.events += n;
            if (last > 0) live.gapsMs[Math.min(2000, Math.round(now - last))]++;
            last = now;
          }
          tail = (tail + buf.toString('latin1', Math.max(0, buf.length - 64))).slice(-64);
        });
        res.once('end', () => {
          if (tail.endsWith('data: [DONE]\n\n')) finish(null);
          else finish(tail.includes('"error"') ? 'error event' : 'ended without [DONE]');
        });
        res.once('error', (err) => finish(`response ${err.code ?? err.message}`));
      });
      req.once('error', (err) => finish(`request ${err.code ?? err.message}`));
      req.once('socket', (socket) => {
        const connected = () => (result.connectMs = performance.now() - started);
        if (socket.connecting) socket.once('connect', connected);
        else connected(); // a kept-alive socket
      });
      req.end(body);
    });
  }

  /** Conflux's memory, event-loop and chat-flow figures from its /metrics. */
  async function confluxSample() {
    const text = await (await fetch(`${server.base}/metrics`, { signal: AbortSignal.timeout(60_000) })).text();
    const lines = text.split('\n');
    const value = (name) => {
      const line = lines.find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
      return line ? Number(line.split(' ').pop()) : NaN;
    };
    /** A histogram's sum and count over all its label sets. */
    const histogram = (name) => {
      let sum = 0;
      let count = 0;
      for (const line of lines) {
        if (line.startsWith(`${name}_sum`)) sum += Number(line.split(' ').pop());
        else if (line.startsWith(`${name}_count`)) count += Number(line.split(' ').pop());
      }
      return { sum, count };
    };
    return {
      at: performance.now(),
      rss: value('process_resident_memory_bytes'),
      heap: value('nodejs_heap_size_used_bytes'),
      external: value('nodejs_external_memory_bytes'),
      eldP99Ms: value('nodejs_eventloop_lag_p99_seconds') * 1000 - EVENT_LOOP_RESOLUTION_MS,
      eldMaxMs: value('nodejs_eventloop_lag_max_seconds') * 1000 - EVENT_LOOP_RESOLUTION_MS,
      handles: value('nodejs_active_handles_total'),
      firstEvent: histogram('conflux_llm_time_to_first_token_seconds'),
      overhead: histogram('conflux_llm_overhead_seconds'),
    };
  }

  /**
   * Ramps `target` to STREAMS open streams, holds them HOLD_SECONDS while `sample()` reads the server
   * every SAMPLE_SECONDS, then waits for every stream to end. `pid`: the server's, for its CPU.
   */
  async function measureLoad(name, target, sample, pid, upstreamChild) {
    const live = newLive();
    await sleep(2000);
    await sample(); // starts the event-loop figures afresh
    const idle = [];
    for (let i = 0; i < 3; i++) {
      await sleep(1000);
      idle.push(await sample());
    }

    console.log(
      `\n${STREAMS} concurrent streams through ${name}: opened evenly over ${RAMP_SECONDS} s, a token every ` +
        `${INTERVAL_MS} ms (${STREAM_TOKENS} tokens, ${STREAM_SECONDS} s each), held ${HOLD_SECONDS} s at full ` +
        `count; expected relay rate ${Math.round((STREAMS * 1000) / INTERVAL_MS)} events/s`,
    );
    const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    const body = requestBody(STREAM_TOKENS, INTERVAL_MS);
    const results = [];
    const rampStarted = performance.now();
    const rampCpu = cpuSeconds(pid);
    await new Promise((resolve) => {
      const launch = () => {
        const elapsed = (performance.now() - rampStarted) / 1000;
        const due = RAMP_SECONDS === 0 ? STREAMS : Math.min(STREAMS, Math.ceil((elapsed / RAMP_SECONDS) * STREAMS));
        while (results.length < due) results.push(stream(target, body, agent, live));
        if (results.length >= STREAMS) {
          clearInterval(ramp);
          resolve();
        }
      };
      const ramp = setInterval(launch, 10);
      launch();
    });
    // Wait (at most the ramp again, and 30 s) for every stream to have its first token.
    const openBy = performance.now() + Math.max(RAMP_SECONDS, 30) * 1000;
    while (live.open < STREAMS && performance.now() < openBy) await sleep(100);
    const rampSeconds = (performance.now() - rampStarted) / 1000;
    console.log(
      `  ramp: ${live.open} of ${STREAMS} streams open after ${rampSeconds.toFixed(1)} s (${live.inFlight} in ` +
        `flight); server CPU meanwhile ${((100 * (cpuSeconds(pid) - rampCpu)) / rampSeconds).toFixed(0)} % of one core`,
    );

    const clientEld = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
    await sleep(1000);
    await childStats(upstreamChild); // starts its event-loop figures afresh
    const afterRamp = await sample(); // and the server's
    if (afterRamp.firstEvent) {
      const before = idle.at(-1);
      const mean = (key) =>
        (1000 * (afterRamp[key].sum - before[key].sum)) / (afterRamp[key].count - before[key].count);
      console.log(
        `  Conflux's own view of the ramp (means): chat flow start → first upstream event ` +
          `${f(mean('firstEvent'), 1, 0)} ms, of which the gateway's own part (conflux_llm_overhead_seconds) ` +
          `${f(mean('overhead'), 1, 0)} ms`,
      );
    }
    const cpuBefore = cpuSeconds(pid);
    const eventsBefore = live.events;
    live.gapsMs.fill(0);
    clientEld.enable();
    const hold = [];
    let minOpen = live.open;
    const holdStarted = performance.now();
    const holdStartedUs = monotonicUs();
    console.log('     s  open/in flight   events/s   RSS MB   heap MB   event-loop delay p99 (max) ms');
    while (performance.now() - holdStarted < HOLD_SECONDS * 1000) {
      const until = Math.min(holdStarted + HOLD_SECONDS * 1000, performance.now() + SAMPLE_SECONDS * 1000);
      const eventsAt = live.events;
      const at = performance.now();
      while (performance.now() < until) {
        await sleep(Math.min(250, until - performance.now()));
        minOpen = Math.min(minOpen, live.open);
      }
      const s = await sample();
      s.open = live.open;
      s.inFlight = live.inFlight;
      s.rate = ((live.events - eventsAt) * 1000) / (s.at - at);
      hold.push(s);
      console.log(
        `  ${f((s.at - holdStarted) / 1000, 0, 4)}${`${s.open}/${s.inFlight}`.padStart(16)}${f(s.rate, 0, 11)}` +
          `${mb(s.rss).padStart(9)}${mb(s.heap).padStart(10)}${f(s.eldP99Ms, 1, 14)} (${f(s.eldMaxMs, 0, 0)})`,
      );
    }
    const holdSeconds = (performance.now() - holdStarted) / 1000;
    const window = [holdStartedUs, monotonicUs()];
    const cpuUsed = cpuSeconds(pid) - cpuBefore;
    const eventsHeld = live.events - eventsBefore;
    clientEld.disable();
    const upstreamEld = (await childStats(upstreamChild)).eldP99Ms;
    const gaps = live.gapsMs.slice();

    const drainBy = performance.now() + (STREAM_SECONDS + 60) * 1000;
    const settled = await Promise.race([
      Promise.all(results),
      new Promise((r) => setTimeout(r, Math.max(0, drainBy - performance.now()))).then(() => null),
    ]);
    agent.destroy(); // cuts whatever still runs
    const outcomes = settled ?? (await Promise.all(results));
    return {
      name,
      idle,
      hold,
      minOpen,
      cpuUsed,
      holdSeconds,
      eventsHeld,
      window,
      gaps,
      upstreamEld,
      clientEldMs: clientEld.percentile(99) / 1e6 - EVENT_LOOP_RESOLUTION_MS,
      outcomes,
      cut: settled === null,
    };
  }

  /** The summary of one load; `targets` adds the verdicts. */
  function report(r, targets) {
    const errors = new Map();
    for (const o of r.outcomes) if (o.error) errors.set(o.error, (errors.get(o.error) ?? 0) + 1);
    const during = (key) =>
      r.outcomes
        .map((o) => o[key])
        .filter(Number.isFinite)
        .sort((a, b) => a - b);
    const underLoad = during('ttftMs');
    const total = r.gaps.reduce((a, b) => a + b, 0);
    const gapPercentile = (p) => {
      let seen = 0;
      for (let ms = 0; ms < r.gaps.length; ms++) {
        seen += r.gaps[ms];
        if (seen >= (p / 100) * total) return ms;
      }
      return NaN;
    };
    const maxGap = r.gaps.findLastIndex((n) => n > 0);
    const idleOf = (key) => median(r.idle.map((s) => s[key]));
    const holdOf = (key) => median(r.hold.map((s) => s[key]));
    const perStream = (key) => median(r.hold.map((s) => (s[key] - idleOf(key)) / Math.max(1, s.inFlight))) / 1024;
    const eldWindows = r.hold.map((s) => s.eldP99Ms);
    const worstEld = Math.max(...eldWindows);
    const expectedRate = (STREAMS * 1000) / INTERVAL_MS;
    const rate = r.eventsHeld / r.holdSeconds;
    const target = (text) => (targets ? `   [target: ${text}]` : '');

    console.log(`\nsummary: ${r.name}, ${STREAMS} streams, ${HOLD_SECONDS} s hold`);
    console.log(
      `  streams open during the hold: at least ${r.minOpen} of ${STREAMS}` +
        target(
          `${TARGETS.streams} held by one instance, no errors → ` +
            verdict(r.minOpen >= TARGETS.streams && errors.size === 0),
        ),
    );
    console.log(
      `  relayed: ${rate.toFixed(0)} events/s received (${((100 * rate) / expectedRate).toFixed(1)} % of the ` +
        `${expectedRate.toFixed(0)} the upstream is asked for); server CPU ${((100 * r.cpuUsed) / r.holdSeconds).toFixed(0)} % ` +
        `of one core, ${((1e6 * r.cpuUsed) / Math.max(1, r.eventsHeld)).toFixed(1)} µs per relayed event`,
    );
    console.log(
      `  memory per stream (median over the hold's samples of (sample − idle) / streams in flight): ` +
        `RSS ${perStream('rss').toFixed(1)} KB, heap used ${perStream('heap').toFixed(1)} KB, external ` +
        `${perStream('external').toFixed(1)} KB; during the hold RSS ${mb(holdOf('rss'))} MB, heap ${mb(holdOf('heap'))} MB ` +
        `(idle ${mb(idleOf('rss'))} MB, ${mb(idleOf('heap'))} MB)` +
        (Number.isFinite(holdOf('handles'))
          ? `; active handles ${idleOf('handles')} idle, ${holdOf('handles')} held`
          : ''),
    );
    console.log(
      `  server event-loop delay p99 (beyond the 10 ms sampling interval), per ${SAMPLE_SECONDS} s window: ` +
        `worst ${f(worstEld, 1, 0)} ms, median ${f(median(eldWindows), 1, 0)} ms (idle ${f(idleOf('eldP99Ms'), 1, 0)} ms)` +
        target(`≤ ${TARGETS.eventLoopP99Ms} ms → ${verdict(worstEld <= TARGETS.eventLoopP99Ms)}`),
    );
    console.log(
      `  at the client: time to first token during the ramp p50 ${f(percentile(underLoad, 50), 1, 0)} ms, ` +
        `p99 ${f(percentile(underLoad, 99), 1, 0)} ms (connected p50 ${f(percentile(during('connectMs'), 50), 1, 0)} ms, ` +
        `response head p50 ${f(percentile(during('headersMs'), 50), 1, 0)} ms); gap between events p50 ${gapPercentile(50)} ms, ` +
        `p99 ${gapPercentile(99)} ms, max ${maxGap >= 2000 ? '≥ 2000' : maxGap} ms (the upstream sends every ${INTERVAL_MS} ms)`,
    );
    console.log(
      `  load generators' own event-loop delay p99 during the hold: fake upstream ${f(r.upstreamEld, 1, 0)} ms, ` +
        `this client ${f(r.clientEldMs, 1, 0)} ms (high values: the machine, not the server, set the pace)`,
    );
    if (errors.size === 0) console.log(`  errors: none (${r.outcomes.length} streams, each ended with [DONE])`);
    else {
      console.log(
        `  !!! errors: ${[...errors].map(([k, n]) => `${n} ${k}`).join(', ')} (of ${r.outcomes.length} streams)`,
      );
    }
    if (r.cut) console.log('  !!! some streams were still running at the drain deadline and were cut');
  }

  try {
    // ------------------------------------------------------------------ setup

    const upstream = await startChild('--fake-upstream');
    const floor = FLOOR ? await startChild('--relay-floor', String(upstream.port)) : null;
    server = await startServer(
      'conflux_bench_stream',
      {
        PROVIDERS_FILE: writeProvidersFile(work, `http://127.0.0.1:${upstream.port}`, MODEL),
        // A stream must be able to outlast its own length, whatever the default.
        GATEWAY_STREAM_DEADLINE_MS: String((STREAM_SECONDS + 120) * 1000),
      },
      { nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [] },
    );
    // A generous daily budget, so that every stream's hold and settle really check a limit.
    const quota = await fetch(`${server.base}/projects/${server.projectId}/quota`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', ...server.bearer },
      body: JSON.stringify({ daily_credits: 1e9 }),
    });
    if (!quota.ok) throw new Error(`PUT /projects/:id/quota: ${quota.status} ${await quota.text()}`);
    const json = { 'content-type': 'application/json' };
    const targets = {
      direct: { port: upstream.port, headers: json },
      ...(floor ? { floor: { port: floor.port, headers: json } } : {}),
      through: { port: Number(new URL(server.base).port), headers: { ...json, 'x-api-key': server.key } },
    };

    console.log(
      `node ${process.version}, ${cpus().length} CPUs; fake upstream (own process) on :${upstream.port}` +
        (floor ? `, bare relay on :${floor.port}` : '') +
        `, Conflux ${server.base} (pid ${server.pid}; API-key auth, quotas and ledger on Redis/Postgres, metrics, ` +
        `LOG_LEVEL=warn)` +
        (profileDir ? '; --cpu-prof ON (figures inflated by the profiler)' : ''),
    );

    // ------------------------------------------------------------------ time to first token

    const ttftBody = requestBody(3, 1);
    const ttft = Object.fromEntries(Object.keys(targets).map((name) => [name, []]));
    const ttftAgents = Object.fromEntries(
      Object.keys(targets).map((name) => [name, new http.Agent({ keepAlive: true, maxSockets: 1 })]),
    );
    const ttftErrors = [];
    const heads = [];
    let before = null;
    for (let i = 0; i < TTFT_WARMUP + TTFT_STREAMS; i++) {
      if (i === TTFT_WARMUP) before = await confluxSample();
      for (const name of Object.keys(targets)) {
        const r = await stream(targets[name], ttftBody, ttftAgents[name]);
        if (r.error) ttftErrors.push(`${name}: ${r.error}`);
        else if (i >= TTFT_WARMUP) {
          ttft[name].push(r.ttftMs);
          if (name === 'through') heads.push(r.headersMs);
        }
      }
    }
    const after = await confluxSample();
    for (const agent of Object.values(ttftAgents)) agent.destroy();
    const stats = Object.fromEntries(
      Object.entries(ttft).map(([name, xs]) => {
        const sorted = [...xs].sort((a, b) => a - b);
        return [name, { p50: percentile(sorted, 50), p99: percentile(sorted, 99) }];
      }),
    );
    const addedP50 = stats.through.p50 - stats.direct.p50;
    console.log(
      `\ntime to first token, ${TTFT_STREAMS} sequential streams each way, alternating (after ${TTFT_WARMUP} ` +
        'each to warm up); the upstream sends its first token at once:',
    );
    for (const name of Object.keys(targets)) {
      console.log(`  ${name.padEnd(8)} p50 ${f(stats[name].p50)} ms   p99 ${f(stats[name].p99)} ms`);
    }
    console.log(
      `  added by Conflux: p50 ${f(addedP50, 3, 0)} ms, p99 ${f(stats.through.p99 - stats.direct.p99, 3, 0)} ms` +
        `   [target: added p50 ≤ ${TARGETS.addedTtftP50Ms} ms → ${verdict(addedP50 <= TARGETS.addedTtftP50Ms)}]`,
    );
    if (floor) console.log(`  added by the bare relay: p50 ${f(stats.floor.p50 - stats.direct.p50, 3, 0)} ms`);
    const meanMs = (key) =>
      ((after[key].sum - before[key].sum) / Math.max(1, after[key].count - before[key].count)) * 1000;
    console.log(
      `  through: response head p50 ${f(
        percentile(
          [...heads].sort((a, b) => a - b),
          50,
        ),
      )} ms; Conflux's own view ` +
        `(means): chat flow start → first upstream event ${f(meanMs('firstEvent'))} ms, of which the gateway's own ` +
        `part ${f(meanMs('overhead'))} ms`,
    );
    if (ttftErrors.length > 0) console.log(`  !!! ${ttftErrors.length} failed: ${ttftErrors.slice(0, 5).join('; ')}`);

    // ------------------------------------------------------------------ concurrent streams

    const conflux = await measureLoad('Conflux', targets.through, confluxSample, server.pid, upstream.child);
    profiled.windows.push(conflux.window);
    profiled.requests = conflux.eventsHeld;
    const bare = floor
      ? await measureLoad(
          'the bare relay',
          targets.floor,
          async () => ({ at: performance.now(), ...(await childStats(floor.child)) }),
          floor.child.pid,
          upstream.child,
        )
      : null;
    report(conflux, true);
    if (bare) report(bare, false);
  } finally {
    clearTimeout(watchdog);
    await cleanup(); // Conflux writes its profile as it exits
  }
  if (profileDir && server) {
    // The main thread's profile: CPU.<date>.<time>.<pid>.<thread id, 0 for the main thread>.<n>.cpuprofile
    const file = readdirSync(profileDir).find((name) => name.includes(`.${server.pid}.0.`));
    if (!file) console.log(`\n!!! no main-thread .cpuprofile in ${profileDir}`);
    else {
      console.log(`\nCPU profile of Conflux's main thread: ${join(profileDir, file)}`);
      summariseProfile(join(profileDir, file), profiled);
    }
  }
}
