import type { ModelSignature } from '../inference';

export const STAGES = ['none', 'staging', 'production', 'archived'] as const;
export type Stage = (typeof STAGES)[number];

/** The answer classes of /predict. */
export const DIRECTIONS = ['SELL', 'HOLD', 'BUY'] as const;
export type Direction = (typeof DIRECTIONS)[number];

/** Model names and version ids: a letter or digit, then letters, digits, `.`, `_` or `-` (at most 100). */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** The one input tensor a model takes: /predict feeds it one row of `features`. */
export interface InputSignature {
  /** Tensor name in the ONNX graph. */
  name: string;
  /** /predict feeds numbers: float32 or float64. */
  dtype: 'float32' | 'float64';
  /** Declared shape, -1 for a dynamic dimension (the first one, for batching). */
  shape: number[];
  feature_names?: string[];
}

/** How a model's outputs become a /predict answer. */
export interface OutputMapping {
  /** Output holding one probability per class and row, [batch, labels.length]. */
  probabilities: string;
  /** Class of each column of `probabilities`. */
  labels: string[];
  /** Output holding the expected return of each row, [batch, 1] (optional). */
  expected_return?: string;
  /**
   * Feedback given as a realised return counts as BUY above `threshold`, SELL below `-threshold`,
   * HOLD otherwise (default 0).
   */
  threshold?: number;
}

/** Number of features a signature takes per row (its last dimension), or undefined when dynamic. */
export function featureCount(signature: InputSignature): number | undefined {
  const last = signature.shape[signature.shape.length - 1];
  return last !== undefined && last >= 0 ? last : undefined;
}

/**
 * Why a loaded ONNX model does not fit a registered model's signature and mapping; empty when it fits.
 * The first dimension must be dynamic where the signature says so (requests are stacked along it).
 */
export function signatureProblems(expected: InputSignature, mapping: OutputMapping, actual: ModelSignature): string[] {
  const problems: string[] = [];
  const names = actual.inputs.map((i) => i.name);
  if (actual.inputs.length !== 1 || names[0] !== expected.name) {
    problems.push(
      `the model must take exactly one input "${expected.name}", it takes ${names.map((n) => `"${n}"`).join(', ') || 'none'}`,
    );
  } else {
    const input = actual.inputs[0];
    if (input.type !== expected.dtype)
      problems.push(`input "${input.name}" is ${input.type ?? 'not a tensor'}, not ${expected.dtype}`);
    if (input.shape.length !== expected.shape.length) {
      problems.push(`input "${input.name}" has shape ${shapeText(input.shape)}, not ${shapeText(expected.shape)}`);
    } else {
      expected.shape.forEach((dim, i) => {
        const got = input.shape[i];
        if ((dim >= 0 && got >= 0 && got !== dim) || (dim < 0 && got >= 0)) {
          problems.push(`input "${input.name}" has shape ${shapeText(input.shape)}, not ${shapeText(expected.shape)}`);
        }
      });
    }
  }
  const outputs = new Map(actual.outputs.map((o) => [o.name, o]));
  const probabilities = outputs.get(mapping.probabilities);
  if (!probabilities) {
    problems.push(`the model has no output "${mapping.probabilities}"`);
  } else {
    const last = probabilities.shape[probabilities.shape.length - 1];
    if (probabilities.type !== 'float32' && probabilities.type !== 'float64') {
      problems.push(`output "${probabilities.name}" must be float32 or float64`);
    } else if (
      probabilities.shape.length !== 2 ||
      (last !== undefined && last >= 0 && last !== mapping.labels.length)
    ) {
      problems.push(
        `output "${probabilities.name}" must have shape [batch, ${mapping.labels.length}], it has ${shapeText(probabilities.shape)}`,
      );
    }
  }
  if (mapping.expected_return !== undefined) {
    const er = outputs.get(mapping.expected_return);
    if (!er) problems.push(`the model has no output "${mapping.expected_return}"`);
    else if (er.type !== 'float32' && er.type !== 'float64')
      problems.push(`output "${er.name}" must be float32 or float64`);
  }
  return [...new Set(problems)];
}

export function shapeText(shape: readonly number[]): string {
  return `[${shape.map((d) => (d >= 0 ? String(d) : '?')).join(', ')}]`;
}
