import { AppError } from '../../common/errors/app-error';
import {
  BatcherClosedError,
  InferenceError,
  InferenceHostClosedError,
  InferenceTimeoutError,
  InvalidInputError,
  ModelNotLoadedError,
  QueueFullError,
  WorkerCrashedError,
} from '../inference';

/** The answer to give for a failure of the inference layer (other errors pass through). */
export function inferenceFailure(error: unknown): unknown {
  if (error instanceof AppError) return error;
  if (error instanceof InvalidInputError) return new AppError('validation_failed', error.message);
  if (error instanceof QueueFullError) {
    return new AppError('service_unavailable', 'The model is saturated (its queue is full); retry shortly', {
      headers: { 'Retry-After': '1' },
      cause: error,
    });
  }
  if (
    error instanceof ModelNotLoadedError ||
    error instanceof WorkerCrashedError ||
    error instanceof InferenceHostClosedError ||
    error instanceof BatcherClosedError ||
    error instanceof InferenceTimeoutError
  ) {
    return new AppError('service_unavailable', 'The model could not answer; retry shortly', {
      headers: { 'Retry-After': '1' },
      cause: error,
    });
  }
  if (error instanceof InferenceError)
    return new AppError('internal_error', 'The model failed to run', { cause: error });
  return error;
}
