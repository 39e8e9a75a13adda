/**
 * JSON tensors of the Open Inference Protocol (KServe V2): parsing an inference request into the
 * inference layer's typed inputs, and turning outputs back into V2 tensors.
 */
import { AppError } from '../../common/errors/app-error';
import { elementCount, type ModelSignature, type TensorInputs, type TensorOutputs, type TensorType } from './tensors';

const V2_TO_TENSOR: Record<string, TensorType> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};

const TENSOR_TO_V2 = Object.fromEntries(Object.entries(V2_TO_TENSOR).map(([v2, t]) => [t, v2])) as Record<
  TensorType,
  string
>;

export function v2Datatype(type: TensorType | null): string {
  return type === null ? 'UNKNOWN' : TENSOR_TO_V2[type];
}

export interface V2InputTensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
  parameters?: Record<string, unknown>;
}

export interface V2OutputTensor {
  name: string;
  shape: number[];
  datatype: string;
  data: (number | string | boolean)[];
  parameters?: Record<string, unknown>;
}

export interface V2InferRequest {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs: V2InputTensor[];
  outputs?: { name: string; parameters?: Record<string, unknown> }[];
}

const MAX_ELEMENTS = 16 * 1024 * 1024;

function bad(message: string): AppError {
  return new AppError('validation_failed', message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks the shape of a V2 inference request body; tensor contents are checked against the model later. */
export function parseV2Request(body: unknown): V2InferRequest {
  if (!isRecord(body)) throw bad('The inference request must be a JSON object');
  const known = new Set(['id', 'parameters', 'inputs', 'outputs']);
  for (const key of Object.keys(body))
    if (!known.has(key)) throw bad(`Unknown field "${key}" in the inference request`);
  if (body.id !== undefined && typeof body.id !== 'string') throw bad('"id" must be a string');
  if (body.parameters !== undefined && !isRecord(body.parameters)) throw bad('"parameters" must be an object');
  if (!Array.isArray(body.inputs) || body.inputs.length === 0)
    throw bad('"inputs" must be a non-empty list of tensors');
  const inputs = body.inputs.map((raw: unknown, i): V2InputTensor => {
    if (!isRecord(raw)) throw bad(`inputs[${i}] must be an object`);
    const { name, shape, datatype, data, parameters } = raw;
    if (typeof name !== 'string' || name === '') throw bad(`inputs[${i}].name must be a non-empty string`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw bad(`inputs[${i}].shape must be a list of non-negative integers`);
    }
    if (typeof datatype !== 'string' || !(datatype in V2_TO_TENSOR)) {
      throw bad(`inputs[${i}].datatype must be one of ${Object.keys(V2_TO_TENSOR).join(', ')}`);
    }
    if (!Array.isArray(data)) throw bad(`inputs[${i}].data must be a list (row-major, flat or nested)`);
    if (parameters !== undefined && !isRecord(parameters)) throw bad(`inputs[${i}].parameters must be an object`);
    return { name, shape: shape as number[], datatype, data: data as unknown[], parameters };
  });
  const names = new Set<string>();
  for (const input of inputs) {
    if (names.has(input.name)) throw bad(`Input "${input.name}" is given twice`);
    names.add(input.name);
  }
  let outputs: V2InferRequest['outputs'];
  if (body.outputs !== undefined) {
    if (!Array.isArray(body.outputs)) throw bad('"outputs" must be a list');
    outputs = body.outputs.map((raw: unknown, i) => {
      if (!isRecord(raw) || typeof raw.name !== 'string') throw bad(`outputs[${i}].name must be a string`);
      if (raw.parameters !== undefined && !isRecord(raw.parameters))
        throw bad(`outputs[${i}].parameters must be an object`);
      return { name: raw.name, parameters: raw.parameters };
    });
  }
  return {
    id: body.id,
    parameters: body.parameters,
    inputs,
    outputs,
  };
}

/** Converts the request's tensors to the model's typed inputs; 400 on any mismatch with its signature. */
export function toTensorInputs(request: V2InferRequest, signature: ModelSignature): TensorInputs {
  const specs = new Map(signature.inputs.map((s) => [s.name, s]));
  const inputs: TensorInputs = {};
  for (const tensor of request.inputs) {
    const spec = specs.get(tensor.name);
    if (!spec) {
      throw bad(`Unknown input "${tensor.name}"; the model takes ${[...specs.keys()].map((n) => `"${n}"`).join(', ')}`);
    }
    const type = V2_TO_TENSOR[tensor.datatype];
    if (spec.type !== type)
      throw bad(`Input "${tensor.name}" must be ${v2Datatype(spec.type)}, got ${tensor.datatype}`);
    const size = elementCount(tensor.shape);
    if (size > MAX_ELEMENTS) throw bad(`Input "${tensor.name}" is too large (${size} elements)`);
    const flat = tensor.data.flat(Infinity);
    if (flat.length !== size) {
      throw bad(
        `Input "${tensor.name}" with shape [${tensor.shape.join(', ')}] needs ${size} values, got ${flat.length}`,
      );
    }
    inputs[tensor.name] = { data: typedData(tensor.name, type, flat), dims: tensor.shape, type };
  }
  for (const spec of signature.inputs) {
    if (!(spec.name in inputs)) throw bad(`Missing input "${spec.name}"`);
  }
  return inputs;
}

const INT_RANGES: Partial<Record<TensorType, [number, number, new (values: number[]) => ArrayLike<number>]>> = {
  int8: [-128, 127, Int8Array],
  uint8: [0, 255, Uint8Array],
  int16: [-32768, 32767, Int16Array],
  uint16: [0, 65535, Uint16Array],
  int32: [-2147483648, 2147483647, Int32Array],
  uint32: [0, 4294967295, Uint32Array],
};

function typedData(name: string, type: TensorType, values: unknown[]): TensorInputs[string]['data'] {
  const numbers = (): number[] => {
    if (!values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw bad(`Input "${name}" must hold finite numbers only`);
    }
    return values as number[];
  };
  const integers = (min: number, max: number): number[] => {
    const n = numbers();
    if (!n.every((v) => Number.isInteger(v) && v >= min && v <= max)) {
      throw bad(`Input "${name}" must hold integers in ${min}..${max}`);
    }
    return n;
  };
  switch (type) {
    case 'float32':
      return Float32Array.from(numbers());
    case 'float64':
      return Float64Array.from(numbers());
    case 'int64':
      return BigInt64Array.from(integers(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER).map((v) => BigInt(v)));
    case 'uint64':
      return BigUint64Array.from(integers(0, Number.MAX_SAFE_INTEGER).map((v) => BigInt(v)));
    case 'bool':
      if (!values.every((v) => typeof v === 'boolean' || v === 0 || v === 1))
        throw bad(`Input "${name}" must hold booleans`);
      return Uint8Array.from(values.map((v) => (v === true || v === 1 ? 1 : 0)));
    case 'string':
      if (!values.every((v) => typeof v === 'string')) throw bad(`Input "${name}" must hold strings`);
      return values;
    case 'float16':
      throw bad(`Input "${name}" is FP16, which the JSON protocol of this server does not accept; use FP32 models`);
    case 'int8':
    case 'uint8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32': {
      const [min, max, Ctor] = INT_RANGES[type]!;
      return new Ctor(integers(min, max)) as unknown as TensorInputs[string]['data'];
    }
  }
}

/**
 * The outputs as V2 tensors, in the requested order (every output in the model's order when none is
 * requested). 400 for a requested output the model does not have.
 */
export function toV2Outputs(
  outputs: TensorOutputs,
  order: readonly string[],
  requested?: readonly { name: string }[],
): V2OutputTensor[] {
  const names = requested && requested.length > 0 ? requested.map((r) => r.name) : order.filter((n) => n in outputs);
  return names.map((name) => {
    const output = Object.hasOwn(outputs, name) ? outputs[name] : undefined;
    if (!output) throw bad(`Unknown output "${name}"; the model has ${order.map((n) => `"${n}"`).join(', ')}`);
    return { name, datatype: v2Datatype(output.type), shape: output.dims, data: plainData(output.type, output.data) };
  });
}

/** Plain JSON values of tensor data (the arrays may come from a worker thread's realm). */
function plainData(type: TensorType, data: TensorOutputs[string]['data']): (number | string | boolean)[] {
  if (type === 'string') return Array.from(data as string[]);
  if (type === 'bool') return Array.from(data as ArrayLike<number>, (v) => v !== 0);
  if (type === 'int64' || type === 'uint64') return Array.from(data as ArrayLike<bigint>, (v) => Number(v));
  return Array.from(data as ArrayLike<number>);
}
