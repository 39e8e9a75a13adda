// HTTP overhead of the foundation: probes, API-key auth and JWT auth, through the
// real server on real Postgres and Redis. Prints figures; asserts nothing.
//
//   npm run bench:http
//   BENCH_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres BENCH_REDIS_URL=redis://127.0.0.1:6379 \
//   BENCH_SECONDS=5 npm run bench:http
import { load, SECONDS, startServer } from './server.mjs';

const server = await startServer('conflux_bench');
try {
  const { base, key, bearer } = server;
  const cases = [
    ['GET /health/live', '/health/live', {}],
    ['GET /auth/me (X-API-Key)', '/auth/me', { 'x-api-key': key }],
    ['GET /auth/me (JWT)', '/auth/me', bearer],
  ];
  console.log(`node ${process.version}, ${SECONDS} s per run, server on ${base}`);
  console.log('case                          conns      rps   mean ms    p50 ms    p99 ms   non-2xx');
  for (const [name, path, headers] of cases) {
    for (const connections of [1, 50]) {
      const r = await load(`${base}${path}`, connections, { headers });
      console.log(
        `${name.padEnd(30)}${String(connections).padStart(5)}${r.requests.average.toFixed(0).padStart(9)}` +
          `${r.latency.mean.toFixed(2).padStart(10)}${r.latency.p50.toFixed(2).padStart(10)}` +
          `${r.latency.p99.toFixed(2).padStart(10)}${String(r.non2xx).padStart(10)}`,
      );
    }
  }
} finally {
  await server.stop();
}
