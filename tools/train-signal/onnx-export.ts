/**
 * Writes a {@link SignalModel} as an ONNX model (protobuf ModelProto), and reads one back.
 *
 * The message types are the subset of onnx.proto3 the export needs, with onnx.proto3's field
 * numbers. Graph (opset 13):
 *
 *   features [batch, F] -> Sub(mean) -> Div(scale) -> Gemm -> Relu -> ... -> Gemm -> Softmax(axis 1)
 *     -> probabilities [batch, 3]   (class order SELL, HOLD, BUY)
 *   probabilities -> MatMul(class_returns [3, 1]) -> expected_return [batch, 1]
 *
 * The first dimension is symbolic ("batch"), so any number of rows can be scored in one run.
 */
import * as protobuf from 'protobufjs';

import type { DenseLayer, SignalModel } from './model';

/** ONNX IR version 8 (ONNX 1.10+) with the default-domain opset 13; onnxruntime 1.30 loads both. */
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 13;

export const INPUT_NAME = 'features';
export const PROBABILITIES_NAME = 'probabilities';
export const EXPECTED_RETURN_NAME = 'expected_return';
export const BATCH_DIM = 'batch';

const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR_INT = 2; // AttributeProto.AttributeType.INT

const ONNX_SUBSET = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            docString: { type: 'string', id: 13 },
            type: { type: 'int32', id: 20 },
          },
        },
        ValueInfoProto: {
          fields: {
            name: { type: 'string', id: 1 },
            type: { type: 'TypeProto', id: 2 },
            docString: { type: 'string', id: 3 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            docString: { type: 'string', id: 6 },
            domain: { type: 'string', id: 7 },
          },
        },
        StringStringEntryProto: {
          fields: {
            key: { type: 'string', id: 1 },
            value: { type: 'string', id: 2 },
          },
        },
        OperatorSetIdProto: {
          fields: {
            domain: { type: 'string', id: 1 },
            version: { type: 'int64', id: 2 },
          },
        },
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            modelVersion: { type: 'int64', id: 5 },
            docString: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            metadataProps: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            docString: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
            valueInfo: { rule: 'repeated', type: 'ValueInfoProto', id: 13 },
          },
        },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            floatData: { rule: 'repeated', type: 'float', id: 4 },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
            docString: { type: 'string', id: 12 },
          },
        },
        TensorShapeProto: {
          fields: {
            dim: { rule: 'repeated', type: 'Dimension', id: 1 },
          },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: {
                dimValue: { type: 'int64', id: 1 },
                dimParam: { type: 'string', id: 2 },
                denotation: { type: 'string', id: 3 },
              },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensorType'] } },
          fields: {
            tensorType: { type: 'Tensor', id: 1 },
            denotation: { type: 'string', id: 6 },
          },
          nested: {
            Tensor: {
              fields: {
                elemType: { type: 'int32', id: 1 },
                shape: { type: 'TensorShapeProto', id: 2 },
              },
            },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(ONNX_SUBSET);
const ModelProto = root.lookupType('onnx.ModelProto');

export interface OnnxExportOptions {
  /** Key/value pairs stored as the model's metadata_props. */
  metadata?: Record<string, string>;
  docString?: string;
  graphName?: string;
  producerName?: string;
  producerVersion?: string;
  /** ModelProto.model_version (an integer). */
  modelVersion?: number;
}

/** The plain-object view of the parts of a decoded ModelProto this module writes. */
export interface DecodedTensor {
  name: string;
  dims: number[];
  dataType: number;
  values: Float32Array;
}

export interface DecodedValueInfo {
  name: string;
  elemType: number;
  /** Each dimension: a number (dim_value) or a string (dim_param). */
  shape: (number | string)[];
}

export interface DecodedNode {
  opType: string;
  input: string[];
  output: string[];
  attributes: Record<string, number>;
}

export interface DecodedOnnxModel {
  irVersion: number;
  opsetImport: { domain: string; version: number }[];
  producerName: string;
  modelVersion: number;
  metadata: Record<string, string>;
  inputs: DecodedValueInfo[];
  outputs: DecodedValueInfo[];
  nodes: DecodedNode[];
  initializers: DecodedTensor[];
}

function floatTensor(name: string, dims: number[], values: readonly number[]): Record<string, unknown> {
  const size = dims.reduce((a, b) => a * b, 1);
  if (values.length !== size)
    throw new RangeError(`tensor ${name}: ${values.length} values for dims ${dims.join('x')}`);
  const data = new Float32Array(values);
  // raw_data is little-endian float32; Buffer.from over the array's bytes is little-endian on every supported host.
  const raw = Buffer.alloc(data.length * 4);
  for (let i = 0; i < data.length; i++) raw.writeFloatLE(data[i], i * 4);
  return { name, dims, dataType: FLOAT, rawData: raw };
}

function tensorValueInfo(name: string, dims: (number | string)[]): Record<string, unknown> {
  return {
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function node(
  opType: string,
  input: string[],
  output: string[],
  attributes: Record<string, number> = {},
): Record<string, unknown> {
  return {
    opType,
    input,
    output,
    name: `${output[0]}_${opType.toLowerCase()}`,
    attribute: Object.entries(attributes).map(([name, i]) => ({ name, i, type: ATTR_INT })),
  };
}

function checkModel(model: SignalModel): void {
  const f = model.mean.length;
  if (f === 0 || model.scale.length !== f || model.featureNames.length !== f) {
    throw new RangeError('mean, scale and featureNames must have the same, non-zero length');
  }
  if (model.layers.length === 0) throw new RangeError('the model needs at least one dense layer');
  let width = f;
  for (const [l, layer] of model.layers.entries()) {
    if (layer.weights.length !== width) throw new RangeError(`layer ${l} expects ${width} inputs`);
    const out = layer.bias.length;
    if (layer.weights.some((row) => row.length !== out)) throw new RangeError(`layer ${l} has ragged weights`);
    width = out;
  }
  if (width !== 3 || model.classReturns.length !== 3) throw new RangeError('the last layer must have 3 outputs');
}

/** Serialises `model` as ONNX ModelProto bytes. */
export function exportSignalModelToOnnx(model: SignalModel, options: OnnxExportOptions = {}): Uint8Array {
  checkModel(model);
  const f = model.mean.length;
  const initializer = [
    floatTensor('standardise_mean', [f], model.mean),
    floatTensor('standardise_scale', [f], model.scale),
  ];
  const nodes = [
    node('Sub', [INPUT_NAME, 'standardise_mean'], ['centred']),
    node('Div', ['centred', 'standardise_scale'], ['standardised']),
  ];
  let x = 'standardised';
  model.layers.forEach((layer, l) => {
    const inDim = layer.weights.length;
    const outDim = layer.bias.length;
    initializer.push(floatTensor(`dense${l}_weight`, [inDim, outDim], layer.weights.flat()));
    initializer.push(floatTensor(`dense${l}_bias`, [outDim], layer.bias));
    const last = l === model.layers.length - 1;
    const out = last ? 'logits' : `dense${l}_linear`;
    nodes.push(node('Gemm', [x, `dense${l}_weight`, `dense${l}_bias`], [out]));
    x = out;
    if (!last) {
      nodes.push(node('Relu', [x], [`dense${l}_relu`]));
      x = `dense${l}_relu`;
    }
  });
  nodes.push(node('Softmax', [x], [PROBABILITIES_NAME], { axis: 1 }));
  initializer.push(floatTensor('class_returns', [3, 1], model.classReturns));
  nodes.push(node('MatMul', [PROBABILITIES_NAME, 'class_returns'], [EXPECTED_RETURN_NAME]));

  const message = ModelProto.fromObject({
    irVersion: ONNX_IR_VERSION,
    producerName: options.producerName ?? 'conflux',
    producerVersion: options.producerVersion ?? '',
    modelVersion: options.modelVersion ?? 1,
    docString: options.docString ?? '',
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: options.graphName ?? 'trading_signal',
      node: nodes,
      initializer,
      input: [tensorValueInfo(INPUT_NAME, [BATCH_DIM, f])],
      output: [
        tensorValueInfo(PROBABILITIES_NAME, [BATCH_DIM, 3]),
        tensorValueInfo(EXPECTED_RETURN_NAME, [BATCH_DIM, 1]),
      ],
    },
  });
  return ModelProto.encode(message).finish();
}

/* The decoded protobuf object, read defensively: every field may be absent. */
interface RawTensor {
  name?: string;
  dims?: number[];
  dataType?: number;
  floatData?: number[];
  rawData?: Uint8Array;
}
interface RawValueInfo {
  name?: string;
  type?: {
    tensorType?: { elemType?: number; shape?: { dim?: { dimValue?: number; dimParam?: string }[] } };
  };
}
interface RawModel {
  irVersion?: number;
  producerName?: string;
  modelVersion?: number;
  opsetImport?: { domain?: string; version?: number }[];
  metadataProps?: { key?: string; value?: string }[];
  graph?: {
    node?: { opType?: string; input?: string[]; output?: string[]; attribute?: { name?: string; i?: number }[] }[];
    initializer?: RawTensor[];
    input?: RawValueInfo[];
    output?: RawValueInfo[];
  };
}

function decodeValueInfo(v: RawValueInfo): DecodedValueInfo {
  const t = v.type?.tensorType;
  return {
    name: v.name ?? '',
    elemType: t?.elemType ?? 0,
    shape: (t?.shape?.dim ?? []).map((d) =>
      d.dimParam !== undefined && d.dimParam !== '' ? d.dimParam : (d.dimValue ?? 0),
    ),
  };
}

function decodeTensor(t: RawTensor): DecodedTensor {
  let values: Float32Array;
  if (t.rawData && t.rawData.length > 0) {
    const raw = Buffer.from(t.rawData);
    values = new Float32Array(raw.length / 4);
    for (let i = 0; i < values.length; i++) values[i] = raw.readFloatLE(i * 4);
  } else {
    values = new Float32Array(t.floatData ?? []);
  }
  return { name: t.name ?? '', dims: t.dims ?? [], dataType: t.dataType ?? 0, values };
}

/** Decodes the parts of an ONNX ModelProto that {@link exportSignalModelToOnnx} writes (float tensors only). */
export function decodeOnnxModel(bytes: Uint8Array): DecodedOnnxModel {
  const raw = ModelProto.toObject(ModelProto.decode(bytes), {
    longs: Number,
    defaults: false,
    arrays: true,
  }) as RawModel;
  const g = raw.graph ?? {};
  return {
    irVersion: raw.irVersion ?? 0,
    opsetImport: (raw.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: o.version ?? 0 })),
    producerName: raw.producerName ?? '',
    modelVersion: raw.modelVersion ?? 0,
    metadata: Object.fromEntries((raw.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? ''])),
    inputs: (g.input ?? []).map(decodeValueInfo),
    outputs: (g.output ?? []).map(decodeValueInfo),
    nodes: (g.node ?? []).map((n) => ({
      opType: n.opType ?? '',
      input: n.input ?? [],
      output: n.output ?? [],
      attributes: Object.fromEntries((n.attribute ?? []).map((a) => [a.name ?? '', a.i ?? 0])),
    })),
    initializers: (g.initializer ?? []).map(decodeTensor),
  };
}

/** Rebuilds the {@link SignalModel} of an ONNX file written by {@link exportSignalModelToOnnx}. */
export function signalModelFromOnnx(bytes: Uint8Array, featureNames?: readonly string[]): SignalModel {
  const decoded = decodeOnnxModel(bytes);
  const byName = new Map(decoded.initializers.map((t) => [t.name, t]));
  const get = (name: string): DecodedTensor => {
    const t = byName.get(name);
    if (!t) throw new Error(`ONNX model has no initializer ${name}`);
    return t;
  };
  const layers: DenseLayer[] = [];
  for (let l = 0; byName.has(`dense${l}_weight`); l++) {
    const w = get(`dense${l}_weight`);
    const [rows, cols] = w.dims;
    const weights: number[][] = [];
    for (let i = 0; i < rows; i++) weights.push(Array.from(w.values.subarray(i * cols, (i + 1) * cols)));
    layers.push({ weights, bias: Array.from(get(`dense${l}_bias`).values) });
  }
  const mean = Array.from(get('standardise_mean').values);
  const names = featureNames ?? parseFeatureNames(decoded.metadata.feature_names) ?? mean.map((_, i) => `f${i}`);
  return {
    featureNames: [...names],
    mean,
    scale: Array.from(get('standardise_scale').values),
    layers,
    classReturns: Array.from(get('class_returns').values),
  };
}

function parseFeatureNames(json: string | undefined): string[] | undefined {
  if (json === undefined) return undefined;
  const parsed: unknown = JSON.parse(json);
  return Array.isArray(parsed) && parsed.every((v) => typeof v === 'string') ? parsed : undefined;
}
