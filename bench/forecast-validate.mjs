// How `auto` was chosen, on a validation set made from the TRAINING parts of the M3 / M4 dev split only:
// every series' training part loses its last h values (h = the group's horizon), the variants forecast
// them from the rest, and are scored as bench:forecast scores the test part (sMAPE; MASE scaled by the
// in-sample naive of the shortened training part; MSIS and coverage of the 80 % and 95 % intervals).
// The test parts are never read.
//
//   npm run bench:forecast:validate
//   BENCH_FILES=m3-quarterly,m4-weekly BENCH_THREADS=2 npm run bench:forecast:validate
//
// The variants of the cross-validated combination: how the rolling-origin errors become weights (1/MSE,
// equal, 1/MSE shrunk toward equal weights, selection of the best, each optionally without the worst
// candidate), how many origins (1-3), which candidates (for hourly and weekly data, Theta adjusted at the
// long cycle, 168 hours or 52 weeks, and STL with it), and the interval calibration (sds scaled by a
// factor measured on the combination's own errors at the origins, root mean square or mean absolute of the
// standardised errors, with κ pseudo-observations of factor 1).
//
// The rule, fixed before any variant was scored: (1) the point forecast is the variant with the lowest
// mean over the six groups of ½·(sMAPE/sMAPE₀ + MASE/MASE₀), 0 = the previous rule (1/MSE, 2 origins, no
// long-cycle candidate), among those whose estimated cost (the candidates' fit and refit times) is at most
// 1.15 times the previous rule's (the time target leaves that much room); (2) with it, the calibration
// with the lowest mean over the groups of ½·(MSIS95/MSIS95₀ + MSIS80/MSIS80₀), 0 = without calibration.
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { deserialize, serialize } from 'node:v8';

const { smape, mase, msis, belowShare } = await import('../dist/src/forecasting/engines/accuracy.js');
const { FREQUENCY_SEASON } = await import('../dist/src/forecasting/engines/prepare.js');
const { restrictValidation, weightsOf, weightedForecast, intervalScale } =
  await import('../dist/src/forecasting/engines/cross-validation.js');
const { crossValidationPool, CROSS_VALIDATION } = await import('../dist/src/forecasting/engines/registry.js');
const { qnorm } = await import('../dist/src/forecasting/engines/math.js');
const { quantileKey } = await import('../dist/src/forecasting/engines/run.js');

const DATA_DIR = resolve(process.env.BENCH_DATA_DIR ?? '../shared/data/forecast');
const FILES = (process.env.BENCH_FILES ?? 'm3-yearly,m3-quarterly,m3-monthly,m3-other,m4-hourly,m4-weekly').split(',');
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
/** Where to keep the fitted validations between runs (optional; delete it when the engines change). */
const CACHE = process.env.BENCH_VALIDATE_CACHE;
const LEVELS = [0.025, 0.1, 0.9, 0.975];
const MAX_ORIGINS = 3;
const COST_BUDGET = 1.15;

const RULES = [
  { label: '1/MSE', rule: 'inverse' },
  { label: 'equal', rule: 'equal' },
  { label: '1/MSE shrunk 0.25', rule: 'inverse', shrinkage: 0.25 },
  { label: '1/MSE shrunk 0.5', rule: 'inverse', shrinkage: 0.5 },
  { label: '1/MSE shrunk 0.75', rule: 'inverse', shrinkage: 0.75 },
  { label: 'select', rule: 'select' },
  { label: '1/MSE, worst out', rule: 'inverse', trim: 1 },
  { label: 'equal, worst out', rule: 'equal', trim: 1 },
  { label: 'shrunk 0.5, worst out', rule: 'inverse', shrinkage: 0.5, trim: 1 },
];
const ORIGINS = [1, 2, 3];
const LONG = ['none', 'theta', 'theta+stl'];
const CALIBRATIONS = [
  undefined,
  ...['rms', 'absolute'].flatMap((statistic) => [0, 5, 20, 50, 100].map((prior) => ({ statistic, prior }))),
];
const PREVIOUS = { rule: RULES[0], origins: 2, long: 'none' };

if (!existsSync(DATA_DIR)) {
  console.error(`no benchmark data in ${DATA_DIR} (set BENCH_DATA_DIR)`);
  process.exit(1);
}

const seasonOf = (file) => (file.frequency in FREQUENCY_SEASON ? FREQUENCY_SEASON[file.frequency] : file.seasonality);

// The validation set: the training parts, each without its last h values (the test parts are not read).
const groups = FILES.map((name) => {
  const file = JSON.parse(readFileSync(join(DATA_DIR, `${name}.json`), 'utf8'));
  const h = file.horizon;
  const series = file.series.map((x) => ({
    id: x.id,
    train: x.train.slice(0, x.train.length - h),
    actual: x.train.slice(x.train.length - h),
  }));
  return { name, horizon: h, scoring: file.seasonality, season: seasonOf(file), series };
});

/** Every series cross-validated once with the largest pool and the most origins (on worker threads). */
async function fitAll() {
  if (CACHE && existsSync(CACHE)) return deserialize(readFileSync(CACHE));
  const { Piscina } = await import('piscina');
  const pool = new Piscina({
    filename: new URL('./forecast-validate.worker.mjs', import.meta.url).href,
    minThreads: THREADS,
    maxThreads: THREADS,
  });
  const started = performance.now();
  const records = await Promise.all(
    groups.map((g) =>
      Promise.all(
        g.series.map((x) =>
          pool.run({
            values: x.train,
            horizon: g.horizon,
            seasonLength: g.season,
            origins: MAX_ORIGINS,
            long: LONG[LONG.length - 1],
            levels: LEVELS,
          }),
        ),
      ),
    ),
  );
  await pool.destroy();
  console.log(
    `fitted ${records.flat().length} validation series in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  if (CACHE) writeFileSync(CACHE, serialize(records));
  return records;
}

const records = await fitAll();

/** Quantiles at LEVELS of a forecast with sds. */
const quantilesOf = (mean, sd) =>
  Object.fromEntries(LEVELS.map((q) => [quantileKey(q), mean.map((v, i) => v + qnorm(q) * sd[i])]));

/** The variant's forecast of one series, and what its candidates cost to fit and refit. */
function forecastOf(group, record, variant) {
  const names = new Set(crossValidationPool(group.season, variant.long).map((c) => c.name));
  const { validation, times } = record;
  let cost = 0;
  for (const [name, t] of Object.entries(times)) {
    if (names.has(name)) cost += t.fit + t.refits.slice(0, variant.origins).reduce((s, v) => s + v, 0);
  }
  if (validation.forecasts.length === 0) return { ...record.fallback, cost };
  const keep = validation.names.map((n, k) => (names.has(n) ? k : -1)).filter((k) => k >= 0);
  const restricted = restrictValidation(validation, keep, variant.origins);
  const weights = weightsOf(restricted, variant.rule);
  const scale = variant.calibration === undefined ? 1 : intervalScale(restricted, weights, variant.calibration);
  const f = weightedForecast(restricted, weights, group.horizon, 'CV', scale);
  return { predictions: f.mean, quantiles: quantilesOf(f.mean, f.sd), cost };
}

/** Mean scores of one group's forecasts (as bench:forecast, on the held-out end of the training parts). */
function score(group, forecasts) {
  const sum = { smape: 0, mase: 0, msis95: 0, msis80: 0, in80: 0, in95: 0, cost: 0 };
  group.series.forEach((x, i) => {
    const f = forecasts[i];
    const q = (level) => f.quantiles[quantileKey(level)];
    sum.smape += smape(x.actual, f.predictions);
    sum.mase += mase(x.train, x.actual, f.predictions, group.scoring);
    sum.msis95 += msis(x.train, x.actual, q(0.025), q(0.975), group.scoring, 0.05);
    sum.msis80 += msis(x.train, x.actual, q(0.1), q(0.9), group.scoring, 0.2);
    sum.in80 += belowShare(x.actual, q(0.9)) - belowShare(x.actual, q(0.1));
    sum.in95 += belowShare(x.actual, q(0.975)) - belowShare(x.actual, q(0.025));
    sum.cost += f.cost ?? 0;
  });
  const n = group.series.length;
  return Object.fromEntries(Object.entries(sum).map(([k, v]) => [k, k === 'cost' ? v : v / n]));
}

const scoreVariant = (variant) =>
  groups.map((g, k) =>
    score(
      g,
      records[k].map((r) => forecastOf(g, r, variant)),
    ),
  );

const calibrationName = (c) => (c === undefined ? 'none' : `${c.statistic}, κ = ${c.prior}`);
const mean = (values) => values.reduce((s, v) => s + v, 0) / values.length;
const variantName = (v) => `${v.rule.label}, ${v.origins} origin${v.origins > 1 ? 's' : ''}, long: ${v.long}`;

// (1) The point forecast.
const previous = scoreVariant(PREVIOUS);
const previousCost = previous.reduce((s, r) => s + r.cost, 0);
const grid = [];
for (const long of LONG) {
  for (const origins of ORIGINS) {
    for (const rule of RULES) {
      const variant = { rule, origins, long };
      const scores = scoreVariant(variant);
      const relative = scores.map((r, k) => 0.5 * (r.smape / previous[k].smape + r.mase / previous[k].mase));
      const cost = scores.reduce((s, r) => s + r.cost, 0) / previousCost;
      grid.push({ variant, scores, relative, criterion: mean(relative), cost });
    }
  }
}
const eligible = grid.filter((g) => g.cost <= COST_BUDGET);
const chosen = eligible.reduce((best, g) => (g.criterion < best.criterion ? g : best), eligible[0]);

const fmt = (v, digits = 3, width = 8) => v.toFixed(digits).padStart(width);
console.log(
  `\nValidation set: the last h values of every training part (${groups.map((g) => `${g.name} ${g.series.length}`).join(', ')})`,
);
console.log('\n(1) Point forecasts: ½·(sMAPE/sMAPE₀ + MASE/MASE₀) per group, 0 = the previous rule (lower is better)');
console.log(
  `  ${'variant'.padEnd(54)}${groups.map((g) => g.name.replace('m3-', 'M3 ').replace('m4-', 'M4 ').padStart(12)).join('')}` +
    `${'mean'.padStart(9)}${'cost'.padStart(7)}`,
);
for (const g of grid) {
  const mark = g === chosen ? '*' : g.cost > COST_BUDGET ? 'x' : ' ';
  console.log(
    `${mark} ${variantName(g.variant).padEnd(54)}${g.relative.map((r) => fmt(r, 4, 12)).join('')}${fmt(g.criterion, 4, 9)}${fmt(g.cost, 2, 7)}`,
  );
}
console.log(`  (* chosen; x over the cost budget of ${COST_BUDGET}× the previous rule's fitting time)`);

// The chosen point forecast and the previous one, with Theta, in the competitions' units.
const theta = groups.map((g, k) =>
  score(
    g,
    records[k].map((r) => r.theta),
  ),
);
const pair = (r) => `${r.smape.toFixed(3)} / ${r.mase.toFixed(3)}`.padStart(18);
console.log(`\nsMAPE / MASE on the validation set; chosen: ${variantName(chosen.variant)}`);
console.log(`  ${'group'.padEnd(14)}${'Theta'.padStart(18)}${'previous rule'.padStart(18)}${'chosen'.padStart(18)}`);
groups.forEach((g, k) => {
  console.log(`  ${g.name.padEnd(14)}${pair(theta[k])}${pair(previous[k])}${pair(chosen.scores[k])}`);
});

// (2) The interval calibration, with the chosen point forecast.
console.log('\n(2) Intervals with the chosen point forecast: MSIS of the 95 % and 80 % intervals, share inside them');
console.log(
  `  ${'calibration'.padEnd(20)}${'group'.padEnd(14)}${'MSIS95'.padStart(9)}${'MSIS80'.padStart(9)}${'in95'.padStart(8)}${'in80'.padStart(8)}`,
);
const calibrations = CALIBRATIONS.map((calibration) => ({
  calibration,
  scores: scoreVariant({ ...chosen.variant, calibration }),
}));
const [uncalibrated] = calibrations;
for (const c of calibrations) {
  c.criterion = mean(
    c.scores.map((r, k) => 0.5 * (r.msis95 / uncalibrated.scores[k].msis95 + r.msis80 / uncalibrated.scores[k].msis80)),
  );
}
const best = calibrations.reduce((b, c) => (c.criterion < b.criterion ? c : b), calibrations[0]);
for (const c of calibrations) {
  const label = calibrationName(c.calibration);
  c.scores.forEach((r, k) => {
    console.log(
      `${c === best && k === 0 ? '*' : ' '} ${(k === 0 ? label : '').padEnd(20)}${groups[k].name.padEnd(14)}` +
        `${fmt(r.msis95, 2, 9)}${fmt(r.msis80, 2, 9)}${fmt(r.in95, 3, 8)}${fmt(r.in80, 3, 8)}`,
    );
  });
  console.log(`  ${''.padEnd(20)}${'mean ½·(MSIS95/MSIS95₀ + MSIS80/MSIS80₀)'.padEnd(30)}${fmt(c.criterion, 4, 8)}`);
}
console.log(`\nchosen: ${variantName(chosen.variant)}; calibration ${calibrationName(best.calibration)}`);
console.log(
  `the engine's setting (registry.ts): ${CROSS_VALIDATION.rule}, ${CROSS_VALIDATION.origins} origins, ` +
    `calibration ${calibrationName(CROSS_VALIDATION.calibration)}, long-cycle candidates: ` +
    crossValidationPool(24)
      .slice(5)
      .map((c) => c.name)
      .join(' ') +
    ' (hourly), ' +
    crossValidationPool(52)
      .slice(5)
      .map((c) => c.name)
      .join(' ') +
    ' (weekly)',
);
