/**
 * Trains the shipped trading-signal model and writes it as ONNX plus a JSON sidecar:
 *
 *   npm run train:signal [-- --seed N --out-dir DIR --version ID --dry-run]
 *
 * Data: daily closes of DAX, SMI, CAC and FTSE, 1991-1998 (data/SOURCE.md). Split by calendar
 * day: first 70 % train, next 15 % validation (early stopping; the settings below were chosen on
 * it), last 15 % test, scored once at the end.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  SIGNAL_MODEL_FILE,
  SIGNAL_MODEL_NAME,
  SIGNAL_SIDECAR_FILE,
  shippedModelDir,
} from '../../src/ml/shipped/shipped-model';
import { buildSamples, chronologicalSplit, loadEuStockMarkets, type PriceSeries, type SignalSample } from './dataset';
import { classCounts, evaluateSignalModel, type SignalMetrics } from './evaluate';
import { SIGNAL_CLASSES, SIGNAL_FEATURE_NAMES, SIGNAL_MIN_HISTORY } from './features';
import {
  DEFAULT_TRAIN_OPTIONS,
  trainSignalModel,
  type SignalModel,
  type TrainOptions,
  type TrainingSet,
} from './model';
import {
  BATCH_DIM,
  EXPECTED_RETURN_NAME,
  INPUT_NAME,
  ONNX_IR_VERSION,
  ONNX_OPSET,
  PROBABILITIES_NAME,
  exportSignalModelToOnnx,
} from './onnx-export';

export { SIGNAL_MODEL_FILE, SIGNAL_MODEL_NAME, SIGNAL_SIDECAR_FILE } from '../../src/ml/shipped/shipped-model';

/** |next-day return| at or below this is HOLD. */
export const SIGNAL_LABEL_THRESHOLD = 0.004;

/** The training settings of the shipped model (chosen by validation log loss). */
export const SHIPPED_TRAIN_OPTIONS: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, hidden: [8], weightDecay: 1e-3 };

/**
 * The data's provenance as the shipped model records it (its ONNX metadata holds `licence`, its sidecar
 * all of it). The paths are where the data lived when that model was trained; the files are now in
 * tools/train-signal/data/. Changing the text changes the ONNX bytes, hence the sha256 by which the
 * registry knows the shipped model.
 */
export const TRAINING_DATA_DESCRIPTION = {
  dataset: 'EuStockMarkets (R datasets package, R 4.2.2, Debian package r-base-core 4.2.2.20221110-2)',
  description:
    'Daily closing prices of the DAX (Ibis), SMI, CAC 40 and FTSE 100 stock indices, 1991-07 to 1998-08, ' +
    '1860 business days (weekends and holidays omitted). The data were kindly provided by Erste Bank AG, Vienna.',
  series: ['DAX', 'SMI', 'CAC', 'FTSE'],
  file: 'src/ml/training/data/eu-stock-markets.csv',
  licence: 'GPL-2 | GPL-3 (distributed as part of R); see src/ml/training/data/SOURCE.md',
};

export interface SignalSidecar {
  name: string;
  version: string;
  task: string;
  framework: string;
  file: string;
  sha256: string;
  created_at: string;
  onnx: { ir_version: number; opset: number };
  inputs: { name: string; dtype: 'float32'; shape: number[]; dims: (number | string)[]; feature_names: string[] }[];
  outputs: { name: string; dtype: 'float32'; shape: number[]; labels?: string[]; description: string }[];
  output_mapping: Record<string, string>;
  features: { min_history: number; description: string };
  label: { horizon_days: number; threshold: number; definition: string };
  training: Record<string, unknown>;
  metrics: Record<string, unknown>;
  training_data: typeof TRAINING_DATA_DESCRIPTION & { periods: Record<string, string> };
}

export interface TrainSignalResult {
  model: SignalModel;
  onnx: Uint8Array;
  sidecar: SignalSidecar;
  validation: SignalMetrics;
  test: SignalMetrics;
}

function toSet(samples: readonly SignalSample[]): TrainingSet {
  return {
    features: samples.map((s) => s.features),
    labels: samples.map((s) => s.label),
    returns: samples.map((s) => s.nextReturn),
  };
}

/**
 * The approximate month of row `t`: EuStockMarkets is a time series in business time that starts
 * at 1991 + 129/260 with 260 rows per year (the CSV's first column).
 */
function approximateMonth(t: number): string {
  const year = 1991 + (129 + t) / 260;
  const whole = Math.floor(year);
  const month = Math.min(12, Math.floor((year - whole) * 12) + 1);
  return `~${whole}-${String(month).padStart(2, '0')} (row ${t})`;
}

function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function metricsJson(m: SignalMetrics): Record<string, unknown> {
  return {
    n: m.n,
    accuracy: round(m.accuracy),
    baseline_accuracy: round(m.baselineAccuracy),
    baseline_class: m.baselineClass,
    hindsight_constant_accuracy: round(m.hindsightConstantAccuracy),
    log_loss: round(m.logLoss),
    baseline_log_loss: round(m.baselineLogLoss),
    label_counts: m.labelCounts,
    prediction_counts: m.predictionCounts,
    directional_calls: m.directionalCalls,
    directional_hit_rate: m.directionalHitRate === null ? null : round(m.directionalHitRate),
    up_share: round(m.upShare),
    expected_return_correlation: round(m.expectedReturnCorrelation),
  };
}

/** Trains on `series` and builds the ONNX bytes and the sidecar (writes nothing). */
export function trainShippedSignalModel(
  series: readonly PriceSeries[] = loadEuStockMarkets(),
  options: { seed?: number; version?: string; now?: Date } = {},
): TrainSignalResult {
  const train = SHIPPED_TRAIN_OPTIONS;
  const seed = options.seed ?? train.seed;
  const length = series[0].prices.length;
  const split = chronologicalSplit(buildSamples(series, SIGNAL_LABEL_THRESHOLD), length);
  const trainSet = toSet(split.train);
  const validationSet = toSet(split.validation);
  const testSet = toSet(split.test);

  const result = trainSignalModel(trainSet, validationSet, SIGNAL_FEATURE_NAMES, { ...train, seed });
  const model = result.model;
  const validation = evaluateSignalModel(model, validationSet, trainSet.labels);
  const test = evaluateSignalModel(model, testSet, trainSet.labels);

  const now = options.now ?? new Date();
  const day = now.toISOString().slice(0, 10).replace(/-/g, '');
  const paramsHash = createHash('sha256')
    .update(JSON.stringify({ model, threshold: SIGNAL_LABEL_THRESHOLD }))
    .digest('hex')
    .slice(0, 8);
  const version = options.version ?? `${day}-${paramsHash}`;
  const periods = {
    train: `${approximateMonth(SIGNAL_MIN_HISTORY - 1)} .. ${approximateMonth(split.boundaries.validationStart - 1)}`,
    validation: `${approximateMonth(split.boundaries.validationStart)} .. ${approximateMonth(split.boundaries.testStart - 1)}`,
    test: `${approximateMonth(split.boundaries.testStart)} .. ${approximateMonth(length - 2)}`,
  };
  const metrics = {
    split: 'chronological by calendar day, same cut for every index: 70 % train, 15 % validation, 15 % test',
    n_train: trainSet.labels.length,
    n_validation: validationSet.labels.length,
    n_test: testSet.labels.length,
    train_label_counts: classCounts(trainSet.labels),
    accuracy: round(test.accuracy),
    baseline_accuracy: round(test.baselineAccuracy),
    baseline: `always ${test.baselineClass} (the training majority class)`,
    hindsight_constant_accuracy: round(test.hindsightConstantAccuracy),
    directional_hit_rate: test.directionalHitRate === null ? null : round(test.directionalHitRate),
    test: metricsJson(test),
    validation: metricsJson(validation),
  };
  const training = {
    algorithm: `MLP ${[SIGNAL_FEATURE_NAMES.length, ...train.hidden, 3].join('-')} (ReLU, softmax), mini-batch Adam, cross-entropy + L2`,
    seed,
    learning_rate: train.learningRate,
    batch_size: train.batchSize,
    weight_decay: train.weightDecay,
    max_epochs: train.maxEpochs,
    patience: train.patience,
    best_epoch: result.bestEpoch,
    epochs_run: result.epochsRun,
    train_log_loss: round(result.trainLoss),
    validation_log_loss: round(result.validationLoss),
    class_returns: model.classReturns,
  };
  const label = {
    horizon_days: 1,
    threshold: SIGNAL_LABEL_THRESHOLD,
    definition: `next-day simple return r = p[t+1]/p[t] - 1: BUY if r > ${SIGNAL_LABEL_THRESHOLD}, SELL if r < -${SIGNAL_LABEL_THRESHOLD}, else HOLD`,
  };
  const featuresInfo = {
    min_history: SIGNAL_MIN_HISTORY,
    description:
      'signalFeatures(prices) over the last 21 daily closes (oldest first): 5 latest log returns, 5- and 20-day ' +
      'log momentum, log gap to the 5- and 20-day moving average, 5- and 20-day volatility of log returns, ' +
      '14-day up-share of log returns',
  };

  const onnx = exportSignalModelToOnnx(model, {
    producerName: 'conflux',
    producerVersion: version,
    modelVersion: Number(day),
    graphName: 'trading_signal',
    docString:
      'Trading-signal demonstration model: probabilities of SELL, HOLD, BUY for the next day and the ' +
      'probability-weighted expected next-day return. Not trading advice.',
    metadata: {
      name: SIGNAL_MODEL_NAME,
      version,
      feature_names: JSON.stringify(SIGNAL_FEATURE_NAMES),
      class_order: JSON.stringify(SIGNAL_CLASSES),
      outputs: JSON.stringify({
        [PROBABILITIES_NAME]: 'softmax probabilities, columns SELL, HOLD, BUY',
        [EXPECTED_RETURN_NAME]: 'sum of probability * mean next-day simple return of the class in training data',
      }),
      label_definition: label.definition,
      min_history: String(SIGNAL_MIN_HISTORY),
      training_data: `${TRAINING_DATA_DESCRIPTION.dataset}: ${TRAINING_DATA_DESCRIPTION.description} Licence: ${TRAINING_DATA_DESCRIPTION.licence}.`,
      metrics: JSON.stringify({
        accuracy: metrics.accuracy,
        baseline_accuracy: metrics.baseline_accuracy,
        n_train: metrics.n_train,
        n_test: metrics.n_test,
      }),
    },
  });

  const f = SIGNAL_FEATURE_NAMES.length;
  const sidecar: SignalSidecar = {
    name: SIGNAL_MODEL_NAME,
    version,
    task: 'classification: next-day direction (SELL/HOLD/BUY) with expected return',
    framework: 'onnx',
    file: SIGNAL_MODEL_FILE,
    sha256: createHash('sha256').update(onnx).digest('hex'),
    created_at: now.toISOString(),
    onnx: { ir_version: ONNX_IR_VERSION, opset: ONNX_OPSET },
    inputs: [
      {
        name: INPUT_NAME,
        dtype: 'float32',
        shape: [-1, f],
        dims: [BATCH_DIM, f],
        feature_names: [...SIGNAL_FEATURE_NAMES],
      },
    ],
    outputs: [
      {
        name: PROBABILITIES_NAME,
        dtype: 'float32',
        shape: [-1, 3],
        labels: [...SIGNAL_CLASSES],
        description: 'class probabilities, columns SELL, HOLD, BUY; rows sum to 1',
      },
      {
        name: EXPECTED_RETURN_NAME,
        dtype: 'float32',
        shape: [-1, 1],
        description: 'expected next-day simple return (0.001 = +0.1 %)',
      },
    ],
    output_mapping: {
      direction: `${SIGNAL_CLASSES.join('/')} at argmax of ${PROBABILITIES_NAME}[row]`,
      confidence: `max of ${PROBABILITIES_NAME}[row]`,
      expected_return: `${EXPECTED_RETURN_NAME}[row][0]`,
    },
    features: featuresInfo,
    label,
    training,
    metrics,
    training_data: { ...TRAINING_DATA_DESCRIPTION, periods },
  };
  return { model, onnx, sidecar, validation, test };
}

/**
 * JSON laid out as the repository's formatter lays it out (2-space indent, objects one key per
 * line, arrays of scalars on one line when they fit in 120 columns), so a fresh sidecar passes
 * the format check unchanged.
 */
export function formatJson(value: unknown, indent = '', prefixLength = 0): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const scalars = value.every((v) => v === null || typeof v !== 'object');
    const oneLine = `[${value.map((v) => JSON.stringify(v)).join(', ')}]`;
    if (scalars && indent.length + prefixLength + oneLine.length + 1 <= 120) return oneLine;
    return `[\n${value.map((v) => inner + formatJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const lines = entries.map(([k, v]) => {
      const key = `${JSON.stringify(k)}: `;
      return inner + key + formatJson(v, inner, key.length);
    });
    return `{\n${lines.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

function formatMetrics(name: string, m: SignalMetrics): string {
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)} %`);
  return [
    `${name}: n=${m.n}  labels SELL/HOLD/BUY=${m.labelCounts.join('/')}  predictions=${m.predictionCounts.join('/')}`,
    `  accuracy ${pct(m.accuracy)}  vs always-${m.baselineClass} ${pct(m.baselineAccuracy)}` +
      `  (best constant in hindsight ${pct(m.hindsightConstantAccuracy)})`,
    `  log loss ${m.logLoss.toFixed(4)}  vs training class frequencies ${m.baselineLogLoss.toFixed(4)}`,
    `  BUY/SELL calls ${m.directionalCalls}, right sign ${pct(m.directionalHitRate)} (share of up days ${pct(m.upShare)})`,
    `  corr(expected_return, realised) ${m.expectedReturnCorrelation.toFixed(3)}`,
  ].join('\n');
}

function parseArgs(argv: readonly string[]): { seed?: number; outDir: string; version?: string; dryRun: boolean } {
  const out: { seed?: number; outDir: string; version?: string; dryRun: boolean } = {
    outDir: shippedModelDir(),
    dryRun: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--seed') out.seed = Number(value());
    else if (a === '--out-dir') out.outDir = value();
    else if (a === '--version') out.version = value();
    else if (a === '--dry-run') out.dryRun = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (out.seed !== undefined && !Number.isInteger(out.seed)) throw new Error('--seed needs an integer');
  return out;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const { onnx, sidecar, validation, test } = trainShippedSignalModel(undefined, {
    seed: args.seed,
    version: args.version,
  });
  const lines = [
    `trading-signal ${sidecar.version}: ${sidecar.training.algorithm as string}`,
    `data: ${TRAINING_DATA_DESCRIPTION.dataset}`,
    `periods: ${JSON.stringify(sidecar.training_data.periods)}`,
    `best epoch ${String(sidecar.training.best_epoch)} of ${String(sidecar.training.epochs_run)}, ${Date.now() - started} ms`,
    formatMetrics('validation', validation),
    formatMetrics('test (out of sample)', test),
  ];
  if (!args.dryRun) {
    mkdirSync(args.outDir, { recursive: true });
    const onnxPath = join(args.outDir, SIGNAL_MODEL_FILE);
    const sidecarPath = join(args.outDir, SIGNAL_SIDECAR_FILE);
    writeFileSync(onnxPath, onnx);
    writeFileSync(sidecarPath, `${formatJson(sidecar)}\n`);
    lines.push(`wrote ${onnxPath} (${onnx.length} bytes) and ${sidecarPath}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (require.main === module) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`train-signal: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
