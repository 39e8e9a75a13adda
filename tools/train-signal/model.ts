/**
 * A tiny multilayer perceptron for the trading signal, trained with mini-batch Adam:
 * standardise (x - mean) / scale, dense layers with ReLU between them, softmax over
 * SELL / HOLD / BUY. The expected return is the probability-weighted mean of each class's
 * average next-day return in the training data, so it is one MatMul on the probabilities.
 *
 * Everything is deterministic for a given seed (own PRNG, fixed iteration order).
 */

export interface DenseLayer {
  /** weights[i][j]: from input i to output j (shape [in, out]). */
  weights: number[][];
  bias: number[];
}

export interface SignalModel {
  featureNames: string[];
  /** Per-feature mean and scale of the standardisation (x - mean) / scale. */
  mean: number[];
  scale: number[];
  /** Dense layers; ReLU after every layer but the last, softmax after the last (3 outputs). */
  layers: DenseLayer[];
  /** Average next-day return of each class (SELL, HOLD, BUY) in the training data. */
  classReturns: number[];
}

export interface SignalPrediction {
  /** One row per input row: probabilities of SELL, HOLD, BUY. */
  probabilities: number[][];
  /** One value per input row: sum over classes of probability * class return. */
  expectedReturn: number[];
}

export interface TrainOptions {
  /** Hidden layer sizes; [] is multinomial logistic regression. */
  hidden: number[];
  seed: number;
  learningRate: number;
  batchSize: number;
  maxEpochs: number;
  /** Stop when the validation loss has not improved for this many epochs; the best epoch's weights are kept. */
  patience: number;
  /** L2 penalty on the weights (not the biases), added to the mean cross-entropy. */
  weightDecay: number;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  hidden: [16],
  seed: 20240601,
  learningRate: 0.002,
  batchSize: 64,
  maxEpochs: 200,
  patience: 20,
  weightDecay: 1e-3,
};

export interface TrainingSet {
  features: number[][];
  labels: number[];
  returns: number[];
}

export interface TrainResult {
  model: SignalModel;
  bestEpoch: number;
  epochsRun: number;
  trainLoss: number;
  validationLoss: number;
}

/** mulberry32: a small, fast, seedable 32-bit PRNG returning numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rand: () => number): number {
  const u = 1 - rand(); // (0, 1]
  const v = rand();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Per-column mean and population standard deviation (1 where a column is constant). */
export function standardisation(rows: readonly number[][]): { mean: number[]; scale: number[] } {
  const f = rows[0].length;
  const mean = new Array<number>(f).fill(0);
  const scale = new Array<number>(f).fill(0);
  for (const r of rows) for (let j = 0; j < f; j++) mean[j] += r[j];
  for (let j = 0; j < f; j++) mean[j] /= rows.length;
  for (const r of rows) for (let j = 0; j < f; j++) scale[j] += (r[j] - mean[j]) ** 2;
  for (let j = 0; j < f; j++) {
    const sd = Math.sqrt(scale[j] / rows.length);
    scale[j] = sd > 1e-12 ? sd : 1;
  }
  return { mean, scale };
}

/** Forward pass of one standardised row; returns every layer's activations (post-ReLU) and the logits. */
function forward(layers: readonly DenseLayer[], z: readonly number[]): { acts: number[][]; logits: number[] } {
  const acts: number[][] = [z as number[]];
  let x = z as number[];
  for (let l = 0; l < layers.length; l++) {
    const { weights, bias } = layers[l];
    const out = bias.slice();
    for (let i = 0; i < x.length; i++) {
      const xi = x[i];
      if (xi === 0) continue;
      const wi = weights[i];
      for (let j = 0; j < out.length; j++) out[j] += xi * wi[j];
    }
    if (l < layers.length - 1) {
      for (let j = 0; j < out.length; j++) if (out[j] < 0) out[j] = 0;
      acts.push(out);
    }
    x = out;
  }
  return { acts, logits: x };
}

export function softmax(logits: readonly number[]): number[] {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  const e = logits.map((v) => Math.exp(v - max));
  let s = 0;
  for (const v of e) s += v;
  return e.map((v) => v / s);
}

function standardise(model: Pick<SignalModel, 'mean' | 'scale'>, row: readonly number[]): number[] {
  return row.map((v, j) => (v - model.mean[j]) / model.scale[j]);
}

/** The model's outputs for a batch of raw (unstandardised) feature rows. */
export function predictSignal(model: SignalModel, rows: readonly number[][]): SignalPrediction {
  const probabilities: number[][] = [];
  const expectedReturn: number[] = [];
  for (const row of rows) {
    if (row.length !== model.mean.length) {
      throw new RangeError(`expected ${model.mean.length} features, got ${row.length}`);
    }
    const p = softmax(forward(model.layers, standardise(model, row)).logits);
    probabilities.push(p);
    let er = 0;
    for (let c = 0; c < p.length; c++) er += p[c] * model.classReturns[c];
    expectedReturn.push(er);
  }
  return { probabilities, expectedReturn };
}

export function argmax(xs: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i;
  return best;
}

/** Mean cross-entropy of a model on raw rows and labels. */
export function crossEntropy(model: SignalModel, rows: readonly number[][], labels: readonly number[]): number {
  const { probabilities } = predictSignal(model, rows);
  let s = 0;
  for (let i = 0; i < labels.length; i++) s -= Math.log(Math.max(probabilities[i][labels[i]], 1e-12));
  return s / labels.length;
}

/** Average return per class (0 for a class with no sample). */
export function classMeanReturns(labels: readonly number[], returns: readonly number[], classes = 3): number[] {
  const sum = new Array<number>(classes).fill(0);
  const n = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) {
    sum[labels[i]] += returns[i];
    n[labels[i]]++;
  }
  return sum.map((s, c) => (n[c] > 0 ? s / n[c] : 0));
}

/** Rounds every parameter to float32, the precision the ONNX export stores. */
export function toFloat32Model(model: SignalModel): SignalModel {
  const f = (xs: readonly number[]) => xs.map((v) => Math.fround(v));
  return {
    featureNames: [...model.featureNames],
    mean: f(model.mean),
    scale: f(model.scale),
    layers: model.layers.map((l) => ({ weights: l.weights.map(f), bias: f(l.bias) })),
    classReturns: f(model.classReturns),
  };
}

function cloneLayers(layers: readonly DenseLayer[]): DenseLayer[] {
  return layers.map((l) => ({ weights: l.weights.map((w) => w.slice()), bias: l.bias.slice() }));
}

/**
 * Trains the classifier on `train` with early stopping on `validation`. Standardisation
 * statistics and class returns come from `train` only. The returned model is rounded to float32.
 */
export function trainSignalModel(
  train: TrainingSet,
  validation: TrainingSet,
  featureNames: readonly string[],
  options: Partial<TrainOptions> = {},
): TrainResult {
  const o: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, ...options };
  const classes = 3;
  const rand = mulberry32(o.seed);
  const { mean, scale } = standardisation(train.features);
  const z = train.features.map((r) => standardise({ mean, scale }, r));

  // He initialisation for ReLU layers, Glorot-like for the output layer.
  const sizes = [featureNames.length, ...o.hidden, classes];
  const layers: DenseLayer[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const fanIn = sizes[l];
    const std = l + 2 < sizes.length ? Math.sqrt(2 / fanIn) : Math.sqrt(1 / fanIn);
    const weights: number[][] = [];
    for (let i = 0; i < fanIn; i++) {
      const row: number[] = [];
      for (let j = 0; j < sizes[l + 1]; j++) row.push(gaussian(rand) * std);
      weights.push(row);
    }
    layers.push({ weights, bias: new Array<number>(sizes[l + 1]).fill(0) });
  }

  // Adam state.
  const zeroLike = (ls: DenseLayer[]) =>
    ls.map((l) => ({ weights: l.weights.map((w) => w.map(() => 0)), bias: l.bias.map(() => 0) }));
  const m1 = zeroLike(layers);
  const m2 = zeroLike(layers);
  const grads = zeroLike(layers);
  const beta1 = 0.9;
  const beta2 = 0.999;
  const eps = 1e-8;
  let step = 0;

  const classReturns = classMeanReturns(train.labels, train.returns, classes);
  const snapshot = (ls: DenseLayer[]): SignalModel => ({
    featureNames: [...featureNames],
    mean,
    scale,
    layers: cloneLayers(ls),
    classReturns,
  });

  const order = train.labels.map((_, i) => i);
  let best = { loss: Infinity, epoch: 0, layers: cloneLayers(layers) };
  let epochsRun = 0;

  for (let epoch = 1; epoch <= o.maxEpochs; epoch++) {
    epochsRun = epoch;
    // Fisher-Yates shuffle with the seeded PRNG.
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let start = 0; start < order.length; start += o.batchSize) {
      const batch = order.slice(start, start + o.batchSize);
      for (const g of grads) {
        for (const w of g.weights) w.fill(0);
        g.bias.fill(0);
      }
      for (const idx of batch) {
        const { acts, logits } = forward(layers, z[idx]);
        const p = softmax(logits);
        // dLoss/dlogits for softmax + cross-entropy.
        let delta = p.map((v, c) => v - (c === train.labels[idx] ? 1 : 0));
        for (let l = layers.length - 1; l >= 0; l--) {
          const input = acts[l];
          const g = grads[l];
          for (let i = 0; i < input.length; i++) {
            const xi = input[i];
            if (xi === 0) continue;
            const gw = g.weights[i];
            for (let j = 0; j < delta.length; j++) gw[j] += xi * delta[j];
          }
          for (let j = 0; j < delta.length; j++) g.bias[j] += delta[j];
          if (l > 0) {
            const w = layers[l].weights;
            const prev = new Array<number>(input.length).fill(0);
            for (let i = 0; i < input.length; i++) {
              if (input[i] <= 0) continue; // ReLU gate of the previous layer
              let s = 0;
              for (let j = 0; j < delta.length; j++) s += w[i][j] * delta[j];
              prev[i] = s;
            }
            delta = prev;
          }
        }
      }
      step++;
      const lr = (o.learningRate * Math.sqrt(1 - beta2 ** step)) / (1 - beta1 ** step);
      const inv = 1 / batch.length;
      for (let l = 0; l < layers.length; l++) {
        const layer = layers[l];
        for (let i = 0; i < layer.weights.length; i++) {
          for (let j = 0; j < layer.weights[i].length; j++) {
            const gij = grads[l].weights[i][j] * inv + o.weightDecay * layer.weights[i][j];
            m1[l].weights[i][j] = beta1 * m1[l].weights[i][j] + (1 - beta1) * gij;
            m2[l].weights[i][j] = beta2 * m2[l].weights[i][j] + (1 - beta2) * gij * gij;
            layer.weights[i][j] -= (lr * m1[l].weights[i][j]) / (Math.sqrt(m2[l].weights[i][j]) + eps);
          }
        }
        for (let j = 0; j < layer.bias.length; j++) {
          const gj = grads[l].bias[j] * inv;
          m1[l].bias[j] = beta1 * m1[l].bias[j] + (1 - beta1) * gj;
          m2[l].bias[j] = beta2 * m2[l].bias[j] + (1 - beta2) * gj * gj;
          layer.bias[j] -= (lr * m1[l].bias[j]) / (Math.sqrt(m2[l].bias[j]) + eps);
        }
      }
    }
    const valLoss = crossEntropy(snapshot(layers), validation.features, validation.labels);
    if (valLoss < best.loss - 1e-7) {
      best = { loss: valLoss, epoch, layers: cloneLayers(layers) };
    } else if (epoch - best.epoch >= o.patience) {
      break;
    }
  }

  const model = toFloat32Model(snapshot(best.layers));
  return {
    model,
    bestEpoch: best.epoch,
    epochsRun,
    trainLoss: crossEntropy(model, train.features, train.labels),
    validationLoss: crossEntropy(model, validation.features, validation.labels),
  };
}
