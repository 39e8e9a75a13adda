// /forecast over HTTP through the built server: a 100-point series (the dashboards' case) at
// 1 and 16 connections, and a 100-item batch.
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { load, SECONDS, startServer } from './server.mjs';

const SEQUENTIAL_RUNS = Number(process.env.BENCH_SEQUENTIAL_RUNS ?? 1000);
const ROUNDS = 5;

/**
 * One connection, one request at a time, timed here to the microsecond (autocannon rounds to 1 ms). The
 * cases take turns, in rounds of SEQUENTIAL_RUNS / 5 requests each after a warm-up of every case, so that
 * the load of the machine weighs on all of them alike.
 */
async function sequential(base, cases, headers) {
  const pool = new Pool(base, { connections: 1, pipelining: 1 });
  const times = cases.map(() => []);
  const once = async (path, body) => {
    const started = performance.now();
    const res = await pool.request({ path, method: 'POST', headers, body });
    await res.body.arrayBuffer();
    if (res.statusCode !== 200) throw new Error(`${path} answered ${res.statusCode}`);
    return performance.now() - started;
  };
  try {
    for (const [, path, body] of cases) for (let i = 0; i < 100; i++) await once(path, body);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [k, [, path, body]] of cases.entries()) {
        for (let i = 0; i < SEQUENTIAL_RUNS / ROUNDS; i++) times[k].push(await once(path, body));
      }
    }
  } finally {
    await pool.close();
  }
  return times.map((t) => {
    t.sort((a, b) => a - b);
    const at = (p) => t[Math.min(t.length - 1, Math.floor(p * t.length))];
    return { p50: at(0.5), p99: at(0.99) };
  });
}

export async function httpBench() {
  const server = await startServer('conflux_bench_forecast');
  try {
    const headers = { 'x-api-key': server.key, 'content-type': 'application/json' };
    const series = Array.from(
      { length: 100 },
      (_, t) => 50 + 0.2 * t + 8 * Math.sin((2 * Math.PI * t) / 12) + ((t * 7919) % 11) / 3,
    );
    const cases = [
      ['POST /forecast 100 points, auto', '/forecast', { series, horizon: 12 }],
      ['POST /forecast 100 points, monthly', '/forecast', { series, horizon: 12, frequency: 'monthly' }],
      ['POST /forecast 100 points, theta', '/forecast', { series, horizon: 12, engine: 'theta' }],
      // What auto did on this series before it was cross-validated.
      ['POST /forecast 100 points, ensemble', '/forecast', { series, horizon: 12, engine: 'ensemble' }],
      [
        'POST /forecast/batch 100 x 100 points',
        '/forecast/batch',
        { items: Array.from({ length: 100 }, () => ({ series, horizon: 12 })) },
      ],
    ];
    const single = cases.slice(0, 4).map(([name, path, body]) => [name, path, JSON.stringify(body)]);
    console.log(`\nHTTP, ${SEQUENTIAL_RUNS} sequential requests per case on one connection (cases in turn)`);
    const results = await sequential(server.base, single, headers);
    single.forEach(([name], k) => {
      console.log(`${name.padEnd(40)} p50 ${results[k].p50.toFixed(3)} ms   p99 ${results[k].p99.toFixed(3)} ms`);
    });
    console.log(`\nHTTP (${SECONDS} s per run, server on ${server.base})`);
    console.log('case                                     conns      rps    p50 ms    p99 ms   non-2xx');
    for (const [name, path, body] of cases) {
      for (const connections of [1, 16]) {
        const r = await load(`${server.base}${path}`, connections, {
          method: 'POST',
          headers,
          body: JSON.stringify(body),
        });
        console.log(
          `${name.padEnd(40)}${String(connections).padStart(6)}${r.requests.average.toFixed(0).padStart(9)}` +
            `${r.latency.p50.toFixed(2).padStart(10)}${r.latency.p99.toFixed(2).padStart(10)}${String(r.non2xx).padStart(10)}`,
        );
      }
    }
  } finally {
    await server.stop();
  }
}
