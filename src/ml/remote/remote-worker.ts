import type { BreakerState } from '../../common/upstream/breaker';
import { parseJsonObject, RemoteWorkerClient, type RemoteWorkerInfo } from '../../common/upstream/remote-worker-client';
import { UpstreamError } from '../../common/upstream/upstream-error';
import type { MlRemoteWorkerSetting } from '../../config/ml-workers';
import { DIRECTIONS, type InputSignature, type OutputMapping } from '../registry/registry.types';
import type { V2OutputTensor } from '../inference/v2-tensors';

export interface RemoteRow {
  direction: string;
  confidence: number;
  expected_return: number | null;
}

export interface RemoteV2Answer {
  model_version?: string;
  outputs: V2OutputTensor[];
}

/**
 * One model version served by a remote HTTP worker (a GPU box speaking the V2 protocol or the /predict
 * contract), behind its own breaker (RemoteWorkerClient). Each call has a deadline (the request is
 * aborted when it passes); failures, timeouts and malformed answers count against the worker, its
 * refusals of a request (4xx) do not. While the breaker is open calls fail at once and the caller serves
 * the fallback.
 */
export class RemoteWorker {
  readonly id: string;
  private readonly client: RemoteWorkerClient;

  constructor(
    readonly setting: MlRemoteWorkerSetting,
    token: string | undefined,
    onState: (state: BreakerState) => void,
  ) {
    this.id = `${setting.model}@${setting.version}`;
    this.client = new RemoteWorkerClient({
      name: `ml-remote-${this.id}`,
      url: setting.url,
      timeoutMs: setting.timeout_ms,
      token,
      breaker: setting.breaker,
      onState,
    });
  }

  get state(): BreakerState {
    return this.client.state;
  }

  /** Its breaker and last call, for status pages. */
  info(): RemoteWorkerInfo {
    return this.client.info(this.id);
  }

  /** One row through the worker, answered as a /predict prediction. */
  async predictRow(
    row: { symbol: string | undefined; features: number[]; input: InputSignature; mapping: OutputMapping },
    signal?: AbortSignal,
  ): Promise<RemoteRow> {
    if (this.setting.protocol === 'predict') {
      return this.client.post('/predict', { symbol: row.symbol, features: row.features }, parsePredictAnswer, signal);
    }
    const outputs = [{ name: row.mapping.probabilities }];
    if (row.mapping.expected_return) outputs.push({ name: row.mapping.expected_return });
    const body = {
      inputs: [
        {
          name: row.input.name,
          shape: [1, row.features.length],
          datatype: row.input.dtype === 'float64' ? 'FP64' : 'FP32',
          data: row.features,
        },
      ],
      outputs,
    };
    return this.client.post(this.inferPath(), body, (text) => rowFromV2(parseV2Answer(text), row.mapping), signal);
  }

  /** Forwards a V2 inference request (the worker must speak V2). */
  async inferV2(body: Record<string, unknown>, signal?: AbortSignal): Promise<RemoteV2Answer> {
    if (this.setting.protocol !== 'v2') throw new UpstreamError('http_4xx', 'the remote worker does not speak V2');
    return this.client.post(this.inferPath(), body, parseV2Answer, signal);
  }

  close(): Promise<void> {
    return this.client.close();
  }

  private inferPath(): string {
    return `/v2/models/${encodeURIComponent(this.setting.remote_model)}/infer`;
  }
}

function finite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function parsePredictAnswer(text: string): RemoteRow {
  const prediction = parseJsonObject(text).prediction as Record<string, unknown> | undefined;
  if (
    typeof prediction !== 'object' ||
    prediction === null ||
    !(DIRECTIONS as readonly unknown[]).includes(prediction.direction) ||
    !finite(prediction.confidence) ||
    prediction.confidence < 0 ||
    prediction.confidence > 1 ||
    !(
      prediction.expected_return === undefined ||
      prediction.expected_return === null ||
      finite(prediction.expected_return)
    )
  ) {
    throw new UpstreamError(
      'malformed',
      'the remote worker did not answer a prediction {direction, confidence, expected_return}',
    );
  }
  return {
    direction: prediction.direction as string,
    confidence: prediction.confidence,
    expected_return: finite(prediction.expected_return) ? prediction.expected_return : null,
  };
}

function parseV2Answer(text: string): RemoteV2Answer {
  const answer = parseJsonObject(text);
  const outputs = answer.outputs;
  if (!Array.isArray(outputs) || outputs.length === 0)
    throw new UpstreamError('malformed', 'the remote worker answered no outputs');
  const parsed: V2OutputTensor[] = outputs.map((o: unknown) => {
    const t = o as Record<string, unknown> | null;
    const shape = t?.shape;
    const data = t?.data;
    if (
      typeof t?.name !== 'string' ||
      typeof t.datatype !== 'string' ||
      !Array.isArray(shape) ||
      !shape.every((d) => Number.isInteger(d) && (d as number) >= 0) ||
      !Array.isArray(data)
    ) {
      throw new UpstreamError('malformed', 'the remote worker answered a malformed output tensor');
    }
    const flat = (data as unknown[]).flat(Infinity);
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    if (flat.length !== size) throw new UpstreamError('malformed', `output "${t.name}" does not hold ${size} values`);
    return {
      name: t.name,
      datatype: t.datatype,
      shape: shape as number[],
      data: flat as (number | string | boolean)[],
    };
  });
  return {
    model_version: typeof answer.model_version === 'string' ? answer.model_version : undefined,
    outputs: parsed,
  };
}

function rowFromV2(answer: RemoteV2Answer, mapping: OutputMapping): RemoteRow {
  const probabilities = answer.outputs.find((o) => o.name === mapping.probabilities);
  const values = probabilities?.data;
  if (!values || values.length !== mapping.labels.length || !values.every(finite)) {
    throw new UpstreamError('malformed', `the remote worker did not answer ${mapping.labels.length} probabilities`);
  }
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  let expected: number | null = null;
  if (mapping.expected_return) {
    const er = answer.outputs.find((o) => o.name === mapping.expected_return)?.data[0];
    if (!finite(er)) throw new UpstreamError('malformed', 'the remote worker did not answer an expected return');
    expected = er;
  }
  return { direction: mapping.labels[best], confidence: values[best], expected_return: expected };
}
