/**
 * Runs onnxruntime sessions on worker threads, so loading a model and running it never block the main
 * event loop (health probes and other requests stay responsive).
 *
 * Placement: a model is loaded on `replicas` workers (default: every worker) and each run goes to the
 * replica with the fewest calls in flight, preferring workers that are not busy loading another model.
 * Replicas are loaded one worker after another, so while a new model version loads, the other workers
 * keep serving what is already loaded. A session belongs to the thread that created it, so the host
 * keeps its own record of which worker holds which model.
 *
 * Failures: a worker that dies (uncaught error, exit) or is abandoned after a run timeout rejects the
 * calls it had in flight with WorkerCrashedError and is replaced by a fresh worker that reloads its
 * models; runs meanwhile go to other replicas, or wait for the reload. A worker that keeps dying (more
 * than MAX_RESTARTS times in RESTART_WINDOW_MS) or dies before it is ready is retired until the next load.
 *
 * Workers are never terminated from outside: terminating a thread while it is inside onnxruntime aborts
 * the whole process (the binding throws a C++ exception into the dying environment). A worker is asked
 * to exit instead and does so as soon as its current call returns; an abandoned worker finishes its
 * stuck run in the background first. For the same reason a crash inside native code (a segfault in the
 * runtime) takes the process down; isolation from that needs separate processes (the remote workers).
 *
 * Workers start with the first load and keep the process alive until close().
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { compiledScript } from '../../common/compiled-script';
import { inSpan } from '../../common/tracing/tracing';
import { Worker } from 'node:worker_threads';
import {
  InferenceError,
  InferenceHostClosedError,
  InferenceLayerError,
  InferenceTimeoutError,
  InvalidInputError,
  ModelAlreadyLoadedError,
  ModelLoadError,
  ModelNotLoadedError,
  WorkerCrashedError,
} from './errors';
import type {
  GraphOptimizationLevel,
  LoadReply,
  SessionSettings,
  WorkerErrorKind,
  WorkerMessage,
  WorkerRequest,
} from './protocol';
import { checkInputs, transferList, type ModelSignature, type TensorInputs, type TensorOutputs } from './tensors';

export type { GraphOptimizationLevel, SessionSettings } from './protocol';

const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
/** Added to a worker's load score while it is creating a session (which blocks it for the duration). */
const LOADING_PENALTY = 1_000;
const GRAPH_LEVELS: readonly GraphOptimizationLevel[] = ['disabled', 'basic', 'extended', 'all'];

/**
 * The compiled worker script: next to this file in a build; when running from TypeScript sources
 * (ts-jest), the build's copy under dist/.
 */
export function defaultWorkerScript(): string {
  return compiledScript(__dirname, 'inference.worker.js');
}

export interface InferenceHostOptions {
  /** Worker threads (default: the number of CPUs the process may use, at most 4). */
  threads?: number;
  /** Path of the compiled worker script (default: defaultWorkerScript()). */
  workerScript?: string;
  /**
   * A run not answered within this many ms (counted from dispatch, so including time queued on the
   * worker) is rejected with InferenceTimeoutError, and its worker is abandoned (it exits once the run
   * returns) and replaced, so later calls do not queue behind it. 0 (default) disables the limit.
   */
  runTimeoutMs?: number;
  /** Worker exits and dropped replicas, for logs and metrics. */
  onEvent?: (event: InferenceHostEvent) => void;
}

export type InferenceHostEvent =
  | { type: 'worker-exit'; worker: number; reason: string; restarting: boolean }
  | { type: 'replica-dropped'; key: string; worker: number; reason: string; remainingReplicas: number };

export interface LoadOptions extends SessionSettings {
  /** Workers that hold a session of this model (default: all). More replicas: more throughput, more memory. */
  replicas?: number;
}

export interface RunOptions {
  /** Move the input buffers to the worker instead of copying them; the caller's arrays become unusable. */
  transfer?: boolean;
  /** Overrides the host's runTimeoutMs for this call (0: no limit). */
  timeoutMs?: number;
}

export interface InferenceHostStats {
  threads: number;
  workers: { index: number; running: boolean; inFlight: number; models: string[]; restarts: number }[];
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer?: NodeJS.Timeout;
}

interface ModelEntry {
  key: string;
  /** Name of this load's session on the workers; unique per load, so a stale unload never hits a newer load. */
  sessionId: string;
  path: string;
  settings: SessionSettings;
  state: 'loading' | 'ready';
  slots: Set<Slot>;
  signature?: ModelSignature;
  loaded?: Promise<ModelSignature>;
}

interface SlotModel {
  entry: ModelEntry;
  ready: boolean;
  /** Settles (never rejects) when a reload finishes, successfully or not. */
  settled: Promise<void>;
}

class Slot {
  worker?: Worker;
  ready = false;
  generation = 0;
  loads = 0;
  restarts = 0;
  recentExits: number[] = [];
  readonly pending = new Map<number, Pending>();
  readonly models = new Map<string, SlotModel>();

  constructor(readonly index: number) {}
}

/** An error reply from a worker; mapped to a public error by the method that made the call. */
class WorkerReplyError extends Error {
  constructor(
    readonly kind: WorkerErrorKind,
    message: string,
  ) {
    super(message);
  }
}

type Outgoing = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

const SETTLED = Promise.resolve();

export class InferenceHost {
  readonly threads: number;
  private readonly workerScript: string;
  private readonly runTimeoutMs: number;
  private readonly onEvent?: (event: InferenceHostEvent) => void;
  private readonly slots: Slot[];
  private readonly models = new Map<string, ModelEntry>();
  /** Every worker thread not yet exited (current and abandoned ones), with its exit. */
  private readonly exits = new Map<Worker, Promise<void>>();
  private nextId = 0;
  private nextSession = 0;
  private closed = false;

  constructor(options: InferenceHostOptions = {}) {
    const threads = options.threads ?? Math.min(4, Math.max(1, availableParallelism()));
    if (!Number.isInteger(threads) || threads < 1)
      throw new RangeError(`threads must be a positive integer, got ${threads}`);
    const timeout = options.runTimeoutMs ?? 0;
    if (!(timeout >= 0)) throw new RangeError(`runTimeoutMs must be >= 0, got ${timeout}`);
    this.threads = threads;
    this.workerScript = options.workerScript ?? defaultWorkerScript();
    this.runTimeoutMs = timeout;
    this.onEvent = options.onEvent;
    this.slots = Array.from({ length: threads }, (_, i) => new Slot(i));
  }

  /**
   * Loads a model under `key` (one key per model version) and resolves with its signature once every
   * replica is ready. Rejects with ModelLoadError (and leaves nothing loaded) when the file is missing or
   * is not a model the runtime accepts; with ModelAlreadyLoadedError when the key is taken.
   */
  async load(key: string, modelPath: string, options: LoadOptions = {}): Promise<ModelSignature> {
    if (this.closed) throw new InferenceHostClosedError();
    if (this.models.has(key)) throw new ModelAlreadyLoadedError(key);
    const settings = sessionSettings(options);
    const replicas = options.replicas;
    if (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 1)) {
      throw new RangeError(`replicas must be a positive integer, got ${replicas}`);
    }
    const entry: ModelEntry = {
      key,
      sessionId: `${key}#${++this.nextSession}`,
      path: modelPath,
      settings,
      state: 'loading',
      slots: new Set(),
    };
    this.models.set(key, entry);
    entry.loaded = this.loadReplicas(entry, replicas);
    return entry.loaded;
  }

  /** Unloads a model; runs already dispatched finish first. Resolves false when the key was not loaded. */
  async unload(key: string): Promise<boolean> {
    const entry = this.models.get(key);
    if (!entry) return false;
    if (entry.state === 'loading') {
      await entry.loaded?.catch(() => undefined);
      if (this.models.get(key) !== entry) return false;
    }
    this.models.delete(key);
    await this.release(entry);
    return true;
  }

  /**
   * Runs a model once. Inputs are checked against the signature first (InvalidInputError); outputs come
   * back by name with their element type and dimensions.
   */
  async run(key: string, inputs: TensorInputs, options: RunOptions = {}): Promise<TensorOutputs> {
    if (this.closed) throw new InferenceHostClosedError();
    const entry = this.models.get(key);
    if (!entry) throw new ModelNotLoadedError(key);
    if (entry.state !== 'ready' || !entry.signature) throw new ModelNotLoadedError(key, 'it is still loading');
    const feeds = checkInputs(entry.signature, inputs);
    const slot = this.pickSlot(entry) ?? (await this.waitForSlot(entry));
    const transfer = options.transfer ? transferList(feeds) : [];
    const timeoutMs = options.timeoutMs ?? this.runTimeoutMs;
    const timeout = timeoutMs > 0 ? { ms: timeoutMs, key } : undefined;
    try {
      // With tracing on, a span around the run on the worker thread (named by the model, never its inputs).
      return await inSpan(`inference ${key}`, { 'conflux.model': key, 'conflux.worker': slot.index }, () =>
        this.call<TensorOutputs>(slot, { op: 'run', key: entry.sessionId, feeds }, transfer, timeout),
      );
    } catch (error) {
      throw runFailure(key, error);
    }
  }

  signature(key: string): ModelSignature | undefined {
    const entry = this.models.get(key);
    return entry?.state === 'ready' ? entry.signature : undefined;
  }

  /** Keys of the models ready to run. */
  loadedModels(): string[] {
    return [...this.models.values()].filter((e) => e.state === 'ready').map((e) => e.key);
  }

  stats(): InferenceHostStats {
    return {
      threads: this.threads,
      workers: this.slots.map((slot) => ({
        index: slot.index,
        running: slot.worker !== undefined,
        inFlight: slot.pending.size,
        models: [...slot.models.values()].filter((m) => m.ready).map((m) => m.entry.key),
        restarts: slot.restarts,
      })),
    };
  }

  /**
   * Rejects every call in flight with InferenceHostClosedError and stops the workers. Resolves when
   * every thread has exited, which is after the calls they are executing return.
   */
  async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      const error = new InferenceHostClosedError();
      for (const slot of this.slots) {
        slot.generation++;
        const worker = slot.worker;
        slot.worker = undefined;
        this.rejectPending(slot, error);
        slot.models.clear();
        if (worker) this.stopWorker(worker);
      }
      this.models.clear();
    }
    await Promise.all(this.exits.values());
  }

  private async loadReplicas(entry: ModelEntry, replicas: number | undefined): Promise<ModelSignature> {
    try {
      let signature: ModelSignature | undefined;
      for (const slot of this.placement(replicas)) {
        const reply = await this.loadOn(slot, entry);
        if (this.closed) throw new InferenceHostClosedError();
        slot.models.set(entry.sessionId, { entry, ready: true, settled: SETTLED });
        entry.slots.add(slot);
        signature ??= reply.signature;
      }
      if (!signature || entry.slots.size === 0) throw new WorkerCrashedError('every worker holding it was lost');
      entry.signature = signature;
      entry.state = 'ready';
      return signature;
    } catch (error) {
      if (this.models.get(entry.key) === entry) this.models.delete(entry.key);
      await this.release(entry);
      if (error instanceof ModelLoadError || error instanceof InferenceHostClosedError) throw error;
      throw new ModelLoadError(entry.key, entry.path, error instanceof Error ? error.message : String(error), {
        cause: error,
      });
    }
  }

  private async loadOn(slot: Slot, entry: ModelEntry): Promise<LoadReply> {
    slot.loads++;
    try {
      return await this.call<LoadReply>(slot, {
        op: 'load',
        key: entry.sessionId,
        path: entry.path,
        settings: entry.settings,
      });
    } finally {
      slot.loads--;
    }
  }

  /** Drops a load's sessions from every worker that holds (or is reloading) it. */
  private async release(entry: ModelEntry): Promise<void> {
    const unloads: Promise<unknown>[] = [];
    for (const slot of this.slots) {
      if (!slot.models.delete(entry.sessionId) && !entry.slots.has(slot)) continue;
      if (slot.worker) unloads.push(this.call(slot, { op: 'unload', key: entry.sessionId }));
    }
    entry.slots.clear();
    await Promise.allSettled(unloads);
  }

  /** The workers a new model goes to: those holding the fewest models first. */
  private placement(replicas: number | undefined): Slot[] {
    if (!existsSync(this.workerScript)) {
      throw new Error(`the inference worker script ${this.workerScript} does not exist (build the project first)`);
    }
    for (const slot of this.slots) {
      if (!slot.worker) {
        slot.recentExits = [];
        this.spawn(slot);
      }
    }
    const ordered = [...this.slots].sort((a, b) => a.models.size - b.models.size || a.index - b.index);
    return ordered.slice(0, Math.min(replicas ?? ordered.length, ordered.length));
  }

  /**
   * The ready replica with the least work in flight; undefined when none is ready. Ties go to the
   * lowest-numbered worker, so at low load one thread stays warm instead of waking a sleeping one.
   */
  private pickSlot(entry: ModelEntry): Slot | undefined {
    let best: Slot | undefined;
    let bestScore = Infinity;
    for (const slot of this.slots) {
      if (!entry.slots.has(slot) || !slot.worker || !slot.models.get(entry.sessionId)?.ready) continue;
      const score = slot.pending.size + (slot.loads > 0 ? LOADING_PENALTY : 0);
      if (score < bestScore) {
        best = slot;
        bestScore = score;
      }
    }
    return best;
  }

  /** Waits for a replica that is reloading after a worker crash. */
  private async waitForSlot(entry: ModelEntry): Promise<Slot> {
    for (;;) {
      if (this.closed) throw new InferenceHostClosedError();
      if (this.models.get(entry.key) !== entry) throw new ModelNotLoadedError(entry.key, 'it was unloaded');
      const slot = this.pickSlot(entry);
      if (slot) return slot;
      const reloads = [...entry.slots].flatMap((s) => {
        const model = s.models.get(entry.sessionId);
        return model && !model.ready ? [model.settled] : [];
      });
      if (reloads.length === 0) throw new ModelNotLoadedError(entry.key, 'no worker holds it');
      await Promise.race(reloads);
    }
  }

  private call<T>(
    slot: Slot,
    request: Outgoing,
    transfer: ArrayBuffer[] = [],
    timeout?: { ms: number; key: string },
  ): Promise<T> {
    const worker = slot.worker;
    if (!worker) return Promise.reject(new WorkerCrashedError(`Inference worker ${slot.index} is not running`));
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { resolve: resolve as (value: unknown) => void, reject };
      if (timeout) pending.timer = setTimeout(() => this.onTimeout(slot, id, timeout), timeout.ms);
      slot.pending.set(id, pending);
      try {
        worker.postMessage({ ...request, id }, transfer);
      } catch (error) {
        this.settle(slot, id);
        const reason = error instanceof Error ? error.message : String(error);
        reject(new InvalidInputError(`The request cannot be sent to an inference worker: ${reason}`));
      }
    });
  }

  private settle(slot: Slot, id: number): Pending | undefined {
    const pending = slot.pending.get(id);
    if (!pending) return undefined;
    slot.pending.delete(id);
    clearTimeout(pending.timer);
    return pending;
  }

  private rejectPending(slot: Slot, error: Error): void {
    const pending = [...slot.pending.values()];
    slot.pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(error);
    }
  }

  private spawn(slot: Slot): void {
    const generation = ++slot.generation;
    const worker = new Worker(this.workerScript);
    slot.worker = worker;
    slot.ready = false;
    this.exits.set(
      worker,
      new Promise<void>((resolve) =>
        worker.once('exit', () => {
          this.exits.delete(worker);
          resolve();
        }),
      ),
    );
    const current = () => slot.generation === generation;
    worker.on('message', (message: WorkerMessage) => {
      if (current()) this.onMessage(slot, message);
    });
    worker.on('error', (error) => {
      if (current()) this.onWorkerGone(slot, `failed: ${error.message}`, { cause: error });
    });
    worker.on('messageerror', (error) => {
      if (current()) {
        this.onWorkerGone(slot, `sent an unreadable message: ${error.message}`, { cause: error, running: true });
      }
    });
    worker.on('exit', (code) => {
      if (current()) this.onWorkerGone(slot, `exited with code ${code}`);
    });
  }

  /** Asks a worker to exit after its current call; see the class comment for why it is never terminated. */
  private stopWorker(worker: Worker): void {
    try {
      worker.postMessage({ op: 'exit' } satisfies WorkerRequest);
    } catch {
      // The thread is already gone.
    }
  }

  private onMessage(slot: Slot, message: WorkerMessage): void {
    if (message.op === 'ready') {
      slot.ready = true;
      return;
    }
    const pending = this.settle(slot, message.id);
    if (!pending) return;
    if (message.ok) pending.resolve(message.value);
    else pending.reject(new WorkerReplyError(message.kind, message.message));
  }

  private onTimeout(slot: Slot, id: number, timeout: { ms: number; key: string }): void {
    const pending = this.settle(slot, id);
    if (!pending) return;
    pending.reject(new InferenceTimeoutError(timeout.key, timeout.ms));
    this.onWorkerGone(slot, `was replaced: a run of "${timeout.key}" exceeded ${timeout.ms} ms`, {
      deliberate: true,
      running: true,
    });
  }

  /**
   * The slot's worker is gone (or, when `running`, abandoned and asked to exit): fail its calls, then
   * respawn and reload (or retire a crash-looping worker). `deliberate` exits do not count as crashes.
   */
  private onWorkerGone(
    slot: Slot,
    reason: string,
    options: { cause?: unknown; deliberate?: boolean; running?: boolean } = {},
  ): void {
    const wasReady = slot.ready;
    const worker = slot.worker;
    slot.generation++;
    slot.worker = undefined;
    slot.ready = false;
    if (worker && options.running) this.stopWorker(worker);
    this.rejectPending(
      slot,
      new WorkerCrashedError(`Inference worker ${slot.index} ${reason}`, { cause: options.cause }),
    );
    if (this.closed) return;
    let restarting = true;
    if (!options.deliberate) {
      const now = Date.now();
      slot.recentExits = slot.recentExits.filter((t) => now - t < RESTART_WINDOW_MS);
      slot.recentExits.push(now);
      restarting = wasReady && slot.recentExits.length <= MAX_RESTARTS;
    }
    this.onEvent?.({ type: 'worker-exit', worker: slot.index, reason, restarting });
    if (!restarting) {
      for (const [sessionId, model] of slot.models) {
        slot.models.delete(sessionId);
        this.dropReplica(model.entry, slot, `worker ${slot.index} was retired after repeated failures`);
      }
      return;
    }
    slot.restarts++;
    this.spawn(slot);
    this.reload(slot);
  }

  /** Reloads, one after another, the models a respawned worker held. */
  private reload(slot: Slot): void {
    const generation = slot.generation;
    let previous = SETTLED;
    for (const [sessionId, model] of slot.models) {
      const settled = previous.then(() => this.reloadOne(slot, generation, model.entry));
      slot.models.set(sessionId, { entry: model.entry, ready: false, settled });
      previous = settled;
    }
  }

  private async reloadOne(slot: Slot, generation: number, entry: ModelEntry): Promise<void> {
    if (slot.generation !== generation) return;
    const stillWanted = () => !this.closed && this.models.get(entry.key) === entry && slot.models.has(entry.sessionId);
    if (!stillWanted()) return;
    try {
      await this.loadOn(slot, entry);
    } catch (error) {
      if (slot.generation !== generation || !stillWanted()) return;
      slot.models.delete(entry.sessionId);
      this.dropReplica(entry, slot, error instanceof Error ? error.message : String(error));
      return;
    }
    if (slot.generation !== generation) return;
    if (!stillWanted()) {
      void this.call(slot, { op: 'unload', key: entry.sessionId }).catch(() => undefined);
      return;
    }
    slot.models.set(entry.sessionId, { entry, ready: true, settled: SETTLED });
  }

  private dropReplica(entry: ModelEntry, slot: Slot, reason: string): void {
    entry.slots.delete(slot);
    const remainingReplicas = entry.slots.size;
    this.onEvent?.({ type: 'replica-dropped', key: entry.key, worker: slot.index, reason, remainingReplicas });
    if (remainingReplicas === 0 && entry.state === 'ready' && this.models.get(entry.key) === entry) {
      this.models.delete(entry.key);
    }
  }
}

function sessionSettings(options: LoadOptions): SessionSettings {
  const settings: SessionSettings = {};
  for (const name of ['intraOpThreads', 'interOpThreads'] as const) {
    const value = options[name];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
    settings[name] = value;
  }
  if (options.graphOptimizationLevel !== undefined) {
    if (!GRAPH_LEVELS.includes(options.graphOptimizationLevel)) {
      throw new RangeError(`graphOptimizationLevel must be one of ${GRAPH_LEVELS.join(', ')}`);
    }
    settings.graphOptimizationLevel = options.graphOptimizationLevel;
  }
  return settings;
}

function runFailure(key: string, error: unknown): Error {
  if (error instanceof InferenceLayerError) return error;
  if (error instanceof WorkerReplyError) {
    if (error.kind === 'not_loaded') return new ModelNotLoadedError(key, 'it was unloaded');
    return new InferenceError(`Model "${key}" failed to run: ${error.message}`, { cause: error });
  }
  return new InferenceError(`Model "${key}" failed to run: ${String(error)}`, { cause: error });
}
