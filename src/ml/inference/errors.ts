/**
 * Typed failures of the inference layer. Each carries a stable `code` so a caller can map it to a
 * response (for instance model_not_loaded → 404, queue_full → 503) without parsing messages.
 */
export type InferenceErrorCode =
  | 'model_load_failed'
  | 'model_not_loaded'
  | 'model_already_loaded'
  | 'invalid_input'
  | 'inference_failed'
  | 'inference_timeout'
  | 'worker_crashed'
  | 'host_closed'
  | 'queue_full'
  | 'batcher_closed';

export abstract class InferenceLayerError extends Error {
  abstract readonly code: InferenceErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The file is missing, is not a valid ONNX model, or the runtime rejected it. Nothing stays loaded. */
export class ModelLoadError extends InferenceLayerError {
  readonly code = 'model_load_failed';

  constructor(
    readonly key: string,
    readonly modelPath: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`Failed to load model "${key}" from ${modelPath}: ${reason}`, options);
  }
}

export class ModelNotLoadedError extends InferenceLayerError {
  readonly code = 'model_not_loaded';

  constructor(
    readonly key: string,
    detail = 'it is not loaded',
  ) {
    super(`Model "${key}" is not available: ${detail}`);
  }
}

export class ModelAlreadyLoadedError extends InferenceLayerError {
  readonly code = 'model_already_loaded';

  constructor(readonly key: string) {
    super(`Model "${key}" is already loaded (or loading); unload it first or load under a new key`);
  }
}

/** Inputs that do not match the model's signature (names, element type, rank, fixed dimensions, data length). */
export class InvalidInputError extends InferenceLayerError {
  readonly code = 'invalid_input';
}

/** The runtime failed while running a valid-looking request. */
export class InferenceError extends InferenceLayerError {
  readonly code = 'inference_failed';
}

/** A run exceeded the host's run timeout; the worker running it was replaced. */
export class InferenceTimeoutError extends InferenceLayerError {
  readonly code = 'inference_timeout';

  constructor(
    readonly key: string,
    readonly timeoutMs: number,
  ) {
    super(`Model "${key}" did not answer within ${timeoutMs} ms; its worker was restarted`);
  }
}

/** The worker thread handling the call died (or was terminated) before answering. */
export class WorkerCrashedError extends InferenceLayerError {
  readonly code = 'worker_crashed';
}

export class InferenceHostClosedError extends InferenceLayerError {
  readonly code = 'host_closed';

  constructor() {
    super('The inference host is closed');
  }
}

/** The batcher's queue holds its maximum number of waiting requests. */
export class QueueFullError extends InferenceLayerError {
  readonly code = 'queue_full';

  constructor(readonly limit: number) {
    super(`The inference queue is full (${limit} requests waiting); retry shortly`);
  }
}

export class BatcherClosedError extends InferenceLayerError {
  readonly code = 'batcher_closed';

  constructor() {
    super('The batcher is closed and accepts no new requests');
  }
}
