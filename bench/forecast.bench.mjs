// Forecast accuracy and speed on the M3 / M4 competition data (dev split), scored exactly as the
// competitions did (sMAPE, MASE, OWA vs Naive2), next to the forecasts the original competitors
// submitted on the same series. Then the whole split through the worker pool, and /forecast over
// HTTP. Prints figures; asserts nothing.
//
//   npm run bench:forecast
//   BENCH_ENGINES=auto,ets BENCH_FILES=m3-monthly BENCH_HTTP=0 npm run bench:forecast
//   BENCH_DATA_DIR=/path/to/forecast npm run bench:forecast
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const { runForecast } = await import('../dist/src/forecasting/engines/run.js');
const { smape, mase, naive2 } = await import('../dist/src/forecasting/engines/accuracy.js');
const { FREQUENCY_SEASON } = await import('../dist/src/forecasting/engines/prepare.js');

const DATA_DIR = resolve(process.env.BENCH_DATA_DIR ?? '../shared/data/forecast');
const FILES = (process.env.BENCH_FILES ?? 'm3-yearly,m3-quarterly,m3-monthly,m3-other,m4-hourly,m4-weekly').split(',');
const ENGINE_LIST = (
  process.env.BENCH_ENGINES ?? 'auto,ensemble,ets,arima,theta,optimized_theta,mstl,damped,ses,seasonal_naive,naive'
).split(',');
const REFERENCES = {
  m3: [
    'm3-original/THETA',
    'm3-original/ForecastPro',
    'm3-original/ForcX',
    'r-forecast/ETS',
    'r-forecast/ARIMA',
    'r-forecast/THETAF',
  ],
  m4: [
    'm4-official/024-AutoBox-Reilly',
    'm4-official/218-Iqbal-WellsFargo',
    'm4-official/249-Clark',
    'r-forecast/ETS',
    'r-forecast/ARIMA',
    'r-forecast/THETAF',
  ],
};

if (!existsSync(DATA_DIR)) {
  console.error(`no benchmark data in ${DATA_DIR} (set BENCH_DATA_DIR)`);
  process.exit(1);
}

/** The season an API caller would get by sending the data's frequency. */
function seasonOf(file) {
  return file.frequency in FREQUENCY_SEASON ? FREQUENCY_SEASON[file.frequency] : file.seasonality;
}

function score(series, forecasts) {
  let s = 0;
  let m = 0;
  let s2 = 0;
  let m2 = 0;
  let n = 0;
  for (const x of series) {
    const f = forecasts[x.id];
    if (!f) continue;
    const n2 = naive2(x.train, x.horizon, x.seasonality);
    s += smape(x.test, f);
    m += mase(x.train, x.test, f, x.seasonality);
    s2 += smape(x.test, n2);
    m2 += mase(x.train, x.test, n2, x.seasonality);
    n++;
  }
  return { n, smape: s / n, mase: m / n, owa: 0.5 * (s / s2 + m / m2) };
}

function row(name, r, extra = '') {
  return `  ${name.padEnd(34)}${String(r.n).padStart(5)}${r.smape.toFixed(3).padStart(9)}${r.mase.toFixed(3).padStart(9)}${r.owa.toFixed(3).padStart(8)}${extra}`;
}

const summary = [];
let totalSeries = 0;
for (const name of FILES) {
  const file = JSON.parse(readFileSync(join(DATA_DIR, `${name}.json`), 'utf8'));
  const m = seasonOf(file);
  totalSeries += file.series.length;
  console.log(
    `\n${name}: ${file.series.length} series, horizon ${file.horizon}, scoring period ${file.seasonality}, engine season ${m}`,
  );
  console.log(
    `  ${'method'.padEnd(34)}${'n'.padStart(5)}${'sMAPE'.padStart(9)}${'MASE'.padStart(9)}${'OWA'.padStart(8)}   series/s`,
  );
  for (const engine of ENGINE_LIST) {
    const forecasts = {};
    const started = performance.now();
    // Through runForecast, as the API runs it: an engine the series is too short for falls back.
    for (const x of file.series) {
      forecasts[x.id] = runForecast({
        values: x.train,
        horizon: x.horizon,
        engine,
        seasonLength: m,
        quantiles: [],
      }).predictions;
    }
    const seconds = (performance.now() - started) / 1000;
    const r = score(file.series, forecasts);
    summary.push({ file: name, method: engine, ...r });
    console.log(row(engine, r, `${(file.series.length / seconds).toFixed(0).padStart(11)}`));
  }
  for (const ref of REFERENCES[name.slice(0, 2)]) {
    const path = join(DATA_DIR, 'reference', `${ref}.json`);
    if (!existsSync(path)) continue;
    const r = score(file.series, JSON.parse(readFileSync(path, 'utf8')));
    if (r.n === 0) continue;
    summary.push({ file: name, method: ref, ...r });
    console.log(row(`ref ${ref}`, r));
  }
}

// The whole split forecast by `auto` on the worker pool, as a large /forecast/batch runs.
if (process.env.BENCH_POOL !== '0') {
  const { Piscina } = await import('piscina');
  const { chunkByPoints } = await import('../dist/src/forecasting/forecast-pool.js');
  const threads = Number(process.env.BENCH_THREADS ?? 2);
  const tasks = [];
  for (const name of FILES) {
    const file = JSON.parse(readFileSync(join(DATA_DIR, `${name}.json`), 'utf8'));
    for (const x of file.series) {
      tasks.push({
        values: x.train,
        horizon: x.horizon,
        engine: 'auto',
        seasonLength: seasonOf(file),
        quantiles: [0.1, 0.9],
      });
    }
  }
  const pool = new Piscina({
    filename: resolve('dist/src/forecasting/forecast.worker.js'),
    minThreads: threads,
    maxThreads: threads,
  });
  const started = performance.now();
  const chunks = chunkByPoints(tasks, threads * 8);
  await Promise.all(chunks.map((chunk) => pool.run(chunk.map((i) => tasks[i]))));
  const seconds = (performance.now() - started) / 1000;
  await pool.destroy();
  console.log(
    `\nwhole split (${tasks.length} series) by auto on ${threads} worker threads: ${seconds.toFixed(1)} s (${(tasks.length / seconds).toFixed(0)} series/s)`,
  );
}

if (process.env.BENCH_HTTP !== '0') {
  const { httpBench } = await import('./forecast-http.mjs');
  await httpBench();
}

if (process.env.BENCH_JSON) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(process.env.BENCH_JSON, JSON.stringify(summary, null, 1));
}
