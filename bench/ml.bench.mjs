// The shipped trading-signal model on this machine: raw onnxruntime single-row latency, then the built
// server's /predict at 1 and 64 connections with micro-batching off and on, /api/ml/predict/batch
// predictions per second, and the server's event-loop delay p99 while inference runs at full load
// (read from its own nodejs_eventloop_lag_p99_seconds, which resets at every scrape). Then the same
// for a heavier model built here, whose single row costs milliseconds, so that batching has weights to
// amortise: raw single-row and 64-row latency, /predict at 64 connections with batching off and on.
// Prints figures; asserts nothing.
//
// The heavier model is the shipped model's family (its standardisation, features and outputs) with
// wide untrained hidden layers (He-initialised from a fixed seed; its predictions mean nothing), written
// by the same ONNX exporter as the shipped model (tools/train-signal/onnx-export.ts), registered on
// both servers as `bench-heavy` through the admin API and promoted to production.
//
//   npm run bench:ml
//   BENCH_SECONDS=5 npm run bench:ml
//   BENCH_ROUNDS=5 npm run bench:ml     # rounds alternate between the two servers; medians (default 3)
//   BENCH_HEAVY_HIDDEN=4096,4096 npm run bench:ml   # hidden layer widths of the heavier model (default 3072,3072)
//   BENCH_HEAVY=0 npm run bench:ml      # the shipped model only
//   BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench:ml   # profile the servers
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import ort from 'onnxruntime-node';
import { Pool } from 'undici';
import { load, postJson, SECONDS, startServer } from './server.mjs';

const { loadEuStockMarkets } = await import('../dist/tools/train-signal/dataset.js');
const { signalFeatures, SIGNAL_MIN_HISTORY } = await import('../dist/tools/train-signal/features.js');
const { exportSignalModelToOnnx, signalModelFromOnnx } = await import('../dist/tools/train-signal/onnx-export.js');
const { mulberry32 } = await import('../dist/tools/train-signal/model.js');
const { shippedSignalModelFiles } = await import('../dist/src/ml/shipped/shipped-model.js');

const RAW_RUNS = Number(process.env.BENCH_RAW_RUNS ?? 5000);
const BATCH_ITEMS = Number(process.env.BENCH_BATCH_ITEMS ?? 100);
const SEQUENTIAL_RUNS = Number(process.env.BENCH_SEQUENTIAL_RUNS ?? 2000);
const HEAVY = process.env.BENCH_HEAVY !== '0';
const HEAVY_HIDDEN = (process.env.BENCH_HEAVY_HIDDEN ?? '3072,3072').split(',').map(Number);
const HEAVY_RAW_RUNS = Number(process.env.BENCH_HEAVY_RAW_RUNS ?? 300);
const HEAVY_SEQUENTIAL_RUNS = Number(process.env.BENCH_HEAVY_SEQUENTIAL_RUNS ?? 300);
const HEAVY_MODEL = 'bench-heavy';
/** The rows of one batch in the raw measurement: ML_BATCH_MAX_SIZE's default. */
const RAW_BATCH_ROWS = 64;
const TARGETS = { batchingRatio: 3, httpOverheadMs: 0.5 };
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

/**
 * Raw onnxruntime in this process, with the servers' session settings: `runs` single rows timed one
 * by one, and (`batchRuns` > 0) as many runs of RAW_BATCH_ROWS rows stacked in one tensor.
 */
async function rawInference(model, runs, batchRuns = 0) {
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const inputName = session.inputNames[0];
  const feed = (rows) => ({
    [inputName]: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, rows[0].length]),
  });
  const timed = async (count, rowsOf) => {
    const times = [];
    for (let i = 0; i < count; i++) {
      const input = feed(rowsOf(i));
      const started = performance.now();
      await session.run(input);
      times.push(performance.now() - started);
    }
    return times.sort((a, b) => a - b);
  };
  const one = (i) => [vectors[i % vectors.length]];
  await timed(Math.min(200, runs), one);
  const times = await timed(runs, one);
  const batch = (i) => Array.from({ length: RAW_BATCH_ROWS }, (_, r) => vectors[(i + r) % vectors.length]);
  const batched = batchRuns > 0 ? await timed(batchRuns, batch) : [];
  await session.release();
  return {
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    mean: times.reduce((a, b) => a + b, 0) / times.length,
    batchP50: batched.length > 0 ? percentile(batched, 50) : NaN,
  };
}

/**
 * The heavier model: the shipped model's standardisation, feature names and class returns, with
 * hidden layers of HEAVY_HIDDEN widths, He-initialised from a fixed seed (untrained).
 */
function heavyModelBytes() {
  const shipped = signalModelFromOnnx(readFileSync(shippedSignalModelFiles().onnx));
  const rand = mulberry32(20_261_206);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const sizes = [shipped.mean.length, ...HEAVY_HIDDEN, 3];
  const layers = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const std = Math.sqrt((l + 2 < sizes.length ? 2 : 1) / sizes[l]);
    const weights = Array.from({ length: sizes[l] }, () =>
      Array.from({ length: sizes[l + 1] }, () => gaussian() * std),
    );
    layers.push({ weights, bias: new Array(sizes[l + 1]).fill(0) });
  }
  return Buffer.from(exportSignalModelToOnnx({ ...shipped, layers }, { graphName: 'bench_heavy' }));
}

/** Registers the heavier model on a server and puts `bytes` in production; returns when it serves. */
async function registerHeavy(server, bytes) {
  const sidecar = JSON.parse(readFileSync(shippedSignalModelFiles().sidecar, 'utf8'));
  await postJson(
    server.base,
    '/api/ml/models',
    {
      name: HEAVY_MODEL,
      task: 'benchmark stand-in: untrained wide MLP, predictions mean nothing',
      input_signature: { name: 'features', dtype: 'float32', shape: [-1, sidecar.inputs[0].shape[1]] },
      output_mapping: {
        probabilities: 'probabilities',
        labels: ['SELL', 'HOLD', 'BUY'],
        expected_return: 'expected_return',
      },
    },
    server.bearer,
  );
  const form = new FormData();
  form.append('version', 'v1');
  form.append('stage', 'production');
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'application/octet-stream' }), 'heavy.onnx');
  const res = await fetch(`${server.base}/api/ml/models/${HEAVY_MODEL}/versions`, {
    method: 'POST',
    headers: server.bearer,
    body: form,
    signal: AbortSignal.timeout(120_000),
  });
  if (!res.ok) throw new Error(`uploading ${HEAVY_MODEL}: ${res.status} ${await res.text()}`);
}

async function eventLoopP99(base) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('nodejs_eventloop_lag_p99_seconds'));
  return line ? Number(line.split(' ').pop()) * 1000 - EVENT_LOOP_RESOLUTION_MS : NaN;
}

/** `model`: the registered model to ask for (default: the server's default model, the shipped one). */
function predictRequests(symbolCount, model) {
  return vectors.slice(0, symbolCount).map((features, i) => ({
    method: 'POST',
    path: '/predict',
    body: JSON.stringify({ symbol: `SYM${i}`, features, model }),
  }));
}

/** One connection, one request at a time, timed here to the microsecond (autocannon rounds to 1 ms). */
async function sequentialLatency(base, headers, runs = SEQUENTIAL_RUNS, model = undefined) {
  const pool = new Pool(base, { connections: 1, pipelining: 1 });
  const times = [];
  const warmUp = Math.min(200, runs);
  try {
    for (let i = 0; i < runs + warmUp; i++) {
      const body = JSON.stringify({ symbol: `SYM${i % 64}`, features: vectors[i % vectors.length], model });
      const started = performance.now();
      const res = await pool.request({ path: '/predict', method: 'POST', headers, body });
      await res.body.arrayBuffer();
      if (res.statusCode !== 200) throw new Error(`/predict answered ${res.statusCode}`);
      if (i >= warmUp) times.push(performance.now() - started);
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

const raw = await rawInference(shippedSignalModelFiles().onnx, RAW_RUNS);
console.log(`raw onnxruntime, one row, ${RAW_RUNS} runs in this process (intra/inter-op threads 1, graph 'all'):`);
console.log(`  p50 ${raw.p50.toFixed(3)} ms, p99 ${raw.p99.toFixed(3)} ms, mean ${raw.mean.toFixed(3)} ms`);

let heavyBytes = null;
let heavyRaw = null;
if (HEAVY) {
  const started = performance.now();
  heavyBytes = heavyModelBytes();
  const built = performance.now() - started;
  heavyRaw = await rawInference(heavyBytes, HEAVY_RAW_RUNS, Math.max(10, Math.round(HEAVY_RAW_RUNS / 10)));
  console.log(
    `\nheavier model ${HEAVY_MODEL}: MLP ${[vectors[0].length, ...HEAVY_HIDDEN, 3].join('-')}, ` +
      `${(heavyBytes.length / 2 ** 20).toFixed(1)} MB of ONNX (written in ${(built / 1000).toFixed(1)} s); raw onnxruntime ` +
      `in this process: one row p50 ${heavyRaw.p50.toFixed(3)} ms, p99 ${heavyRaw.p99.toFixed(3)} ms; ` +
      `${RAW_BATCH_ROWS} rows in one run p50 ${heavyRaw.batchP50.toFixed(2)} ms ` +
      `(${(heavyRaw.batchP50 / RAW_BATCH_ROWS).toFixed(3)} ms a row: ${(heavyRaw.p50 / (heavyRaw.batchP50 / RAW_BATCH_ROWS)).toFixed(1)}x ` +
      'fewer ms a row than one by one, the most batching can gain)',
  );
  if (heavyRaw.p50 < 1 || heavyRaw.p50 > 5) {
    console.log('  (a row is meant to cost 1-5 ms: adjust BENCH_HEAVY_HIDDEN for this machine)');
  }
}

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
  if (HEAVY) {
    result.heavySeq = await sequentialLatency(server.base, headers, HEAVY_SEQUENTIAL_RUNS, HEAVY_MODEL);
    await eventLoopP99(server.base);
    const r = await load(`${server.base}/predict`, 64, { headers, requests: predictRequests(64, HEAVY_MODEL) });
    const lag = await eventLoopP99(server.base);
    result.heavy = { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, lag };
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
    if (HEAVY) await registerHeavy(server, heavyBytes);
    // Warm up the route, the workers and the sessions.
    const headers = { 'x-api-key': server.key, 'content-type': 'application/json' };
    await load(`${server.base}/predict`, 8, { headers, requests: predictRequests(64), duration: 2 });
    if (HEAVY) {
      await load(`${server.base}/predict`, 8, { headers, requests: predictRequests(64, HEAVY_MODEL), duration: 2 });
    }
  }
  const rounds = { false: [], true: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const batching of [false, true]) {
      const r = await measure(servers[batching]);
      rounds[batching].push(r);
      console.log(
        `round ${round}, batching ${batching ? 'on ' : 'off'}: sequential p50 ${r.seq.p50.toFixed(3)} ms; ` +
          `1 conn ${r[1].rps.toFixed(0)} rps; 64 conns ${r[64].rps.toFixed(0)} rps, event-loop p99 ${r[64].lag.toFixed(2)} ms; ` +
          `batch ${r.batch.predictions.toFixed(0)} predictions/s, event-loop p99 ${r.batch.lag.toFixed(2)} ms` +
          (HEAVY
            ? `; ${HEAVY_MODEL}: sequential p50 ${r.heavySeq.p50.toFixed(3)} ms, 64 conns ${r.heavy.rps.toFixed(0)} rps`
            : ''),
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
      heavySeq: HEAVY ? { p50: m((r) => r.heavySeq.p50), p99: m((r) => r.heavySeq.p99) } : null,
      heavy: HEAVY
        ? {
            rps: m((r) => r.heavy.rps),
            p50: m((r) => r.heavy.p50),
            p99: m((r) => r.heavy.p99),
            lag: m((r) => r.heavy.lag),
          }
        : null,
      non2xx: rs.reduce((sum, r) => sum + r[1].non2xx + r[64].non2xx + r.batch.non2xx + (r.heavy?.non2xx ?? 0), 0),
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
    if (HEAVY) {
      console.log(
        `  ${HEAVY_MODEL}: ${HEAVY_SEQUENTIAL_RUNS} sequential requests p50 ${r.heavySeq.p50.toFixed(3)} ms, ` +
          `p99 ${r.heavySeq.p99.toFixed(3)} ms; 64 conns ${r.heavy.rps.toFixed(0)} rps, p50 ${fmt(r.heavy.p50, 2, 0)} ms, ` +
          `p99 ${fmt(r.heavy.p99, 2, 0)} ms, event-loop delay p99 ${r.heavy.lag.toFixed(2)} ms`,
      );
    }
    console.log(`  non-2xx answers over all rounds: ${r.non2xx}`);
  }

  const [off, on] = [med[false], med[true]];
  console.log(`\ntargets${Object.keys(PASS_THROUGH).length ? ` (with ${JSON.stringify(PASS_THROUGH)})` : ''}`);
  // Paired per round (the two servers were measured back to back), so a slow spell counts against both.
  const verdict = (ok) => (ok ? 'MET' : 'MISSED');
  const ratioLine = (name, rpsOf) => {
    const ratios = rounds.true.map((r, i) => rpsOf(r) / rpsOf(rounds.false[i]));
    const ratio = median(ratios);
    return (
      `${ratio.toFixed(2)}x, median of the rounds (per round ${ratios.map((x) => x.toFixed(2)).join(', ')}; ` +
      `ratio of the medians ${(rpsOf(on) / rpsOf(off)).toFixed(2)}x)` +
      (name === HEAVY_MODEL
        ? ` [target >= ${TARGETS.batchingRatio}x → ${verdict(ratio >= TARGETS.batchingRatio)}]`
        : '')
    );
  };
  if (HEAVY) {
    console.log(
      `  micro-batching / no batching RPS at 64 conns, ${HEAVY_MODEL} (${heavyRaw.p50.toFixed(2)} ms a row raw): ` +
        ratioLine(HEAVY_MODEL, (r) => r.heavy.rps),
    );
  }
  console.log(
    `  ${HEAVY ? 'the same for' : 'micro-batching / no batching RPS at 64 conns,'} the shipped model ` +
      `(${raw.p50.toFixed(3)} ms a row raw): ${ratioLine('shipped', (r) => r[64].rps)}`,
  );
  const overheadOff = off.seq.p50 - raw.p50;
  const overheadOn = on.seq.p50 - raw.p50;
  console.log(
    `  /predict p50 over raw inference (shipped model, sequential): ${overheadOff.toFixed(2)} ms batching off, ` +
      `${overheadOn.toFixed(2)} ms batching on (the default) [target <= ${TARGETS.httpOverheadMs} ms → ` +
      `${verdict(overheadOn <= TARGETS.httpOverheadMs)}]`,
  );
  if (HEAVY) {
    console.log(
      `    the same for ${HEAVY_MODEL}: ${(off.heavySeq.p50 - heavyRaw.p50).toFixed(2)} ms batching off, ` +
        `${(on.heavySeq.p50 - heavyRaw.p50).toFixed(2)} ms on`,
    );
  }
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
