/**
 * Dynamic batching in the manner of Triton's dynamic batcher: requests for one model version that
 * arrive close together are stacked along the first dimension, run once, and every caller gets back
 * exactly its own rows of every output.
 *
 * Scheduling: a batch is dispatched when the queued rows reach `maxBatchSize`, or when the oldest
 * queued request has waited `maxDelayMs`, provided fewer than `maxConcurrentBatches` batches are
 * running. While every slot is busy, requests keep queueing, so batches grow with load. With
 * `maxDelayMs: 0` nothing is held back on purpose: only requests that queued up while the runners were
 * busy share a batch. With `eagerWhenIdle` (the default) a request that finds no batch running is
 * dispatched at once: nothing is in flight that others could be arriving behind, so waiting would only
 * add the delay to every request of a lightly loaded model; under load batches still fill while runs
 * are in flight.
 *
 * Each request is checked against the model's signature before it is queued, so one malformed request
 * fails on its own instead of failing the batch it would have joined.
 */
import { BatcherClosedError, InferenceError, InvalidInputError, QueueFullError } from './errors';
import {
  checkInputs,
  elementCount,
  type ModelSignature,
  type TensorData,
  type TensorInput,
  type TensorInputs,
  type TensorOutputs,
  type TypedTensorData,
} from './tensors';

/**
 * Runs one (possibly stacked) request. `transferable` is true when the input arrays were built by the
 * batcher and nobody else holds them, so they may be moved rather than copied.
 */
export type BatchRunner = (inputs: TensorInputs, context: { transferable: boolean }) => Promise<TensorOutputs>;

export interface MicroBatcherOptions {
  /** Stack requests (default true). When false every request runs alone; fixed first dimensions are then fine. */
  enabled?: boolean;
  /** Most rows in one batch (default 64). A single request larger than this runs alone. */
  maxBatchSize?: number;
  /** Longest a queued request waits for others before its batch is dispatched, in ms (default 2). */
  maxDelayMs?: number;
  /** Most requests waiting to be dispatched; beyond it submit() rejects with QueueFullError (default 1024). */
  maxQueueSize?: number;
  /** Dispatch at once, without waiting `maxDelayMs`, when no batch is running (default true). */
  eagerWhenIdle?: boolean;
  /**
   * Batches running at once. Default 2 with batching (one per worker of a two-core host; requests queue
   * meanwhile, which is what grows the batches), 8 without (lone requests need several in flight per
   * worker to keep the workers busy across the round trips).
   */
  maxConcurrentBatches?: number;
  /** Called once per dispatched batch, e.g. to feed a batch-size histogram. */
  onBatch?: (batch: BatchInfo) => void;
}

export interface BatchInfo {
  /** Rows in the batch (sum of the requests' first dimensions). */
  rows: number;
  requests: number;
  runMs: number;
  ok: boolean;
}

export interface BatchedResult {
  /** This request's rows of every output. */
  outputs: TensorOutputs;
  /** Time from submit() until the request's batch was dispatched, in ms. */
  queueWaitMs: number;
  /** Time the batch took to run, in ms. */
  runMs: number;
  /** Rows in the batch this request ran in. */
  batchSize: number;
  /** Requests in the batch this request ran in. */
  batchRequests: number;
}

interface Queued {
  inputs: Record<string, Required<TensorInput>>;
  rows: number;
  /** Trailing dimensions of every input; only requests with equal keys can be stacked. */
  shapeKey: string;
  enqueuedAt: number;
  resolve: (result: BatchedResult) => void;
  reject: (error: Error) => void;
}

export class MicroBatcher {
  readonly enabled: boolean;
  readonly maxBatchSize: number;
  readonly maxDelayMs: number;
  readonly maxQueueSize: number;
  readonly maxConcurrentBatches: number;
  readonly eagerWhenIdle: boolean;
  private readonly onBatch?: (batch: BatchInfo) => void;
  private queue: Queued[] = [];
  private queuedRows = 0;
  private running = 0;
  private timer?: NodeJS.Timeout;
  private closing = false;
  private idle?: { promise: Promise<void>; resolve: () => void };

  constructor(
    private readonly signature: ModelSignature,
    private readonly runner: BatchRunner,
    options: MicroBatcherOptions = {},
  ) {
    this.enabled = options.enabled ?? true;
    this.maxBatchSize = positiveInteger('maxBatchSize', options.maxBatchSize ?? 64);
    this.maxQueueSize = positiveInteger('maxQueueSize', options.maxQueueSize ?? 1024);
    this.maxConcurrentBatches = positiveInteger(
      'maxConcurrentBatches',
      options.maxConcurrentBatches ?? (this.enabled ? 2 : 8),
    );
    this.maxDelayMs = options.maxDelayMs ?? 2;
    if (!(this.maxDelayMs >= 0)) throw new RangeError(`maxDelayMs must be >= 0, got ${this.maxDelayMs}`);
    this.eagerWhenIdle = options.eagerWhenIdle ?? true;
    this.onBatch = options.onBatch;
    if (this.enabled && !signature.batchable) {
      throw new RangeError(
        'This model cannot be micro-batched: every input and output needs a dynamic first dimension (disable batching)',
      );
    }
  }

  /**
   * Queues one request (one or more rows along the first dimension). Rejects with InvalidInputError
   * when it does not match the signature, QueueFullError when the queue is full, BatcherClosedError
   * after close().
   */
  submit(inputs: TensorInputs): Promise<BatchedResult> {
    if (this.closing) return Promise.reject(new BatcherClosedError());
    let checked: Record<string, Required<TensorInput>>;
    let rows: number;
    try {
      checked = checkInputs(this.signature, inputs);
      rows = this.enabled ? batchRows(checked) : 1;
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new InvalidInputError(String(error)));
    }
    if (this.queue.length >= this.maxQueueSize) return Promise.reject(new QueueFullError(this.maxQueueSize));
    return new Promise<BatchedResult>((resolve, reject) => {
      const shapeKey = this.enabled ? trailingShapeKey(checked) : '';
      this.queue.push({ inputs: checked, rows, shapeKey, enqueuedAt: performance.now(), resolve, reject });
      this.queuedRows += rows;
      this.pump();
    });
  }

  /**
   * Stops accepting requests, dispatches what is queued without further delay, and resolves once every
   * batch has finished.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.pump();
    if (this.queue.length === 0 && this.running === 0) return;
    if (!this.idle) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.idle = { promise, resolve };
    }
    await this.idle.promise;
  }

  private pump(): void {
    while (this.running < this.maxConcurrentBatches && this.queue.length > 0) {
      const eager = this.eagerWhenIdle && this.running === 0;
      if (this.enabled && !this.closing && !eager && this.queuedRows < this.maxBatchSize) {
        const waitLeft = this.queue[0].enqueuedAt + this.maxDelayMs - performance.now();
        if (waitLeft > 0) {
          this.armTimer(waitLeft);
          return;
        }
      }
      this.dispatch(this.takeBatch());
    }
    if (this.queue.length === 0) this.disarmTimer();
    if (this.idle && this.queue.length === 0 && this.running === 0) this.idle.resolve();
  }

  private armTimer(delayMs: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.ceil(delayMs));
  }

  private disarmTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Takes requests from the head of the queue: same trailing shapes, at most maxBatchSize rows. */
  private takeBatch(): Queued[] {
    if (!this.enabled) {
      const single = this.queue.shift()!;
      this.queuedRows -= single.rows;
      return [single];
    }
    const head = this.queue[0];
    const batch: Queued[] = [head];
    let rows = head.rows;
    const rest: Queued[] = [];
    let i = 1;
    for (; i < this.queue.length && rows < this.maxBatchSize; i++) {
      const candidate = this.queue[i];
      if (candidate.shapeKey === head.shapeKey && rows + candidate.rows <= this.maxBatchSize) {
        batch.push(candidate);
        rows += candidate.rows;
      } else {
        rest.push(candidate);
      }
    }
    this.queue = i >= this.queue.length ? rest : rest.concat(this.queue.slice(i));
    this.queuedRows -= rows;
    return batch;
  }

  private dispatch(batch: Queued[]): void {
    this.running++;
    const dispatchedAt = performance.now();
    const rows = batch.reduce((sum, q) => sum + q.rows, 0);
    const single = batch.length === 1;
    const inputs = single ? batch[0].inputs : stackInputs(batch, this.signature);
    const settle = (ok: boolean) => {
      const runMs = performance.now() - dispatchedAt;
      this.running--;
      try {
        this.onBatch?.({ rows, requests: batch.length, runMs, ok });
      } catch {
        // An observer's failure must not fail the requests.
      }
      return runMs;
    };
    this.runner(inputs, { transferable: !single })
      .then((outputs) => {
        const parts = single ? [outputs] : splitOutputs(outputs, batch, rows);
        const runMs = settle(true);
        batch.forEach((q, k) =>
          q.resolve({
            outputs: parts[k],
            queueWaitMs: dispatchedAt - q.enqueuedAt,
            runMs,
            batchSize: rows,
            batchRequests: batch.length,
          }),
        );
      })
      .catch((error: unknown) => {
        settle(false);
        const failure = error instanceof Error ? error : new InferenceError(String(error));
        for (const q of batch) q.reject(failure);
      })
      .finally(() => this.pump());
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/** Rows of a request: the first dimension, which every input must agree on. */
function batchRows(inputs: Record<string, Required<TensorInput>>): number {
  let rows: number | undefined;
  for (const [name, input] of Object.entries(inputs)) {
    if (input.dims.length === 0)
      throw new InvalidInputError(`Input "${name}" is a scalar; batching needs a first dimension`);
    if (rows === undefined) rows = input.dims[0];
    else if (input.dims[0] !== rows) {
      throw new InvalidInputError(
        `Inputs disagree on the batch dimension: "${name}" has ${input.dims[0]} rows, others ${rows}`,
      );
    }
  }
  if (!rows) throw new InvalidInputError('A request needs at least one row');
  return rows;
}

function trailingShapeKey(inputs: Record<string, Required<TensorInput>>): string {
  return Object.values(inputs)
    .map((input) => input.dims.slice(1).join('x'))
    .join('|');
}

function stackInputs(batch: Queued[], signature: ModelSignature): TensorInputs {
  const stacked: TensorInputs = {};
  for (const spec of signature.inputs) {
    const parts = batch.map((q) => q.inputs[spec.name]);
    const first = parts[0];
    const rows = parts.reduce((sum, p) => sum + p.dims[0], 0);
    stacked[spec.name] = {
      data: concat(parts.map((p) => p.data)),
      dims: [rows, ...first.dims.slice(1)],
      type: first.type,
    };
  }
  return stacked;
}

function concat(parts: TensorData[]): TensorData {
  const first = parts[0];
  if (Array.isArray(first)) return ([] as string[]).concat(...(parts as string[][]));
  const total = parts.reduce((sum, p) => sum + p.length, 0);
  const Ctor = first.constructor as new (length: number) => TypedTensorData;
  const out = new Ctor(total);
  let offset = 0;
  for (const part of parts as TypedTensorData[]) {
    (out as { set(array: ArrayLike<number | bigint>, offset: number): void }).set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Splits every output along its first dimension, in the order the requests were stacked. */
function splitOutputs(outputs: TensorOutputs, batch: Queued[], rows: number): TensorOutputs[] {
  const parts: TensorOutputs[] = batch.map(() => ({}));
  for (const [name, output] of Object.entries(outputs)) {
    if (output.dims.length === 0 || output.dims[0] !== rows) {
      throw new InferenceError(
        `Output "${name}" has dims [${output.dims.join(', ')}], not ${rows} rows; it cannot be split between requests`,
      );
    }
    const rowSize = elementCount(output.dims.slice(1));
    let row = 0;
    batch.forEach((q, k) => {
      parts[k][name] = {
        data: output.data.slice(row * rowSize, (row + q.rows) * rowSize),
        dims: [q.rows, ...output.dims.slice(1)],
        type: output.type,
      };
      row += q.rows;
    });
  }
  return parts;
}
