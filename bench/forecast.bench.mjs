// Forecast accuracy and speed on the M3 / M4 competition data (dev split), scored exactly as the
// competitions did (sMAPE, MASE, OWA vs Naive2; MSIS of the 95 % interval), with the calibration of
// the 0.1 and 0.9 quantiles, next to the forecasts the original competitors submitted on the same
// series; then the targets, the whole split through the worker pool, and /forecast over HTTP. Prints
// figures; asserts nothing.
//
//   npm run bench:forecast
//   BENCH_ENGINES=auto,ets BENCH_FILES=m3-monthly BENCH_HTTP=0 npm run bench:forecast
//   BENCH_DATA_DIR=/path/to/forecast npm run bench:forecast
//
// Besides the API's engines, BENCH_ENGINES takes two comparisons: `previous_auto`, the rule `auto`
// followed before (the same cross-validation with weights ∝ 1/MSE at 2 origins for every season length,
// without the M4 benchmarks among the candidates), and `cv_select`, the candidate with the smallest
// rolling-origin MSE alone (the candidates and origins of `auto`'s rule for the season length). How `auto`
// was chosen: bench/forecast-validate.mjs.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';

const { runForecast, quantileKey } = await import('../dist/src/forecasting/engines/run.js');
const { smape, mase, naive2, msis, belowShare } = await import('../dist/src/forecasting/engines/accuracy.js');
const { FREQUENCY_SEASON, detectSeasonLength } = await import('../dist/src/forecasting/engines/prepare.js');
const { autoPool, autoRuleFor } = await import('../dist/src/forecasting/engines/registry.js');
const { validate, weightsOf, weightedForecast } = await import('../dist/src/forecasting/engines/cross-validation.js');
const { qnorm } = await import('../dist/src/forecasting/engines/math.js');
const { previousAuto } = await import('./forecast-previous.mjs');

const DATA_DIR = resolve(process.env.BENCH_DATA_DIR ?? '../shared/data/forecast');
const FILES = (process.env.BENCH_FILES ?? 'm3-yearly,m3-quarterly,m3-monthly,m3-other,m4-hourly,m4-weekly').split(',');
const ENGINE_LIST = (
  process.env.BENCH_ENGINES ??
  'auto,previous_auto,cv_select,ensemble,ets,arima,theta,optimized_theta,mstl,damped,ses,seasonal_naive,naive'
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
/** The 95 % interval (MSIS, as M4) and the 0.1 / 0.9 quantiles (calibration). */
const LEVELS = [0.025, 0.1, 0.9, 0.975];
/** Best entries of M4 on the full Hourly and Weekly sets (MASE), the bar for those groups. */
const M4_TARGETS = { 'm4-hourly': 0.8, 'm4-weekly': 2.11 };
/** On M3, beat the competition's winner on each group by this relative margin, on sMAPE and MASE. */
const M3_MARGIN = 0.02;

if (!existsSync(DATA_DIR)) {
  console.error(`no benchmark data in ${DATA_DIR} (set BENCH_DATA_DIR)`);
  process.exit(1);
}

/** The season an API caller would get by sending the data's frequency. */
function seasonOf(file) {
  return file.frequency in FREQUENCY_SEASON ? FREQUENCY_SEASON[file.frequency] : file.seasonality;
}

/** The best candidate of auto's cross-validation alone, with its quantiles; auto's fallback when none fits. */
function cvSelect(x, m) {
  const validation = validate(autoPool(m), x.train, x.horizon, { seasonLength: m }, autoRuleFor(m).origins);
  if (validation.forecasts.length === 0) return forecast('auto', x, m);
  const f = weightedForecast(validation, weightsOf(validation, 'select'), x.horizon, 'CV');
  const quantiles = Object.fromEntries(
    LEVELS.map((q) => [quantileKey(q), f.mean.map((v, i) => v + qnorm(q) * f.sd[i])]),
  );
  return { predictions: f.mean, quantiles };
}

/** One series' point forecast and quantiles, through runForecast as the API runs it. */
function forecast(engine, x, m) {
  if (engine === 'cv_select') return cvSelect(x, m);
  const task = { values: x.train, horizon: x.horizon, engine, seasonLength: m, quantiles: LEVELS };
  return engine === 'previous_auto' ? previousAuto(task) : runForecast(task);
}

function score(series, forecasts) {
  const sum = { smape: 0, mase: 0, smape2: 0, mase2: 0, msis: 0, low: 0, high: 0, inside: 0 };
  let n = 0;
  let intervals = 0;
  for (const x of series) {
    const f = forecasts[x.id];
    if (!f) continue;
    const point = Array.isArray(f) ? f : f.predictions;
    const n2 = naive2(x.train, x.horizon, x.seasonality);
    sum.smape += smape(x.test, point);
    sum.mase += mase(x.train, x.test, point, x.seasonality);
    sum.smape2 += smape(x.test, n2);
    sum.mase2 += mase(x.train, x.test, n2, x.seasonality);
    n++;
    if (!Array.isArray(f)) {
      const q = (level) => f.quantiles[quantileKey(level)];
      sum.msis += msis(x.train, x.test, q(0.025), q(0.975), x.seasonality, 0.05);
      sum.low += belowShare(x.test, q(0.1));
      sum.high += belowShare(x.test, q(0.9));
      sum.inside += belowShare(x.test, q(0.975)) - belowShare(x.test, q(0.025));
      intervals++;
    }
  }
  const r = { n, smape: sum.smape / n, mase: sum.mase / n, owa: 0.5 * (sum.smape / sum.smape2 + sum.mase / sum.mase2) };
  if (intervals > 0) {
    Object.assign(r, {
      msis: sum.msis / intervals,
      below10: sum.low / intervals,
      below90: sum.high / intervals,
      coverage95: sum.inside / intervals,
    });
  }
  return r;
}

const fmt = (v, digits = 3, width = 9) => (v === undefined ? '—' : v.toFixed(digits)).padStart(width);

function row(name, r, extra = '') {
  return (
    `  ${name.padEnd(34)}${String(r.n).padStart(5)}${fmt(r.smape)}${fmt(r.mase)}${fmt(r.owa, 3, 8)}` +
    `${fmt(r.msis, 2, 9)}${fmt(r.coverage95, 3, 8)}${fmt(r.below10, 3, 8)}${fmt(r.below90, 3, 8)}${extra}`
  );
}

const summary = [];
for (const name of FILES) {
  const file = JSON.parse(readFileSync(join(DATA_DIR, `${name}.json`), 'utf8'));
  const m = seasonOf(file);
  console.log(
    `\n${name}: ${file.series.length} series, horizon ${file.horizon}, scoring period ${file.seasonality}, engine season ${m}`,
  );
  console.log(
    `  ${'method'.padEnd(34)}${'n'.padStart(5)}${'sMAPE'.padStart(9)}${'MASE'.padStart(9)}${'OWA'.padStart(8)}` +
      `${'MSIS95'.padStart(9)}${'in95'.padStart(8)}${'≤q.1'.padStart(8)}${'≤q.9'.padStart(8)}   series/s`,
  );
  for (const engine of ENGINE_LIST) {
    const forecasts = {};
    const started = performance.now();
    // Through runForecast, as the API runs it: an engine the series is too short for falls back.
    for (const x of file.series) forecasts[x.id] = forecast(engine, x, m);
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

// The targets: on each M3 group, sMAPE and MASE at least 2 % below the M3 winner's (THETA, its submitted
// forecasts on the same series); on M4 Hourly and Weekly, the MASE of the best entries on the full sets.
const scoreOf = (file, method) => summary.find((s) => s.file === file && s.method === method);
const pair = (r) => (r ? `${r.smape.toFixed(3)} / ${r.mase.toFixed(3)}` : '—').padStart(17);
console.log('\nTargets on this split (sMAPE / MASE; "auto" is the cross-validated weighting, lower is better)');
console.log(
  `  ${'group'.padEnd(14)}${'THETA'.padStart(17)}${'previous auto'.padStart(17)}${'auto'.padStart(17)}` +
    `${'cv_select'.padStart(17)}   ${'target'.padEnd(30)}auto    cv_select`,
);
for (const name of FILES) {
  const theta = scoreOf(name, 'm3-original/THETA');
  let target;
  let met;
  if (name.startsWith('m3') && theta) {
    const s = theta.smape * (1 - M3_MARGIN);
    const a = theta.mase * (1 - M3_MARGIN);
    target = `sMAPE ≤ ${s.toFixed(3)}, MASE ≤ ${a.toFixed(3)}`;
    met = (r) => r && r.smape <= s && r.mase <= a;
  } else if (name in M4_TARGETS) {
    target = `MASE ≤ ${M4_TARGETS[name]}`;
    met = (r) => r && r.mase <= M4_TARGETS[name];
  } else {
    continue;
  }
  const [auto, select] = [scoreOf(name, 'auto'), scoreOf(name, 'cv_select')];
  const says = (r) => (r ? (met(r) ? 'met' : 'NOT met') : '—').padEnd(8);
  console.log(
    `  ${name.padEnd(14)}${pair(theta)}${pair(scoreOf(name, 'previous_auto'))}${pair(auto)}${pair(select)}` +
      `   ${target.padEnd(30)}${says(auto)}${says(select)}`,
  );
}
console.log('\nPrediction intervals of auto (ideal: in95 0.95, ≤q.1 0.10, ≤q.9 0.90; MSIS lower is better)');
for (const name of FILES) {
  const r = scoreOf(name, 'auto');
  if (!r || r.msis === undefined) continue;
  console.log(
    `  ${name.padEnd(14)}MSIS ${r.msis.toFixed(2).padStart(7)}   in95 ${r.coverage95.toFixed(3)}   ≤q.1 ${r.below10.toFixed(3)}   ≤q.9 ${r.below90.toFixed(3)}`,
  );
}

// The whole split forecast on the worker pool, as a large /forecast/batch runs: by auto, and by the
// previous rule for comparison, timed here in the same conditions: after a first, untimed pass of each (the
// first pass of fresh worker threads is much slower, as a long-running server's workers are not), in the
// order auto, previous, previous, auto (so that a load that rises or falls steadily weighs on both alike).
if (process.env.BENCH_POOL !== '0') {
  const { Piscina } = await import('piscina');
  const { chunkByPoints } = await import('../dist/src/forecasting/forecast-pool.js');
  const threads = Number(process.env.BENCH_THREADS ?? 2);
  const pool = new Piscina({
    filename: new URL('./forecast-previous.mjs', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
  });
  const tasksOf = (engine) =>
    FILES.flatMap((name) => {
      const file = JSON.parse(readFileSync(join(DATA_DIR, `${name}.json`), 'utf8'));
      const m = seasonOf(file);
      return file.series.map((x) => ({
        values: x.train,
        horizon: x.horizon,
        engine,
        seasonLength: m,
        quantiles: [0.1, 0.9],
      }));
    });
  const run = async (tasks) => {
    const started = performance.now();
    const chunks = chunkByPoints(tasks, threads * 8);
    await Promise.all(chunks.map((chunk) => pool.run(chunk.map((i) => tasks[i]))));
    return (performance.now() - started) / 1000;
  };
  const rules = ['auto', 'previous_auto'];
  for (const label of rules) await run(tasksOf(label));
  const seconds = { auto: [], previous_auto: [] };
  for (const label of ['auto', 'previous_auto', 'previous_auto', 'auto']) {
    const tasks = tasksOf(label);
    const s = await run(tasks);
    seconds[label].push(s);
    console.log(
      `${label === 'auto' && seconds.auto.length === 1 ? '\n' : ''}whole split (${tasks.length} series) by ${label} on ${threads} worker threads: ${s.toFixed(1)} s (${(tasks.length / s).toFixed(0)} series/s)`,
    );
  }
  const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
  console.log(
    `mean: auto ${mean(seconds.auto).toFixed(1)} s, previous rule ${mean(seconds.previous_auto).toFixed(1)} s, ` +
      `ratio ${(mean(seconds.auto) / mean(seconds.previous_auto)).toFixed(2)}`,
  );
  // On a shared machine the passes above can differ by a factor of two with the load of others. Here every
  // series is forecast by both rules one after the other (in alternating order) in the same chunk, and the
  // workers time each forecast: the two sums share the same conditions.
  const [auto, previous] = rules.map(tasksOf);
  const mixed = auto.flatMap((task, i) => (i % 2 === 0 ? [task, previous[i]] : [previous[i], task]));
  const started = performance.now();
  const outcomes = (
    await Promise.all(chunkByPoints(mixed, threads * 8).map((chunk) => pool.run(chunk.map((i) => mixed[i]))))
  ).flat();
  const wall = (performance.now() - started) / 1000;
  const busy = { auto: 0, previous_auto: 0 };
  outcomes.forEach((o) => (busy[o.engine === 'previous_auto' ? 'previous_auto' : 'auto'] += o.ms / 1000));
  const share = busy.auto / (busy.auto + busy.previous_auto);
  console.log(
    `both rules interleaved series by series: ${wall.toFixed(1)} s; worker time auto ${busy.auto.toFixed(1)} s, ` +
      `previous rule ${busy.previous_auto.toFixed(1)} s, ratio ${(busy.auto / busy.previous_auto).toFixed(2)}; ` +
      `the wall time split by it: auto ${(wall * share).toFixed(1)} s, previous rule ${(wall * (1 - share)).toFixed(1)} s`,
  );
  await pool.destroy();
}

// One 100-point series (the HTTP case below) in this process, by auto and by the previous rule in turn.
{
  const values = Array.from(
    { length: 100 },
    (_, t) => 50 + 0.2 * t + 8 * Math.sin((2 * Math.PI * t) / 12) + ((t * 7919) % 11) / 3,
  );
  const times = { auto: [], previous_auto: [] };
  for (let i = 0; i < 400; i++) {
    for (const engine of ['auto', 'previous_auto']) {
      const task = { values, horizon: 12, engine, quantiles: [0.1, 0.5, 0.9] };
      const started = performance.now();
      if (engine === 'auto') runForecast(task);
      else previousAuto({ ...task, seasonLength: detectSeasonLength(values) });
      if (i >= 50) times[engine].push(performance.now() - started);
    }
  }
  const median = (t) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)];
  console.log(
    `\n100-point series, horizon 12, in process (median of 350): auto ${median(times.auto).toFixed(2)} ms, ` +
      `previous rule ${median(times.previous_auto).toFixed(2)} ms`,
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
