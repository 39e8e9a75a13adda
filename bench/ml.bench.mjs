// The shipped trading-signal model on this machine: raw onnxruntime single-row latency, then the built
// server's /predict at 1 and 64 connections with micro-batching off and on, /api/ml/predict/batch
// predictions per second, and the server's event-loop delay p99 while inference runs at full load
// (read from its own nodejs_eventloop_lag_p99_seconds, which resets at every scrape). Prints figures;
// asserts nothing.
//
//   npm run bench:ml
//   BENCH_SECONDS=5 npm run bench:ml
//   BENCH_ROUNDS=5 npm run bench:ml     # rounds alternate between the two servers; medians (default 3)
//   BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench:ml   # profile the servers
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import { Pool } from 'undici';
import { load, SECONDS, startServer } from './server.mjs';

const { loadEuStockMarkets } = await import('../dist/tools/train-signal/dataset.js');
const { signalFeatures, SIGNAL_MIN_HISTORY } = await import('../dist/tools/train-signal/features.js');
const { shippedSignalModelFiles } = await import('../dist/src/ml/shipped/shipped-model.js');

const RAW_RUNS = Number(process.env.BENCH_RAW_RUNS ?? 5000);
const BATCH_ITEMS = Number(process.env.BENCH_BATCH_ITEMS ?? 100);
const SEQUENTIAL_RUNS = Number(process.env.BENCH_SEQUENTIAL_RUNS ?? 2000);
/** prom-client samples the event loop every 10 ms and its lag figures include that interval. */
const EVENT_LOOP_RESOLUTION_MS = 10;
/** Batching settings passed through to the server when set (e.g. ML_BATCH_MAX_DELAY_MS=0). */
const PASS_THROUGH = Object.fromEntries(
  ['ML_BATCH_MAX_DELAY_MS', 'ML_BATCH_MAX_SIZE', 'ML_WORKER_THREADS']
    .filter((k) => process.env[k])
    .map((k) => [k, process.env[k]]),
);

/** Real feature vectors: 21-day windows of the DAX closes. */
const dax = loadEuStockMarkets()[0].prices;
const vectors = [];
for (let t = SIGNAL_MIN_HISTORY; t < dax.length && vectors.length < 256; t += 7) {
  vectors.push(signalFeatures(dax.slice(t - SIGNAL_MIN_HISTORY, t)));
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function rawInference() {
  const session = await ort.InferenceSession.create(shippedSignalModelFiles().onnx, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const inputName = session.inputNames[0];
  const feed = (v) => ({ [inputName]: new ort.Tensor('float32', Float32Array.from(v), [1, v.length]) });
  for (let i = 0; i < 200; i++) await session.run(feed(vectors[i % vectors.length]));
  const times = [];
  for (let i = 0; i < RAW_RUNS; i++) {
    const started = performance.now();
    await session.run(feed(vectors[i % vectors.length]));
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  await session.release();
  return {
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    mean: times.reduce((a, b) => a + b, 0) / times.length,
  };
}

async function eventLoopP99(base) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('nodejs_eventloop_lag_p99_seconds'));
  return line ? Number(line.split(' ').pop()) * 1000 - EVENT_LOOP_RESOLUTION_MS : NaN;
}

function predictRequests(symbolCount) {
  return vectors.slice(0, symbolCount).map((features, i) => ({
    method: 'POST',
    path: '/predict',
    body: JSON.stringify({ symbol: `SYM${i}`, features }),
  }));
}

/** One connection, one request at a time, timed here to the microsecond (autocannon rounds to 1 ms). */
async function sequentialLatency(base, headers) {
  const pool = new Pool(base, { connections: 1, pipelining: 1 });
  const times = [];
  try {
    for (let i = 0; i < SEQUENTIAL_RUNS + 200; i++) {
      const body = JSON.stringify({ symbol: `SYM${i % 64}`, features: vectors[i % vectors.length] });
      const started = performance.now();
      const res = await pool.request({ path: '/predict', method: 'POST', headers, body });
      await res.body.arrayBuffer();
      if (res.statusCode !== 200) throw new Error(`/predict answered ${res.statusCode}`);
      if (i >= 200) times.push(performance.now() - started);
    }
  } finally {
    await pool.close();
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

function fmt(x, digits = 2, width = 10) {
  return (Number.isFinite(x) ? x.toFixed(digits) : 'n/a').padStart(width);
}

const raw = await rawInference();
console.log(`raw onnxruntime, one row, ${RAW_RUNS} runs in this process (intra/inter-op threads 1, graph 'all'):`);
console.log(`  p50 ${raw.p50.toFixed(3)} ms, p99 ${raw.p99.toFixed(3)} ms, mean ${raw.mean.toFixed(3)} ms`);

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const items = Array.from({ length: BATCH_ITEMS }, (_, i) => ({
  symbol: `SYM${i}`,
  features: vectors[i % vectors.length],
}));

/** One round of every measurement against one server. */
async function measure(server) {
  const headers = { 'x-api-key': server.key, 'content-type': 'application/json' };
  const result = { seq: await sequentialLatency(server.base, headers) };
  for (const connections of [1, 64]) {
    await eventLoopP99(server.base);
    const r = await load(`${server.base}/predict`, connections, { headers, requests: predictRequests(64) });
    const lag = await eventLoopP99(server.base);
    result[connections] = { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, lag };
  }
  await eventLoopP99(server.base);
  const b = await load(`${server.base}/api/ml/predict/batch`, 4, {
    method: 'POST',
    headers,
    body: JSON.stringify({ items }),
  });
  result.batch = {
    predictions: b.requests.average * BATCH_ITEMS,
    p50: b.latency.p50,
    non2xx: b.non2xx,
    lag: await eventLoopP99(server.base),
  };
  return result;
}

// Both servers run for the whole benchmark and the rounds alternate between them, so that a
// slow spell of this machine does not land on one mode only; the figures are medians.
const servers = {};
try {
  for (const batching of [false, true]) {
    const server = await startServer(`conflux_bench_ml_${batching ? 'on' : 'off'}`, {
      ML_BATCHING: String(batching),
      ML_RECORD_PREDICTIONS: process.env.BENCH_RECORD_PREDICTIONS ?? 'true',
      ...PASS_THROUGH,
    });
    servers[batching] = server;
    // Warm up the route, the workers and the sessions.
    const headers = { 'x-api-key': server.key, 'content-type': 'application/json' };
    await load(`${server.base}/predict`, 8, { headers, requests: predictRequests(64), duration: 2 });
  }
  const rounds = { false: [], true: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const batching of [false, true]) {
      const r = await measure(servers[batching]);
      rounds[batching].push(r);
      console.log(
        `round ${round}, batching ${batching ? 'on ' : 'off'}: sequential p50 ${r.seq.p50.toFixed(3)} ms; ` +
          `1 conn ${r[1].rps.toFixed(0)} rps; 64 conns ${r[64].rps.toFixed(0)} rps, event-loop p99 ${r[64].lag.toFixed(2)} ms; ` +
          `batch ${r.batch.predictions.toFixed(0)} predictions/s, event-loop p99 ${r.batch.lag.toFixed(2)} ms`,
      );
    }
  }

  const med = {};
  for (const batching of [false, true]) {
    const rs = rounds[batching];
    const m = (get) => median(rs.map(get));
    med[batching] = {
      seq: { p50: m((r) => r.seq.p50), p99: m((r) => r.seq.p99) },
      1: { rps: m((r) => r[1].rps), p50: m((r) => r[1].p50), p99: m((r) => r[1].p99), lag: m((r) => r[1].lag) },
      64: { rps: m((r) => r[64].rps), p50: m((r) => r[64].p50), p99: m((r) => r[64].p99), lag: m((r) => r[64].lag) },
      batch: { predictions: m((r) => r.batch.predictions), p50: m((r) => r.batch.p50), lag: m((r) => r.batch.lag) },
      non2xx: rs.reduce((sum, r) => sum + r[1].non2xx + r[64].non2xx + r.batch.non2xx, 0),
    };
  }

  console.log(`\nmedians of ${ROUNDS} rounds (${SECONDS} s per load run)`);
  for (const batching of [false, true]) {
    const r = med[batching];
    const label = `micro-batching ${batching ? 'on ' : 'off'}`;
    console.log(
      `\n/predict, ${label}: ${SEQUENTIAL_RUNS} sequential requests on one connection: ` +
        `p50 ${r.seq.p50.toFixed(3)} ms, p99 ${r.seq.p99.toFixed(3)} ms`,
    );
    console.log('  conns      rps    p50 ms    p99 ms  event-loop delay p99 ms');
    for (const connections of [1, 64]) {
      const c = r[connections];
      console.log(
        `  ${String(connections).padStart(5)}${c.rps.toFixed(0).padStart(9)}${fmt(c.p50)}${fmt(c.p99)}${fmt(c.lag, 2, 19)}`,
      );
    }
    console.log(
      `  /api/ml/predict/batch of ${BATCH_ITEMS} at 4 conns: ${r.batch.predictions.toFixed(0)} predictions/s ` +
        `(p50 ${r.batch.p50.toFixed(2)} ms per request; event-loop delay p99 ${r.batch.lag.toFixed(2)} ms)`,
    );
    console.log(`  non-2xx answers over all rounds: ${r.non2xx}`);
  }

  const [off, on] = [med[false], med[true]];
  console.log(`\ntargets${Object.keys(PASS_THROUGH).length ? ` (with ${JSON.stringify(PASS_THROUGH)})` : ''}`);
  // Paired per round (the two servers were measured back to back), so a slow spell counts against both.
  const ratios = rounds.true.map((r, i) => r[64].rps / rounds.false[i][64].rps);
  console.log(
    `  micro-batching / no batching RPS at 64 conns: ${median(ratios).toFixed(2)}x, median of the rounds ` +
      `(target >= 2x; per round ${ratios.map((x) => x.toFixed(2)).join(', ')}; ratio of the medians ` +
      `${(on[64].rps / off[64].rps).toFixed(2)}x)`,
  );
  console.log(
    `  HTTP p50 over raw inference at 1 conn: ${(off.seq.p50 - raw.p50).toFixed(2)} ms batching off, ` +
      `${(on.seq.p50 - raw.p50).toFixed(2)} ms batching on (target <= 1 ms)`,
  );
  console.log(
    `  event-loop delay p99 (beyond the 10 ms sampling interval) at 64 conns: ${off[64].lag.toFixed(2)} ms batching off, ` +
      `${on[64].lag.toFixed(2)} ms on (target <= 10 ms)`,
  );
  console.log(
    `    the same during /api/ml/predict/batch (${BATCH_ITEMS} rows a request, 4 conns): ` +
      `${off.batch.lag.toFixed(2)} ms batching off, ${on.batch.lag.toFixed(2)} ms on`,
  );
} finally {
  for (const server of Object.values(servers)) await server.stop();
}
