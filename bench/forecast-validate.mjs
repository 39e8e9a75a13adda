// How `auto` was chosen, on a validation set made from the TRAINING parts of the M3 / M4 dev split only: two
// windows, every series' training part without its last h values (h = the group's horizon; window 1) and
// without its last 2h values, the h before the last ones to forecast (window 2); the variants forecast them from
// what precedes them, and are scored as bench:forecast scores the test part (sMAPE; MASE scaled by the
// in-sample seasonal naive of the shortened training part; MSIS and coverage of the 80 % and 95 % intervals).
// The test parts are never read.
//
//   npm run bench:forecast:validate
//   BENCH_FILES=m3-quarterly,m4-weekly BENCH_THREADS=2 BENCH_WINDOWS=1 npm run bench:forecast:validate
//
// The variants of the cross-validated combination: which candidates (the present pool, with the M4 benchmarks
// on the seasonally adjusted series added, or without ARIMA), how many origins (1-4), how a candidate's errors
// at the origins are measured (MSE, MAE, sMAPE) and become weights (1/error, shrunk toward equal weights,
// without the worst one or two candidates, equal weights, selection of the best), and the interval
// calibration (sds scaled by a factor measured on the combination's own errors at the origins, root mean
// square or mean absolute of the standardised errors, with κ pseudo-observations of a factor `center`).
//
// The rule, fixed before the variants were scored: (1) the point forecast is the variant with the lowest mean
// over all the groups and windows of ½·(sMAPE/sMAPE₀ + MASE/MASE₀), 0 = the previous rule (1/MSE, 2 origins),
// among those whose estimated cost (the candidates' fit and refit times) is at most 1.25 times the previous
// rule's, the same for every season length (the best per season length are printed too: a first version of
// this script chose them, on window 1 alone, and they did worse on the test parts than the previous rule);
// (2) with it, per season length, the calibration with the lowest mean over its groups and windows of
// ½·(MSIS95/MSIS95₀ + MSIS80/MSIS80₀), 0 = without calibration.
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { deserialize, serialize } from 'node:v8';

const { smape, mase, msis, belowShare, seasonalNaiveScale } =
  await import('../dist/src/forecasting/engines/accuracy.js');
const { FREQUENCY_SEASON } = await import('../dist/src/forecasting/engines/prepare.js');
const { restrictValidation, measuredBy, weightsOf, weightedForecast, intervalScale } =
  await import('../dist/src/forecasting/engines/cross-validation.js');
const { crossValidationPool, AUTO_RULES, DEFAULT_AUTO_RULE } =
  await import('../dist/src/forecasting/engines/registry.js');
const { qnorm } = await import('../dist/src/forecasting/engines/math.js');
const { quantileKey } = await import('../dist/src/forecasting/engines/run.js');

const DATA_DIR = resolve(process.env.BENCH_DATA_DIR ?? '../shared/data/forecast');
const FILES = (process.env.BENCH_FILES ?? 'm3-yearly,m3-quarterly,m3-monthly,m3-other,m4-hourly,m4-weekly').split(',');
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
/** Where to keep the fitted validations between runs (optional; delete it when the engines change). */
const CACHE = process.env.BENCH_VALIDATE_CACHE;
const LEVELS = [0.025, 0.1, 0.9, 0.975];
const MAX_ORIGINS = 4;
const COST_BUDGET = 1.25;

const WEIGHTINGS = [
  { label: 'inverse', rule: 'inverse' },
  { label: 'shrunk 0.25', rule: 'inverse', shrinkage: 0.25 },
  { label: 'shrunk 0.5', rule: 'inverse', shrinkage: 0.5 },
  { label: 'worst out', rule: 'inverse', trim: 1 },
  { label: 'two worst out', rule: 'inverse', trim: 2 },
  { label: 'shrunk 0.5, worst out', rule: 'inverse', shrinkage: 0.5, trim: 1 },
];
const RULES = [
  ...['mse', 'mae', 'smape'].flatMap((metric) =>
    WEIGHTINGS.map((w) => ({ ...w, metric, label: `1/${metric.toUpperCase()} ${w.label}` })),
  ),
  { label: 'equal', rule: 'equal', metric: 'mse' },
  { label: 'equal, worst sMAPE out', rule: 'equal', metric: 'smape', trim: 1 },
  { label: 'select by sMAPE', rule: 'select', metric: 'smape' },
];
const ORIGINS = [1, 2, 3, 4];
/** Which candidates: the present pool, and with the M4 benchmarks on the seasonally adjusted series. */
const SETS = [
  { label: 'pool', add: [], drop: [] },
  { label: 'pool + damped_sa', add: ['damped_sa'], drop: [] },
  { label: 'pool + comb_sa', add: ['comb_sa'], drop: [] },
  { label: 'pool + damped_sa + comb_sa', add: ['damped_sa', 'comb_sa'], drop: [] },
  { label: 'pool + ses/holt/damped_sa', add: ['ses_sa', 'holt_sa', 'damped_sa'], drop: [] },
  { label: 'pool − arima + comb_sa', add: ['comb_sa'], drop: ['arima'] },
  { label: 'pool − arima + damped_sa + comb_sa', add: ['damped_sa', 'comb_sa'], drop: ['arima'] },
];
const LONG = 'theta+stl';
const CALIBRATIONS = [
  undefined,
  ...['rms', 'absolute'].flatMap((statistic) =>
    [5, 10, 20, 50, 100].flatMap((prior) =>
      [1, 1.1, 1.25, 1.4, 1.6, 1.8, 2].map((center) => ({ statistic, prior, center })),
    ),
  ),
];
/** The calibration of the previous rule. */
const PREVIOUS_CALIBRATION = { statistic: 'absolute', prior: 50, center: 1 };
/** The present rule of `auto`. */
const PREVIOUS = { rule: { label: '1/MSE inverse', rule: 'inverse', metric: 'mse' }, origins: 2, set: SETS[0] };

if (!existsSync(DATA_DIR)) {
  console.error(`no benchmark data in ${DATA_DIR} (set BENCH_DATA_DIR)`);
  process.exit(1);
}

const seasonOf = (file) => (file.frequency in FREQUENCY_SEASON ? FREQUENCY_SEASON[file.frequency] : file.seasonality);

// The validation set: the training parts, each without its last h values (window 1) and, in window 2, without
// its last 2h values, the h before the last ones to forecast (the test parts are not read). A window keeps the
// series with at least 8 values left to fit on (window 1 keeps them all).
const WINDOWS = Number(process.env.BENCH_WINDOWS ?? 2);
const groups = FILES.flatMap((name) => {
  const file = JSON.parse(readFileSync(join(DATA_DIR, `${name}.json`), 'utf8'));
  const h = file.horizon;
  return Array.from({ length: WINDOWS }, (_, w) => {
    const cut = (w + 1) * h;
    const series = file.series
      .filter((x) => w === 0 || x.train.length - cut >= 8)
      .map((x) => ({
        id: x.id,
        train: x.train.slice(0, x.train.length - cut),
        actual: x.train.slice(x.train.length - cut, x.train.length - cut + h),
      }));
    const label = WINDOWS > 1 ? `${name} w${w + 1}` : name;
    return { name: label, file: name, horizon: h, scoring: file.seasonality, season: seasonOf(file), series };
  });
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
            long: LONG,
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
// Only the series whose shortened training part gives MASE a scale (more than one season, not constant).
groups.forEach((g, k) => {
  const scored = g.series.map((x) => {
    const scale = seasonalNaiveScale(x.train, g.scoring);
    return Number.isFinite(scale) && scale > 0;
  });
  g.series = g.series.filter((_, i) => scored[i]);
  records[k] = records[k].filter((_, i) => scored[i]);
});

/** Quantiles at LEVELS of a forecast with sds. */
const quantilesOf = (mean, sd) =>
  Object.fromEntries(LEVELS.map((q) => [quantileKey(q), mean.map((v, i) => v + qnorm(q) * sd[i])]));

/** The variant's forecast of one series, and what its candidates cost to fit and refit. */
function forecastOf(group, record, variant) {
  const names = new Set(crossValidationPool(group.season, LONG).map((c) => c.name));
  for (const name of variant.set.add) names.add(name);
  for (const name of variant.set.drop) names.delete(name);
  const { validation, times } = record;
  let cost = 0;
  for (const [name, t] of Object.entries(times)) {
    if (names.has(name)) cost += t.fit + t.refits.slice(0, variant.origins).reduce((s, v) => s + v, 0);
  }
  if (validation.forecasts.length === 0) return { ...record.fallback, cost };
  const keep = validation.names.map((n, k) => (names.has(n) ? k : -1)).filter((k) => k >= 0);
  const restricted = measuredBy(restrictValidation(validation, keep, variant.origins), variant.rule.metric);
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

const calibrationName = (c) =>
  c === undefined ? 'none' : `${c.statistic}, κ = ${c.prior}, center ${(c.center ?? 1).toFixed(2)}`;
const mean = (values) => values.reduce((s, v) => s + v, 0) / values.length;
const variantName = (v) => `${v.set.label}; ${v.rule.label}; ${v.origins} origin${v.origins > 1 ? 's' : ''}`;

// (1) The point forecast: every variant scored on every group.
const previous = scoreVariant(PREVIOUS);
const grid = [];
for (const set of SETS) {
  for (const origins of ORIGINS) {
    for (const rule of RULES) {
      const variant = { set, rule, origins };
      const scores = scoreVariant(variant);
      const relative = scores.map((r, k) => 0.5 * (r.smape / previous[k].smape + r.mase / previous[k].mase));
      grid.push({ variant, scores, relative, criterion: mean(relative) });
    }
  }
}
/** The groups of each season length the engine sees (1: M3 yearly and other; 4; 12; 24; 52). */
const seasons = [...new Set(groups.map((g) => g.season))];
const groupsOf = (season) => groups.map((g, k) => (g.season === season ? k : -1)).filter((k) => k >= 0);
const costOf = (scores, ks) => ks.reduce((s, k) => s + scores[k].cost, 0);
/** Per season length: the eligible variant with the lowest mean ratio over its groups. */
const chosenBySeason = new Map(
  seasons.map((season) => {
    const ks = groupsOf(season);
    const budget = COST_BUDGET * costOf(previous, ks);
    const ranked = grid
      .filter((g) => costOf(g.scores, ks) <= budget)
      .map((g) => ({ g, criterion: mean(ks.map((k) => g.relative[k])) }))
      .sort((x, y) => x.criterion - y.criterion);
    return [season, { ks, ranked }];
  }),
);
/** The best variant common to every season length, within the cost budget over all the groups. */
const allGroups = groups.map((_, k) => k);
const commonRanked = grid
  .filter((g) => costOf(g.scores, allGroups) <= COST_BUDGET * costOf(previous, allGroups))
  .sort((x, y) => x.criterion - y.criterion);
// The rule: the common variant for every season length (the best variants per season length are shown, but
// a choice among hundreds of variants on one or two groups did not carry over to the test parts).
const chosenScores = commonRanked[0].scores;
const chosenCost = costOf(chosenScores, allGroups) / costOf(previous, allGroups);
const chosenVariant = () => commonRanked[0].variant;

const fmt = (v, digits = 3, width = 8) => v.toFixed(digits).padStart(width);
console.log(
  `\nValidation set: the last h values of every training part (${groups.map((g) => `${g.name} ${g.series.length}`).join(', ')})`,
);
console.log('\n(1) Point forecasts: ½·(sMAPE/sMAPE₀ + MASE/MASE₀) per group, 0 = the present rule (lower is better)');
const header = () =>
  console.log(
    `  ${'variant'.padEnd(66)}${groups.map((g) => g.name.replace('m3-', 'M3 ').replace('m4-', 'M4 ').padStart(16)).join('')}` +
      `${'mean'.padStart(9)}${'cost'.padStart(7)}`,
  );
const line = (mark, g) =>
  console.log(
    `${mark} ${variantName(g.variant).padEnd(66)}${g.relative.map((r) => fmt(r, 4, 16)).join('')}${fmt(g.criterion, 4, 9)}` +
      fmt(
        costOf(
          g.scores,
          groups.map((_, k) => k),
        ) /
          costOf(
            previous,
            groups.map((_, k) => k),
          ),
        2,
        7,
      ),
  );
const TOP = Number(process.env.BENCH_TOP ?? 8);
for (const season of seasons) {
  const { ks, ranked } = chosenBySeason.get(season);
  console.log(
    `\nseason length ${season} (${ks.map((k) => groups[k].name).join(', ')}): the best ${TOP} of ${ranked.length} variants within the cost budget`,
  );
  header();
  ranked.slice(0, TOP).forEach(({ g }) => line(' ', g));
}
console.log(
  `\nthe best ${TOP} variants over all the groups within the cost budget (* the rule for every season length)`,
);
header();
commonRanked.slice(0, TOP).forEach((g, i) => line(i === 0 ? '*' : ' ', g));
console.log(`  (cost: fitting time against the present rule, budget ${COST_BUDGET}×)`);
console.log(`the chosen variant: cost ${chosenCost.toFixed(2)}× the present rule's`);

// The chosen point forecasts and the present ones, with Theta, in the competitions' units.
const theta = groups.map((g, k) =>
  score(
    g,
    records[k].map((r) => r.theta),
  ),
);
const pair = (r) => `${r.smape.toFixed(3)} / ${r.mase.toFixed(3)}`.padStart(18);
console.log(`\nsMAPE / MASE on the validation set`);
console.log(`  ${'group'.padEnd(14)}${'Theta'.padStart(18)}${'present rule'.padStart(18)}${'chosen'.padStart(18)}`);
groups.forEach((g, k) => {
  console.log(`  ${g.name.padEnd(14)}${pair(theta[k])}${pair(previous[k])}${pair(chosenScores[k])}`);
});

/** The chosen point variant of each group, with an interval calibration. */
const scoreChosen = (calibration) =>
  groups.map((g, k) =>
    score(
      g,
      records[k].map((r) => forecastOf(g, r, { ...chosenVariant(g.season), calibration })),
    ),
  );

// (2) The interval calibration, with the chosen point forecasts: per season length, the one with the lowest mean
// over its groups of ½·(MSIS95/MSIS95₀ + MSIS80/MSIS80₀), 0 = without calibration.
console.log(
  '\n(2) Intervals with the chosen point forecasts: MSIS of the 95 % and 80 % intervals, share inside them (in95, in80)',
);
const calibrations = CALIBRATIONS.map((calibration) => ({ calibration, scores: scoreChosen(calibration) }));
const [uncalibrated] = calibrations;
const ratioOf = (c, ks) =>
  mean(
    ks.map(
      (k) =>
        0.5 * (c.scores[k].msis95 / uncalibrated.scores[k].msis95 + c.scores[k].msis80 / uncalibrated.scores[k].msis80),
    ),
  );
const sameCalibration = (a, b) => calibrationName(a) === calibrationName(b);
const calibrationBySeason = new Map();
for (const season of [...seasons, 'all']) {
  const ks = season === 'all' ? allGroups : groupsOf(season);
  const ranked = [...calibrations].sort((x, y) => ratioOf(x, ks) - ratioOf(y, ks));
  calibrationBySeason.set(season, ranked[0].calibration);
  console.log(
    `\n${season === 'all' ? 'all the groups (the calibration for other season lengths)' : `season length ${season}`}` +
      `: the best ${TOP}, the previous calibration and none`,
  );
  console.log(
    `  ${'calibration'.padEnd(30)}${ks.map((k) => `${groups[k].name} MSIS95 / MSIS80 / in95 / in80`.padStart(46)).join('')}${'ratio'.padStart(9)}`,
  );
  const shown = [...ranked.slice(0, TOP)];
  for (const extra of [PREVIOUS_CALIBRATION, undefined]) {
    if (!shown.some((c) => sameCalibration(c.calibration, extra))) {
      shown.push(calibrations.find((c) => sameCalibration(c.calibration, extra)));
    }
  }
  shown.forEach((c, i) => {
    const cells = ks.map((k) => {
      const r = c.scores[k];
      return `${fmt(r.msis95, 2, 7)} / ${fmt(r.msis80, 2, 6)} / ${fmt(r.in95, 3, 5)} / ${fmt(r.in80, 3, 5)}`.padStart(
        46,
      );
    });
    console.log(
      `${i === 0 ? '*' : ' '} ${calibrationName(c.calibration).padEnd(30)}${cells.join('')}${fmt(ratioOf(c, ks), 4, 9)}`,
    );
  });
}
console.log('');
console.log(`chosen for every season length: ${variantName(commonRanked[0].variant)}`);
for (const season of [...seasons, 'all']) {
  const label = season === 'all' ? 'other season lengths' : `season length ${season}`;
  console.log(`calibration for ${label}: ${calibrationName(calibrationBySeason.get(season))}`);
}
const ruleName = (r) =>
  `${r.drop.length ? `pool − ${r.drop.join(' − ')}` : 'pool'}${r.add.map((n) => ` + ${n}`).join('')}; ` +
  `${r.rule} ${r.metric ?? 'mse'}${r.trim ? `, ${r.trim} worst out` : ''}${r.shrinkage ? `, shrunk ${r.shrinkage}` : ''}; ` +
  `${r.origins} origin(s); calibration ${calibrationName(r.calibration)}`;
console.log("\nthe engine's setting (registry.ts):");
for (const [m, r] of AUTO_RULES) console.log(`  season length ${m}: ${ruleName(r)}`);
console.log(`  other season lengths: ${ruleName(DEFAULT_AUTO_RULE)}`);
