import CircuitBreaker from 'opossum';
import { Pool } from 'undici';
import type { MlRemoteWorkerSetting } from '../../config/app-config';
import type { BreakerState } from '../ml.metrics';
import { DIRECTIONS, type InputSignature, type OutputMapping } from '../registry/registry.types';
import type { V2OutputTensor } from '../v2/v2-tensors';

/** Why a remote call gave no usable answer (a metrics label and the fallback reason). */
export type RemoteFailureKind = 'breaker_open' | 'timeout' | 'network' | 'http_5xx' | 'http_4xx' | 'malformed';

export class RemoteModelError extends Error {
  constructor(
    readonly kind: RemoteFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'RemoteModelError';
  }
}

export interface RemoteRow {
  direction: string;
  confidence: number;
  expected_return: number | null;
}

export interface RemoteV2Answer {
  model_version?: string;
  outputs: V2OutputTensor[];
}

const BODY_LIMIT = 16 * 1024 * 1024;

type Job = (signal: AbortSignal) => Promise<unknown>;

/**
 * One model version served by a remote HTTP worker (a GPU box speaking the V2 protocol or the /predict
 * contract), behind its own opossum breaker. Each call has a deadline (the request is aborted when it
 * passes); failures, timeouts and malformed answers count against the worker, its refusals of a request
 * (4xx) do not. While the breaker is open calls fail at once and the caller serves the fallback.
 */
export class RemoteWorker {
  readonly id: string;
  private readonly url: URL;
  private readonly pool: Pool;
  private readonly breaker: CircuitBreaker<[Job, AbortSignal | undefined], unknown>;

  constructor(
    readonly setting: MlRemoteWorkerSetting,
    private readonly token: string | undefined,
    onState: (state: BreakerState) => void,
  ) {
    this.id = `${setting.model}@${setting.version}`;
    this.url = new URL(setting.url);
    this.pool = new Pool(this.url.origin, { connect: { timeout: setting.timeout_ms }, keepAliveTimeout: 10_000 });
    this.breaker = new CircuitBreaker((job: Job, signal: AbortSignal | undefined) => this.guard(job, signal), {
      name: `ml-remote-${this.id}`,
      timeout: false,
      errorThresholdPercentage: setting.breaker.error_threshold_percentage,
      volumeThreshold: setting.breaker.volume_threshold,
      resetTimeout: setting.breaker.reset_timeout_ms,
      rollingCountTimeout: setting.breaker.rolling_window_ms,
      errorFilter: (error: unknown) => error instanceof RemoteModelError && error.kind === 'http_4xx',
    });
    this.breaker.on('open', () => onState('open'));
    this.breaker.on('halfOpen', () => onState('half_open'));
    this.breaker.on('close', () => onState('closed'));
    onState('closed');
  }

  get state(): BreakerState {
    if (this.breaker.opened) return 'open';
    if (this.breaker.halfOpen) return 'half_open';
    return 'closed';
  }

  /** One row through the worker, answered as a /predict prediction. */
  async predictRow(
    row: { symbol: string | undefined; features: number[]; input: InputSignature; mapping: OutputMapping },
    signal?: AbortSignal,
  ): Promise<RemoteRow> {
    if (this.setting.protocol === 'predict') {
      const body = { symbol: row.symbol, features: row.features };
      return this.fire((s) => this.post('/predict', body, s).then(parsePredictAnswer), signal);
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
    return this.fire(
      (s) => this.post(this.inferPath(), body, s).then((text) => rowFromV2(parseV2Answer(text), row.mapping)),
      signal,
    );
  }

  /** Forwards a V2 inference request (the worker must speak V2). */
  async inferV2(body: Record<string, unknown>, signal?: AbortSignal): Promise<RemoteV2Answer> {
    if (this.setting.protocol !== 'v2') throw new RemoteModelError('http_4xx', 'the remote worker does not speak V2');
    return this.fire((s) => this.post(this.inferPath(), body, s).then(parseV2Answer), signal);
  }

  async close(): Promise<void> {
    this.breaker.shutdown();
    await this.pool.close();
  }

  private inferPath(): string {
    return `/v2/models/${encodeURIComponent(this.setting.remote_model)}/infer`;
  }

  private async fire<T>(job: (signal: AbortSignal) => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    try {
      return (await this.breaker.fire(job, signal)) as T;
    } catch (error) {
      if (error instanceof RemoteModelError) throw error;
      if (this.breaker.opened || (error as { code?: string }).code === 'EOPENBREAKER') {
        throw new RemoteModelError('breaker_open', 'the remote worker circuit breaker is open');
      }
      throw new RemoteModelError('network', 'the remote worker call failed');
    }
  }

  /** Runs a job with the worker's deadline and maps transport failures. */
  private async guard(job: Job, signal: AbortSignal | undefined): Promise<unknown> {
    const deadline = AbortSignal.timeout(this.setting.timeout_ms);
    const combined = signal ? AbortSignal.any([signal, deadline]) : deadline;
    try {
      return await job(combined);
    } catch (error) {
      if (error instanceof RemoteModelError) throw error;
      if (deadline.aborted) {
        throw new RemoteModelError('timeout', `the remote worker did not answer within ${this.setting.timeout_ms} ms`);
      }
      if (signal?.aborted) throw new RemoteModelError('http_4xx', 'the caller went away');
      throw new RemoteModelError('network', `the remote worker is unreachable (${(error as Error).name})`);
    }
  }

  private async post(path: string, body: unknown, signal: AbortSignal): Promise<string> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const res = await this.pool.request({
      method: 'POST',
      path: `${this.url.pathname.replace(/\/+$/, '')}${path}`,
      headers,
      body: JSON.stringify(body),
      signal,
    });
    const text = await readLimited(res.body, BODY_LIMIT);
    if (res.statusCode >= 500 || res.statusCode === 429) {
      throw new RemoteModelError('http_5xx', `the remote worker answered ${res.statusCode}`);
    }
    if (res.statusCode >= 400) {
      throw new RemoteModelError('http_4xx', `the remote worker refused the request (${res.statusCode})`);
    }
    return text;
  }
}

async function readLimited(body: AsyncIterable<Buffer>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) throw new RemoteModelError('malformed', 'the remote worker answer is too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new RemoteModelError('malformed', 'the remote worker answered something that is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RemoteModelError('malformed', 'the remote worker answer is not a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function finite(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function parsePredictAnswer(text: string): RemoteRow {
  const prediction = parseJson(text).prediction as Record<string, unknown> | undefined;
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
    throw new RemoteModelError(
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
  const answer = parseJson(text);
  const outputs = answer.outputs;
  if (!Array.isArray(outputs) || outputs.length === 0)
    throw new RemoteModelError('malformed', 'the remote worker answered no outputs');
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
      throw new RemoteModelError('malformed', 'the remote worker answered a malformed output tensor');
    }
    const flat = (data as unknown[]).flat(Infinity);
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    if (flat.length !== size)
      throw new RemoteModelError('malformed', `output "${t.name}" does not hold ${size} values`);
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
    throw new RemoteModelError('malformed', `the remote worker did not answer ${mapping.labels.length} probabilities`);
  }
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  let expected: number | null = null;
  if (mapping.expected_return) {
    const er = answer.outputs.find((o) => o.name === mapping.expected_return)?.data[0];
    if (!finite(er)) throw new RemoteModelError('malformed', 'the remote worker did not answer an expected return');
    expected = er;
  }
  return { direction: mapping.labels[best], confidence: values[best], expected_return: expected };
}
