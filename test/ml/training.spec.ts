import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { Worker } from 'node:worker_threads';

import { shippedModelDir, shippedSignalModelFiles } from '../../src/ml/shipped/shipped-model';
import { buildSamples, chronologicalSplit, loadEuStockMarkets, parsePriceCsv } from '../../tools/train-signal/dataset';
import { evaluateSignalModel } from '../../tools/train-signal/evaluate';
import {
  SIGNAL_CLASSES,
  SIGNAL_FEATURE_COUNT,
  SIGNAL_FEATURE_NAMES,
  SIGNAL_MIN_HISTORY,
  signalFeatures,
  signalLabel,
} from '../../tools/train-signal/features';
import { predictSignal, trainSignalModel, type SignalModel, type TrainingSet } from '../../tools/train-signal/model';
import { decodeOnnxModel, exportSignalModelToOnnx, signalModelFromOnnx } from '../../tools/train-signal/onnx-export';
import {
  SIGNAL_LABEL_THRESHOLD,
  SIGNAL_MODEL_FILE,
  SIGNAL_SIDECAR_FILE,
  trainShippedSignalModel,
  type SignalSidecar,
} from '../../tools/train-signal/train-signal';

const TOL = 1e-5;

/*
 * onnxruntime-node runs in a worker thread: inside Jest's sandbox, output tensors made by the native
 * addon carry the outer realm's Float32Array and fail onnxruntime-common's instanceof check.
 */
interface OnnxRun {
  inputNames: string[];
  outputNames: string[];
  inputMetadata: unknown[];
  outputMetadata: unknown[];
  /** Per batch: probabilities rows and expected_return values, with the output dims. */
  results: { probabilities: number[][]; expectedReturn: number[]; dims: number[][] }[];
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ortPath);
(async () => {
  const session = await ort.InferenceSession.create(workerData.model);
  const results = [];
  for (const rows of workerData.batches) {
    const f = rows[0].length;
    const out = await session.run({ features: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, f]) });
    const p = Array.from(out.probabilities.data);
    results.push({
      probabilities: rows.map((_, i) => p.slice(i * 3, i * 3 + 3)),
      expectedReturn: Array.from(out.expected_return.data),
      dims: [Array.from(out.probabilities.dims), Array.from(out.expected_return.dims)],
    });
  }
  const meta = (m) => JSON.parse(JSON.stringify(m));
  parentPort.postMessage({
    inputNames: [...session.inputNames],
    outputNames: [...session.outputNames],
    inputMetadata: meta(session.inputMetadata),
    outputMetadata: meta(session.outputMetadata),
    results,
  });
  await session.release();
})().catch((err) => parentPort.postMessage({ error: String(err && err.stack || err) }));
`;

/** Creates a real onnxruntime-node InferenceSession on `model` (file path or bytes) and runs each batch. */
function runOnnx(model: string | Uint8Array, batches: number[][][]): Promise<OnnxRun> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { ortPath: require.resolve('onnxruntime-node'), model, batches },
    });
    worker.once('message', (msg: OnnxRun | { error: string }) => {
      void worker.terminate();
      if ('error' in msg) reject(new Error(msg.error));
      else {
        msg.results.forEach((r, i) => {
          expect(r.dims).toEqual([
            [batches[i].length, 3],
            [batches[i].length, 1],
          ]);
        });
        resolve(msg);
      }
    });
    worker.once('error', reject);
  });
}

function expectClose(actual: number[][], expected: number[][], tol = TOL): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => {
    expect(row.length).toBe(expected[i].length);
    row.forEach((v, j) => {
      if (Math.abs(v - expected[i][j]) > tol) {
        throw new Error(`row ${i} col ${j}: ${v} vs ${expected[i][j]} (tolerance ${tol})`);
      }
    });
  });
}

/** Feature rows rounded to float32, the precision the ONNX input carries. */
const f32 = (rows: number[][]): number[][] => rows.map((r) => r.map((v) => Math.fround(v)));

function toSet(samples: ReturnType<typeof buildSamples>): TrainingSet {
  return {
    features: samples.map((s) => s.features),
    labels: samples.map((s) => s.label),
    returns: samples.map((s) => s.nextReturn),
  };
}

describe('signalFeatures', () => {
  it('gives the hand-computed values on a steadily growing series', () => {
    // p[k] = 100 * e^(0.01 k): every log return is exactly 0.01 (up to rounding).
    const prices = Array.from({ length: SIGNAL_MIN_HISTORY }, (_, k) => 100 * Math.exp(0.01 * k));
    const f = signalFeatures(prices);
    expect(f).toHaveLength(SIGNAL_FEATURE_COUNT);
    const byName = Object.fromEntries(SIGNAL_FEATURE_NAMES.map((n, i) => [n, f[i]]));
    for (let k = 1; k <= 5; k++) expect(byName[`log_return_${k}`]).toBeCloseTo(0.01, 12);
    expect(byName.momentum_5).toBeCloseTo(0.05, 12);
    expect(byName.momentum_20).toBeCloseTo(0.2, 12);
    // p[t] / mean(p[t-4..t]) = 1 / mean(e^-0.01j, j = 0..4)
    const gap = (n: number) =>
      -Math.log(Array.from({ length: n }, (_, j) => Math.exp(-0.01 * j)).reduce((a, b) => a + b) / n);
    expect(byName.ma_gap_5).toBeCloseTo(gap(5), 12);
    expect(byName.ma_gap_5).toBeCloseTo(0.0199, 4); // about twice the daily return: the mean lags 2 days
    expect(byName.ma_gap_20).toBeCloseTo(gap(20), 12);
    expect(byName.volatility_5).toBeCloseTo(0, 12);
    expect(byName.volatility_20).toBeCloseTo(0, 12);
    expect(byName.rsi_14).toBe(1);
  });

  it('gives zeros and a neutral RSI on a flat series', () => {
    expect(signalFeatures(new Array<number>(30).fill(42))).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.5]);
  });

  it('gives the hand-computed values on an alternating series', () => {
    // 100, 200, 100, 200, ... 21 prices, ending at 100: returns alternate +ln2, -ln2, the last is -ln2.
    const prices = Array.from({ length: 21 }, (_, k) => (k % 2 === 0 ? 100 : 200));
    const l = Math.LN2;
    const f = signalFeatures(prices);
    expect(f.slice(0, 5).map((v) => v / l)).toEqual([-1, 1, -1, 1, -1].map((v) => expect.closeTo(v, 12) as number));
    expect(f[5]).toBeCloseTo(-l, 12); // ln(100 / 200)
    expect(f[6]).toBeCloseTo(0, 12); // ln(100 / 100)
    expect(f[7]).toBeCloseTo(Math.log(100 / 140), 12); // mean(100, 200, 100, 200, 100) = 140
    expect(f[8]).toBeCloseTo(Math.log(100 / 150), 12);
    // Last 5 returns: -l, +l, -l, +l, -l: mean -l/5, population variance l^2 (1 - 1/25).
    expect(f[9]).toBeCloseTo(l * Math.sqrt(24 / 25), 12);
    expect(f[10]).toBeCloseTo(l, 12); // 10 up, 10 down: mean 0, std l
    expect(f[11]).toBeCloseTo(0.5, 12); // 7 gains, 7 losses of the same size
  });

  it('uses only the last 21 prices and rejects short or invalid histories', () => {
    const tail = Array.from({ length: 21 }, (_, k) => 50 + Math.sin(k) * 3);
    expect(signalFeatures([1, 1000, 3, ...tail])).toEqual(signalFeatures(tail));
    expect(() => signalFeatures(tail.slice(1))).toThrow(RangeError);
    expect(() => signalFeatures([...tail.slice(1), 0])).toThrow(RangeError);
    expect(() => signalFeatures([...tail.slice(1), Number.NaN])).toThrow(RangeError);
  });

  it('labels next-day returns with the threshold', () => {
    expect(SIGNAL_CLASSES).toEqual(['SELL', 'HOLD', 'BUY']);
    expect(signalLabel(0.0041, 0.004)).toBe(2);
    expect(signalLabel(0.004, 0.004)).toBe(1);
    expect(signalLabel(-0.004, 0.004)).toBe(1);
    expect(signalLabel(-0.0041, 0.004)).toBe(0);
  });
});

describe('training data', () => {
  const series = loadEuStockMarkets();

  it('holds the four indices of EuStockMarkets, 1860 days each', () => {
    expect(series.map((s) => s.name)).toEqual(['DAX', 'SMI', 'CAC', 'FTSE']);
    for (const s of series) expect(s.prices).toHaveLength(1860);
    expect(series[0].prices[0]).toBe(1628.75);
    expect(series[3].prices[1859]).toBe(5455);
    expect(() => parsePriceCsv('t,A\n1,-3\n')).toThrow(/bad price/);
  });

  it('splits chronologically without look-ahead', () => {
    const samples = buildSamples(series, SIGNAL_LABEL_THRESHOLD);
    expect(samples).toHaveLength(4 * (1860 - SIGNAL_MIN_HISTORY));
    const split = chronologicalSplit(samples, 1860);
    const maxT = (xs: typeof samples) => Math.max(...xs.map((s) => s.t));
    const minT = (xs: typeof samples) => Math.min(...xs.map((s) => s.t));
    // The last training label (price t+1) is at most the first validation day; same for validation/test.
    expect(maxT(split.train) + 1).toBeLessThanOrEqual(minT(split.validation));
    expect(maxT(split.validation) + 1).toBeLessThanOrEqual(minT(split.test));
    expect(split.train.length + split.validation.length + split.test.length).toBe(samples.length);
    // A sample's features are those of its own price window.
    const s = split.test[0];
    const prices = series.find((x) => x.name === s.series)!.prices;
    expect(s.features).toEqual(signalFeatures(prices.slice(0, s.t + 1)));
    expect(s.nextReturn).toBeCloseTo(prices[s.t + 1] / prices[s.t] - 1, 15);
  });
});

describe('training', () => {
  const series = loadEuStockMarkets().map((s) => ({ ...s, prices: s.prices.slice(0, 400) }));
  const split = chronologicalSplit(buildSamples(series, SIGNAL_LABEL_THRESHOLD), 400);
  const train = toSet(split.train);
  const validation = toSet(split.validation);
  const options = { hidden: [6], maxEpochs: 4, patience: 10, seed: 7 };

  it('is deterministic for a seed and depends on it', () => {
    const a = trainSignalModel(train, validation, SIGNAL_FEATURE_NAMES, options).model;
    const b = trainSignalModel(train, validation, SIGNAL_FEATURE_NAMES, options).model;
    const c = trainSignalModel(train, validation, SIGNAL_FEATURE_NAMES, { ...options, seed: 8 }).model;
    expect(b).toEqual(a);
    expect(c.layers).not.toEqual(a.layers);
    expect(c.mean).toEqual(a.mean); // standardisation comes from the data, not the seed
  });

  it('learns something on the training data (loss below the constant-prior loss)', () => {
    const r = trainSignalModel(train, validation, SIGNAL_FEATURE_NAMES, { ...options, maxEpochs: 30 });
    const m = evaluateSignalModel(r.model, train, train.labels);
    expect(m.logLoss).toBeLessThan(m.baselineLogLoss);
    expect(r.bestEpoch).toBeGreaterThan(0);
  });

  it('exports a freshly trained model whose ONNX outputs equal its TypeScript predictions', async () => {
    const model = trainSignalModel(train, validation, SIGNAL_FEATURE_NAMES, options).model;
    const rows = f32(validation.features.slice(0, 7));
    const [onnx] = (await runOnnx(exportSignalModelToOnnx(model), [rows])).results;
    const ts = predictSignal(model, rows);
    expectClose(onnx.probabilities, ts.probabilities);
    expectClose([onnx.expectedReturn], [ts.expectedReturn]);
  });
});

describe('ONNX export of a hand-made model', () => {
  const identity = [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ];
  const base: SignalModel = {
    featureNames: ['a', 'b', 'c'],
    mean: [1, 2, 3],
    scale: [2, 2, 2],
    layers: [{ weights: identity, bias: [0, 0, 0] }],
    classReturns: [-0.01, 0, 0.02],
  };
  // z = (x - mean) / 2; logits = z.
  const rows = [
    [1, 2, 3], // z = 0: uniform, expected (-0.01 + 0 + 0.02) / 3
    [1 + 2 * Math.LN2, 2, 3], // exp(z) = [2, 1, 1]: [1/2, 1/4, 1/4], expected 0
    [1, 2 + 2 * Math.log(3), 3], // exp(z) = [1, 3, 1]: [1/5, 3/5, 1/5], expected 0.002
    [1 - 2 * Math.LN2, 2, 3], // exp(z) = [1/2, 1, 1]: [1/5, 2/5, 2/5], expected 0.006
  ];

  it('computes softmax of the standardised input and the weighted class return', async () => {
    const bytes = exportSignalModelToOnnx(base, { metadata: { k: 'v' } });
    // The whole batch, then one row alone (the batch dimension is dynamic).
    const [out, single] = (await runOnnx(bytes, [rows, [rows[2]]])).results;
    expectClose(out.probabilities, [
      [1 / 3, 1 / 3, 1 / 3],
      [0.5, 0.25, 0.25],
      [0.2, 0.6, 0.2],
      [0.2, 0.4, 0.4],
    ]);
    expectClose([out.expectedReturn], [[0.01 / 3, 0, 0.002, 0.006]]);
    expectClose(single.probabilities, [[0.2, 0.6, 0.2]]);
  });

  it('applies ReLU between dense layers', async () => {
    const twoLayers: SignalModel = {
      ...base,
      layers: [
        { weights: identity, bias: [0, 0, 0] },
        { weights: identity, bias: [0, 0, 0] },
      ],
    };
    const [out] = (await runOnnx(exportSignalModelToOnnx(twoLayers), [rows])).results;
    // Row 4 has z = [-ln 2, 0, 0]: ReLU zeroes it, so the output is uniform (without ReLU: [1/5, 2/5, 2/5]).
    expectClose(out.probabilities, [
      [1 / 3, 1 / 3, 1 / 3],
      [0.5, 0.25, 0.25],
      [0.2, 0.6, 0.2],
      [1 / 3, 1 / 3, 1 / 3],
    ]);
    expectClose(out.probabilities, predictSignal(twoLayers, f32(rows)).probabilities);
  });

  it('writes the expected graph and reads the model back', () => {
    const bytes = exportSignalModelToOnnx(
      {
        ...base,
        layers: [
          {
            weights: [
              [1, 2],
              [3, 4],
              [5, 6],
            ],
            bias: [0.5, -0.5],
          },
          {
            weights: [
              [1, 0, -1],
              [0, 1, 1],
            ],
            bias: [0, 0, 0.25],
          },
        ],
      },
      { metadata: { feature_names: JSON.stringify(['a', 'b', 'c']) } },
    );
    const decoded = decodeOnnxModel(bytes);
    expect(decoded.irVersion).toBe(8);
    expect(decoded.opsetImport).toEqual([{ domain: '', version: 13 }]);
    expect(decoded.nodes.map((n) => n.opType)).toEqual(['Sub', 'Div', 'Gemm', 'Relu', 'Gemm', 'Softmax', 'MatMul']);
    expect(decoded.nodes.find((n) => n.opType === 'Softmax')!.attributes).toEqual({ axis: 1 });
    expect(decoded.inputs).toEqual([{ name: 'features', elemType: 1, shape: ['batch', 3] }]);
    expect(decoded.outputs).toEqual([
      { name: 'probabilities', elemType: 1, shape: ['batch', 3] },
      { name: 'expected_return', elemType: 1, shape: ['batch', 1] },
    ]);
    const back = signalModelFromOnnx(bytes);
    expect(back.layers[0].weights).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(back.layers[1].bias).toEqual([0, 0, 0.25]);
    expect(back.featureNames).toEqual(['a', 'b', 'c']);
    expect(back.classReturns.map((v) => Math.round(v * 1e6) / 1e6)).toEqual([-0.01, 0, 0.02]);
  });

  it('rejects a model whose shapes do not fit', () => {
    expect(() =>
      exportSignalModelToOnnx({ ...base, layers: [{ weights: identity.slice(0, 2), bias: [0, 0, 0] }] }),
    ).toThrow(RangeError);
    expect(() =>
      exportSignalModelToOnnx({
        ...base,
        layers: [
          {
            weights: [
              [1, 0],
              [0, 1],
              [0, 0],
            ],
            bias: [0, 0],
          },
        ],
      }),
    ).toThrow(/3 outputs/);
  });
});

describe('the shipped model (src/ml/shipped/signal-model.onnx)', () => {
  const files = shippedSignalModelFiles();
  const onnxPath = files.onnx;
  const bytes = readFileSync(onnxPath);
  const sidecar = JSON.parse(readFileSync(files.sidecar, 'utf8')) as SignalSidecar;
  const model = signalModelFromOnnx(bytes);
  const series = loadEuStockMarkets();
  const dax = series[0].prices;
  const rows = f32([
    ...[300, 900, 1500, 1700, 1850].map((t) => signalFeatures(dax.slice(0, t + 1))),
    signalFeatures(new Array<number>(25).fill(100)),
  ]);
  let run: OnnxRun;

  beforeAll(async () => {
    // The batch, then every row alone, on one session over the committed file.
    run = await runOnnx(onnxPath, [rows, ...rows.map((r) => [r])]);
  });

  it('is small and matches its sidecar', () => {
    expect(onnxPath).toBe(join(shippedModelDir(), SIGNAL_MODEL_FILE));
    expect(files.sidecar).toBe(join(shippedModelDir(), SIGNAL_SIDECAR_FILE));
    expect(statSync(onnxPath).size).toBeLessThanOrEqual(1024 * 1024);
    expect(sidecar.name).toBe('trading-signal');
    expect(sidecar.file).toBe(SIGNAL_MODEL_FILE);
    expect(sidecar.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(sidecar.version).toMatch(/^\d{8}-[0-9a-f]{8}$/);
    expect(typeof sidecar.metrics.accuracy).toBe('number');
    expect(typeof sidecar.metrics.baseline_accuracy).toBe('number');
    expect(sidecar.metrics.n_train).toBeGreaterThan(1000);
    expect(sidecar.metrics.n_test).toBeGreaterThan(1000);
    const metadata = decodeOnnxModel(bytes).metadata;
    expect(JSON.parse(metadata.feature_names)).toEqual([...SIGNAL_FEATURE_NAMES]);
    expect(JSON.parse(metadata.class_order)).toEqual(['SELL', 'HOLD', 'BUY']);
    expect(metadata.version).toBe(sidecar.version);
    expect(metadata.training_data).toContain('EuStockMarkets');
    expect(sidecar.training_data.licence).toContain('GPL');
  });

  it("declares the session's inputs and outputs", () => {
    expect(run.inputNames).toEqual(sidecar.inputs.map((i) => i.name));
    expect(run.outputNames).toEqual(sidecar.outputs.map((o) => o.name));
    const input = sidecar.inputs[0];
    expect(input.feature_names).toEqual([...SIGNAL_FEATURE_NAMES]);
    expect(input.shape).toEqual([-1, SIGNAL_FEATURE_COUNT]);
    expect(input.dtype).toBe('float32');
    expect(run.inputMetadata).toEqual([
      { name: input.name, isTensor: true, type: 'float32', shape: ['batch', SIGNAL_FEATURE_COUNT] },
    ]);
    expect(run.outputMetadata).toEqual(
      sidecar.outputs.map((o) => ({ name: o.name, isTensor: true, type: 'float32', shape: ['batch', o.shape[1]] })),
    );
    expect(sidecar.outputs[0].labels).toEqual(['SELL', 'HOLD', 'BUY']);
  });

  it('answers a batch exactly as the TypeScript model does, row by row and all at once', () => {
    const expected = predictSignal(model, rows);
    const [batch, ...singles] = run.results;
    expectClose(batch.probabilities, expected.probabilities);
    expectClose([batch.expectedReturn], [expected.expectedReturn]);
    for (const p of batch.probabilities) expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    singles.forEach((one, i) => {
      expectClose(one.probabilities, [batch.probabilities[i]]);
      expectClose([one.expectedReturn], [[batch.expectedReturn[i]]]);
    });
    // The rows are not all alike: the model does not answer a constant.
    expect(new Set(batch.probabilities.map((p) => p[0].toFixed(6))).size).toBeGreaterThan(3);
    // expected_return is the probability-weighted class return.
    batch.probabilities.forEach((p, i) => {
      const er = p.reduce((s, v, c) => s + v * model.classReturns[c], 0);
      expect(Math.abs(er - batch.expectedReturn[i])).toBeLessThan(TOL);
    });
  });

  it('is the model that training reproduces, with the metrics its sidecar reports', () => {
    const fresh = trainShippedSignalModel(series, { version: sidecar.version });
    expect(fresh.model.layers).toEqual(model.layers);
    expect(fresh.model.mean).toEqual(model.mean);
    expect(fresh.model.scale).toEqual(model.scale);
    expect(fresh.model.classReturns).toEqual(model.classReturns);
    expect(fresh.sidecar.metrics).toEqual(sidecar.metrics);
    expect(fresh.test.n).toBe(sidecar.metrics.n_test);
  });
});
