/**
 * Turns onnxruntime's session metadata into a ModelSignature. Kept free of onnxruntime imports: the
 * worker passes the session's metadata in.
 */
import type { ModelSignature, TensorSpec, TensorType } from './tensors';

/** The shape of onnxruntime's InferenceSession.ValueMetadata. */
export type ValueMetadataLike =
  | { name: string; isTensor: false }
  | { name: string; isTensor: true; type: string; shape: ReadonlyArray<number | string> };

const TENSOR_TYPES = new Set<string>([
  'float32',
  'float64',
  'float16',
  'int8',
  'uint8',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'bool',
  'string',
]);

export function tensorSpec(meta: ValueMetadataLike): TensorSpec {
  if (!meta.isTensor) return { name: meta.name, type: null, shape: [], dimNames: [], dynamicBatch: false };
  if (!TENSOR_TYPES.has(meta.type)) throw new Error(`"${meta.name}" has unsupported element type ${meta.type}`);
  const shape = meta.shape.map((d) => (typeof d === 'number' ? d : -1));
  const dimNames = meta.shape.map((d) => (typeof d === 'string' && d !== '' ? d : null));
  return {
    name: meta.name,
    type: meta.type as TensorType,
    shape,
    dimNames,
    dynamicBatch: shape.length > 0 && shape[0] === -1,
  };
}

export function buildSignature(
  inputs: readonly ValueMetadataLike[],
  outputs: readonly ValueMetadataLike[],
): ModelSignature {
  const inputSpecs = inputs.map(tensorSpec);
  const outputSpecs = outputs.map(tensorSpec);
  const batchable =
    inputSpecs.length > 0 && [...inputSpecs, ...outputSpecs].every((s) => s.type !== null && s.dynamicBatch);
  return { inputs: inputSpecs, outputs: outputSpecs, batchable };
}
