// The shipped trading-signal model on this machine: raw onnxruntime single-row latency, then the built
// server's /predict at 1 and 64 connections with micro-batching off and on, /api/ml/predict/batch
// predictions per second, and the server's event-loop delay p99 while inference runs at full load
// (read from its own nodejs_eventloop_lag_p99_seconds, which resets at every scrape). Prints figures;
// asserts nothing.
//
//   npm run bench:ml
//   BENCH_SECONDS=5 npm run bench:ml
//   BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench:ml   # profile the servers
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import { Pool } from 'undici';
import { load, SECONDS, startServer } from './server.mjs';

const { loadEuStockMarkets } = await import('../dist/src/ml/training/dataset.js');
const { signalFeatures, SIGNAL_MIN_HISTORY } = await import('../dist/src/ml/training/features.js');
const { shippedSignalModelFiles } = await import('../dist/src/ml/training/shipped-model.js');

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

const results = {};
for (const batching of [false, true]) {
  const server = await startServer(`conflux_bench_ml_${batching ? 'on' : 'off'}`, {
    ML_BATCHING: String(batching),
    ML_RECORD_PREDICTIONS: process.env.BENCH_RECORD_PREDICTIONS ?? 'true',
    ...PASS_THROUGH,
  });
  try {
    const headers = { 'x-api-key': server.key, 'content-type': 'application/json' };
    // Warm up the route, the workers and the sessions.
    await load(`${server.base}/predict`, 8, { headers, requests: predictRequests(64), duration: 2 });
    const label = `micro-batching ${batching ? 'on ' : 'off'}`;
    const seq = await sequentialLatency(server.base, headers);
    results[`${batching}:seq`] = seq;
    console.log(
      `\n/predict, ${label}: ${SEQUENTIAL_RUNS} sequential requests on one connection: ` +
        `p50 ${seq.p50.toFixed(3)} ms, p99 ${seq.p99.toFixed(3)} ms`,
    );
    console.log(`\n/predict, ${label} (${SECONDS} s per run)`);
    console.log('  conns      rps    p50 ms    p99 ms  non-2xx  event-loop delay p99 ms');
    for (const connections of [1, 64]) {
      await eventLoopP99(server.base);
      const r = await load(`${server.base}/predict`, connections, { headers, requests: predictRequests(64) });
      const lag = await eventLoopP99(server.base);
      results[`${batching}:${connections}`] = { rps: r.requests.average, p50: r.latency.p50, lag };
      console.log(
        `  ${String(connections).padStart(5)}${r.requests.average.toFixed(0).padStart(9)}${fmt(r.latency.p50)}` +
          `${fmt(r.latency.p99)}${String(r.non2xx).padStart(9)}${fmt(lag, 2, 19)}`,
      );
    }
    const items = Array.from({ length: BATCH_ITEMS }, (_, i) => ({
      symbol: `SYM${i}`,
      features: vectors[i % vectors.length],
    }));
    await eventLoopP99(server.base);
    const b = await load(`${server.base}/api/ml/predict/batch`, 4, {
      method: 'POST',
      headers,
      body: JSON.stringify({ items }),
    });
    const batchLag = await eventLoopP99(server.base);
    results[`${batching}:batch`] = { lag: batchLag };
    console.log(
      `  /api/ml/predict/batch of ${BATCH_ITEMS} at 4 conns: ${(b.requests.average * BATCH_ITEMS).toFixed(0)} predictions/s ` +
        `(p50 ${b.latency.p50.toFixed(2)} ms per request, non-2xx ${b.non2xx}; event-loop delay p99 ${batchLag.toFixed(2)} ms)`,
    );
  } finally {
    await server.stop();
  }
}

const off64 = results['false:64'];
const on64 = results['true:64'];
const on1 = results['true:seq'];
const off1 = results['false:seq'];
console.log(`\ntargets${Object.keys(PASS_THROUGH).length ? ` (with ${JSON.stringify(PASS_THROUGH)})` : ''}`);
console.log(`  micro-batching / no batching RPS at 64 conns: ${(on64.rps / off64.rps).toFixed(2)}x (target >= 2x)`);
console.log(
  `  HTTP p50 over raw inference at 1 conn: ${(off1.p50 - raw.p50).toFixed(2)} ms batching off, ` +
    `${(on1.p50 - raw.p50).toFixed(2)} ms batching on (target <= 1 ms)`,
);
console.log(
  `  event-loop delay p99 (beyond the 10 ms sampling interval) at 64 conns: ${off64.lag.toFixed(2)} ms batching off, ${on64.lag.toFixed(2)} ms on (target <= 10 ms)`,
);
console.log(
  `    the same during /api/ml/predict/batch (${BATCH_ITEMS} rows a request, 4 conns): ` +
    `${results['false:batch'].lag.toFixed(2)} ms batching off, ${results['true:batch'].lag.toFixed(2)} ms on`,
);
