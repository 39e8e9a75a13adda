/**
 * Worker-thread side of InferenceHost: owns the onnxruntime sessions loaded on this thread and handles
 * one request at a time, in arrival order (a load or unload never overtakes an earlier run). Both
 * session creation and session.run block this thread, not the main event loop.
 */
import { parentPort, type MessagePort } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { LoadReply, SessionSettings, WorkerErrorKind, WorkerMessage, WorkerRequest } from './protocol';
import { buildSignature } from './signature';
import { transferList, type TensorOutputs, type TensorType } from './tensors';

function requirePort(): MessagePort {
  if (!parentPort) throw new Error('inference.worker must run in a worker thread');
  return parentPort;
}
const port = requirePort();

ort.env.logLevel = 'error';

const sessions = new Map<string, ort.InferenceSession>();

class WorkerFailure extends Error {
  constructor(
    readonly kind: WorkerErrorKind,
    message: string,
  ) {
    super(message);
  }
}

function sessionOptions(settings: SessionSettings): ort.InferenceSession.SessionOptions {
  const interOp = settings.interOpThreads ?? 1;
  return {
    intraOpNumThreads: settings.intraOpThreads ?? 1,
    interOpNumThreads: interOp,
    executionMode: interOp > 1 ? 'parallel' : 'sequential',
    graphOptimizationLevel: settings.graphOptimizationLevel ?? 'all',
    logSeverityLevel: 3,
  };
}

async function load(key: string, path: string, settings: SessionSettings): Promise<LoadReply> {
  if (sessions.has(key)) throw new WorkerFailure('failed', `"${key}" is already loaded on this worker`);
  const started = performance.now();
  const session = await ort.InferenceSession.create(path, sessionOptions(settings));
  try {
    const signature = buildSignature(session.inputMetadata, session.outputMetadata);
    sessions.set(key, session);
    return { signature, loadMs: performance.now() - started };
  } catch (error) {
    await session.release();
    throw error;
  }
}

async function unload(key: string): Promise<null> {
  const session = sessions.get(key);
  sessions.delete(key);
  await session?.release();
  return null;
}

async function run(key: string, feeds: Extract<WorkerRequest, { op: 'run' }>['feeds']): Promise<TensorOutputs> {
  const session = sessions.get(key);
  if (!session) throw new WorkerFailure('not_loaded', `"${key}" is not loaded on this worker`);
  const tensors: Record<string, ort.Tensor> = {};
  for (const [name, input] of Object.entries(feeds)) {
    tensors[name] = new ort.Tensor(input.type, input.data, input.dims);
  }
  const result = await session.run(tensors);
  const outputs: TensorOutputs = {};
  for (const name of session.outputNames) {
    const value = result[name];
    if (!(value instanceof ort.Tensor)) throw new WorkerFailure('failed', `Output "${name}" is not a tensor`);
    outputs[name] = {
      data: value.data,
      dims: [...value.dims],
      type: value.type as TensorType,
    };
  }
  return outputs;
}

function reply(message: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  try {
    port.postMessage(message, transfer);
  } catch {
    port.postMessage(message);
  }
}

async function handle(request: Exclude<WorkerRequest, { op: 'exit' }>): Promise<void> {
  try {
    switch (request.op) {
      case 'load':
        reply({
          op: 'reply',
          id: request.id,
          ok: true,
          value: await load(request.key, request.path, request.settings),
        });
        return;
      case 'unload':
        reply({ op: 'reply', id: request.id, ok: true, value: await unload(request.key) });
        return;
      case 'run': {
        const outputs = await run(request.key, request.feeds);
        // Output buffers are moved to the main thread, not copied.
        reply({ op: 'reply', id: request.id, ok: true, value: outputs }, transferList(outputs));
        return;
      }
    }
  } catch (error) {
    const kind = error instanceof WorkerFailure ? error.kind : 'failed';
    const message = error instanceof Error ? error.message : String(error);
    reply({ op: 'reply', id: request.id, ok: false, kind, message });
  }
}

/**
 * Ends the thread from inside, between two calls. Terminating a worker from outside while it is inside
 * onnxruntime aborts the whole process (the binding throws a C++ exception into a dying environment),
 * so the host always asks instead.
 */
async function shutdown(): Promise<void> {
  for (const session of sessions.values()) await session.release().catch(() => undefined);
  sessions.clear();
  process.exit(0);
}

let stopping = false;
let queue: Promise<void> = Promise.resolve();
port.on('message', (request: WorkerRequest) => {
  if (request.op === 'exit') {
    stopping = true;
    queue = queue.then(shutdown);
    return;
  }
  queue = queue.then(() => (stopping ? undefined : handle(request)));
});
reply({ op: 'ready' });
