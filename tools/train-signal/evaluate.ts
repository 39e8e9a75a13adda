/**
 * Out-of-sample metrics of the trading-signal classifier against trivial baselines.
 */
import { SIGNAL_CLASSES } from './features';
import { argmax, predictSignal, type SignalModel } from './model';

export interface SignalMetrics {
  n: number;
  /** Share of rows whose predicted class equals the label. */
  accuracy: number;
  /** Accuracy of always predicting `baselineClass` (the training set's majority class). */
  baselineAccuracy: number;
  baselineClass: string;
  /** Accuracy of the best constant prediction chosen in hindsight (the evaluated set's own majority class). */
  hindsightConstantAccuracy: number;
  /** Mean cross-entropy of the model and of the constant training class frequencies. */
  logLoss: number;
  baselineLogLoss: number;
  /** Rows per class of the labels and of the predictions, in SELL, HOLD, BUY order. */
  labelCounts: number[];
  predictionCounts: number[];
  /** confusion[label][prediction]. */
  confusion: number[][];
  /** Number of BUY or SELL predictions. */
  directionalCalls: number;
  /** Among BUY/SELL predictions: share whose next-day return has the predicted sign (null without calls). */
  directionalHitRate: number | null;
  /** Share of positive next-day returns among all rows (the hit rate of always calling BUY). */
  upShare: number;
  /** Correlation of the expected_return output with the realised next-day return. */
  expectedReturnCorrelation: number;
}

export function classCounts(labels: readonly number[], classes = SIGNAL_CLASSES.length): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const l of labels) counts[l]++;
  return counts;
}

function correlation(a: readonly number[], b: readonly number[]): number {
  const n = a.length;
  if (n === 0) return 0;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

/**
 * Scores `model` on (features, labels, returns). `trainLabels` fixes the baselines: the majority
 * class and the class frequencies of the training data.
 */
export function evaluateSignalModel(
  model: SignalModel,
  data: { features: number[][]; labels: number[]; returns: number[] },
  trainLabels: readonly number[],
): SignalMetrics {
  const k = SIGNAL_CLASSES.length;
  const { probabilities, expectedReturn } = predictSignal(model, data.features);
  const trainCounts = classCounts(trainLabels, k);
  const majority = argmax(trainCounts);
  const prior = trainCounts.map((c) => c / trainLabels.length);

  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  let baselineCorrect = 0;
  let logLoss = 0;
  let baselineLogLoss = 0;
  let calls = 0;
  let hits = 0;
  let ups = 0;
  for (let i = 0; i < data.labels.length; i++) {
    const label = data.labels[i];
    const pred = argmax(probabilities[i]);
    confusion[label][pred]++;
    if (pred === label) correct++;
    if (label === majority) baselineCorrect++;
    logLoss -= Math.log(Math.max(probabilities[i][label], 1e-12));
    baselineLogLoss -= Math.log(Math.max(prior[label], 1e-12));
    if (data.returns[i] > 0) ups++;
    if (pred !== 1) {
      calls++;
      if ((pred === 2 && data.returns[i] > 0) || (pred === 0 && data.returns[i] < 0)) hits++;
    }
  }
  const n = data.labels.length;
  const labelCounts = classCounts(data.labels, k);
  return {
    n,
    accuracy: correct / n,
    baselineAccuracy: baselineCorrect / n,
    baselineClass: SIGNAL_CLASSES[majority],
    hindsightConstantAccuracy: Math.max(...labelCounts) / n,
    logLoss: logLoss / n,
    baselineLogLoss: baselineLogLoss / n,
    labelCounts,
    predictionCounts: confusion.reduce((acc, row) => acc.map((v, j) => v + row[j]), new Array<number>(k).fill(0)),
    confusion,
    directionalCalls: calls,
    directionalHitRate: calls > 0 ? hits / calls : null,
    upShare: ups / n,
    expectedReturnCorrelation: correlation(expectedReturn, data.returns),
  };
}
