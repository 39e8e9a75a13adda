/**
 * Tensor and signature types shared by the host, the worker and the batcher, plus the input checks
 * done on the calling thread (a bad request fails fast, before it reaches a worker or shares a batch).
 */
import { InvalidInputError } from './errors';

export type TensorType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool'
  | 'string';

export type TypedTensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

export type TensorData = TypedTensorData | string[];

export interface TensorInput {
  data: TensorData;
  dims: readonly number[];
  /** Defaults to the model's declared type; only needed to disambiguate (it must match the model anyway). */
  type?: TensorType;
}

export interface TensorOutput {
  data: TensorData;
  dims: number[];
  type: TensorType;
}

export type TensorInputs = Record<string, TensorInput>;
export type TensorOutputs = Record<string, TensorOutput>;

/** One input or output of a model, as declared in the model file. */
export interface TensorSpec {
  name: string;
  /** Element type; null for a value that is not a tensor (sequence, map). */
  type: TensorType | null;
  /** Declared shape, -1 for a dynamic dimension. Empty when the rank is 0 or not declared. */
  shape: number[];
  /** Symbolic name of each dynamic dimension (e.g. "batch"), null for fixed or unnamed ones. */
  dimNames: (string | null)[];
  /** The first dimension is dynamic, so rows can be stacked along it. */
  dynamicBatch: boolean;
}

export interface ModelSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Every input and output is a tensor whose first dimension is dynamic: requests can be micro-batched. */
  batchable: boolean;
}

type TypedArrayConstructor = { new (length: number): TypedTensorData; readonly name: string };

const ARRAY_TYPE: Record<Exclude<TensorType, 'string'>, TypedArrayConstructor> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
};

export function elementCount(dims: readonly number[]): number {
  let count = 1;
  for (const d of dims) count *= d;
  return count;
}

/**
 * True when `data` is the JavaScript representation onnxruntime expects for `type`. Compared by tag, not
 * instanceof, so arrays from another realm (a vm context, a message from a worker) are recognised.
 */
export function dataMatchesType(data: TensorData, type: TensorType): boolean {
  if (type === 'string') return Array.isArray(data) && data.every((s) => typeof s === 'string');
  return ArrayBuffer.isView(data) && tagOf(data) === ARRAY_TYPE[type].name;
}

/** The buffer of a typed array when it can be transferred (a plain ArrayBuffer, not a shared one). */
export function transferableBuffer(data: TensorData): ArrayBuffer | undefined {
  if (Array.isArray(data)) return undefined;
  const buffer: unknown = data.buffer;
  return tagOf(buffer) === 'ArrayBuffer' ? (buffer as ArrayBuffer) : undefined;
}

/** The distinct transferable buffers of a set of tensors, for postMessage's transfer list. */
export function transferList(tensors: Record<string, { data: TensorData }>): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const tensor of Object.values(tensors)) {
    const buffer = transferableBuffer(tensor.data);
    if (buffer) buffers.add(buffer);
  }
  return [...buffers];
}

function tagOf(value: unknown): string {
  return Object.prototype.toString.call(value).slice(8, -1);
}

export function arrayTypeName(type: TensorType): string {
  return type === 'string' ? 'string[]' : ARRAY_TYPE[type].name;
}

/**
 * Checks inputs against a signature: exactly the declared names, matching element type, rank and fixed
 * dimensions, and a data length equal to the product of the dimensions. Returns the inputs with their
 * element types filled in.
 */
export function checkInputs(signature: ModelSignature, inputs: TensorInputs): Record<string, Required<TensorInput>> {
  const checked: Record<string, Required<TensorInput>> = {};
  const declared = new Set(signature.inputs.map((s) => s.name));
  for (const name of Object.keys(inputs)) {
    if (!declared.has(name)) {
      throw new InvalidInputError(
        `Unknown input "${name}"; the model takes ${signature.inputs.map((s) => `"${s.name}"`).join(', ')}`,
      );
    }
  }
  for (const spec of signature.inputs) {
    const input = Object.hasOwn(inputs, spec.name) ? inputs[spec.name] : undefined;
    if (!input) throw new InvalidInputError(`Missing input "${spec.name}"`);
    if (spec.type === null) throw new InvalidInputError(`Input "${spec.name}" is not a tensor and cannot be fed`);
    if (input.type !== undefined && input.type !== spec.type) {
      throw new InvalidInputError(`Input "${spec.name}" must be ${spec.type}, got ${input.type}`);
    }
    if (!dataMatchesType(input.data, spec.type)) {
      throw new InvalidInputError(`Input "${spec.name}" (${spec.type}) needs its data as ${arrayTypeName(spec.type)}`);
    }
    const dims = input.dims;
    if (!Array.isArray(dims) || dims.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new InvalidInputError(`Input "${spec.name}" has invalid dims ${JSON.stringify(dims)}`);
    }
    if (spec.shape.length > 0) {
      if (dims.length !== spec.shape.length) {
        throw new InvalidInputError(
          `Input "${spec.name}" must have rank ${spec.shape.length} (shape ${formatShape(spec)}), got dims [${dims.join(', ')}]`,
        );
      }
      spec.shape.forEach((expected, i) => {
        if (expected >= 0 && dims[i] !== expected) {
          throw new InvalidInputError(
            `Input "${spec.name}" must have shape ${formatShape(spec)}, got dims [${dims.join(', ')}]`,
          );
        }
      });
    }
    const expectedLength = elementCount(dims);
    if (input.data.length !== expectedLength) {
      throw new InvalidInputError(
        `Input "${spec.name}" with dims [${dims.join(', ')}] needs ${expectedLength} values, got ${input.data.length}`,
      );
    }
    checked[spec.name] = { data: input.data, dims, type: spec.type };
  }
  return checked;
}

export function formatShape(spec: TensorSpec): string {
  return `[${spec.shape.map((d, i) => (d >= 0 ? String(d) : (spec.dimNames[i] ?? '?'))).join(', ')}]`;
}
