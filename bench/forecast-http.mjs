// /forecast over HTTP through the built server: a 100-point series (the dashboards' case) at
// 1 and 16 connections, and a 100-item batch.
import { load, SECONDS, startServer } from './server.mjs';

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
      [
        'POST /forecast/batch 100 x 100 points',
        '/forecast/batch',
        { items: Array.from({ length: 100 }, () => ({ series, horizon: 12 })) },
      ],
    ];
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
