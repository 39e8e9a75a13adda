/** Messages between InferenceHost and its worker threads. */
import type { ModelSignature, TensorInput, TensorOutputs } from './tensors';

export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface SessionSettings {
  /** Threads one run may use inside the operator kernels (default 1: parallelism comes from the workers). */
  intraOpThreads?: number;
  /** Threads for running independent graph branches concurrently (default 1: sequential execution). */
  interOpThreads?: number;
  /** Default 'all'. */
  graphOptimizationLevel?: GraphOptimizationLevel;
}

export type WorkerRequest =
  | { op: 'load'; id: number; key: string; path: string; settings: SessionSettings }
  | { op: 'unload'; id: number; key: string }
  | { op: 'run'; id: number; key: string; feeds: Record<string, Required<TensorInput>> }
  /** Skip everything still queued, release the sessions and end the thread once the current call returns. */
  | { op: 'exit' };

export interface LoadReply {
  signature: ModelSignature;
  loadMs: number;
}

export type WorkerErrorKind = 'not_loaded' | 'failed';

export type WorkerMessage =
  | { op: 'ready' }
  | { op: 'reply'; id: number; ok: true; value: LoadReply | TensorOutputs | null }
  | { op: 'reply'; id: number; ok: false; kind: WorkerErrorKind; message: string };
