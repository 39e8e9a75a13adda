/**
 * The in-process inference layer against real onnxruntime sessions on the ONNX fixtures in
 * test/ml/fixtures (see make-fixtures.ts).
 *
 * The host runs the compiled worker script: by default the build's copy under dist/ (the test command
 * builds first); INFERENCE_WORKER_SCRIPT points at another compiled copy.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  BatcherClosedError,
  InferenceHost,
  InferenceHostClosedError,
  InferenceTimeoutError,
  InvalidInputError,
  MicroBatcher,
  ModelAlreadyLoadedError,
  ModelLoadError,
  ModelNotLoadedError,
  QueueFullError,
  WorkerCrashedError,
  type BatchInfo,
  type BatchRunner,
  type InferenceHostEvent,
  type InferenceHostOptions,
  type ModelSignature,
  type TensorInputs,
  type TensorOutputs,
} from '../../src/ml/inference';
import { HEAVY_MATMULS, LINEAR_B, LINEAR_W, fixtureFiles } from './fixtures/make-fixtures';

const FIXTURES = join(__dirname, 'fixtures');
const LINEAR = join(FIXTURES, 'linear.onnx');
const LINEAR_FIXED = join(FIXTURES, 'linear-fixed.onnx');
const TWO_INPUTS = join(FIXTURES, 'two-inputs.onnx');
const HEAVY = join(FIXTURES, 'heavy.onnx');
const CORRUPT = join(FIXTURES, 'corrupt.onnx');

function newHost(options: InferenceHostOptions = {}): InferenceHost {
  const workerScript = process.env.INFERENCE_WORKER_SCRIPT;
  return new InferenceHost({ ...(workerScript ? { workerScript } : {}), ...options });
}

/** features · W + B, one row of 4 features. */
function expectedScores(row: readonly number[]): number[] {
  return [0, 1, 2].map((j) => row.reduce((sum, x, i) => sum + x * LINEAR_W[i][j], 0) + LINEAR_B[j]);
}

/** A distinct row of small integers per index: every product and sum is exact in float32. */
function rowFor(i: number): number[] {
  return [i % 17, Math.floor(i / 17) % 13, -(i % 5), 3 - (i % 7)];
}

function features(rows: number[][]) {
  return { features: { data: Float32Array.from(rows.flat()), dims: [rows.length, 4] } };
}

function values(outputs: TensorOutputs, name: string): number[] {
  return Array.from(outputs[name].data as Float32Array);
}

/** A square input for heavy.onnx filled with 1/n: every product of it with itself is again 1/n. */
function heavyInput(n: number) {
  return { x: { data: new Float32Array(n * n).fill(1 / n), dims: [n, n] } };
}

describe('ONNX fixtures', () => {
  it('are what make-fixtures.ts writes', () => {
    for (const [name, bytes] of Object.entries(fixtureFiles())) {
      expect(Buffer.compare(readFileSync(join(FIXTURES, name)), Buffer.from(bytes))).toBe(0);
    }
  });
});

describe('InferenceHost', () => {
  let host: InferenceHost;
  const events: InferenceHostEvent[] = [];

  beforeAll(() => {
    host = newHost({ threads: 2, onEvent: (e) => events.push(e) });
  });

  afterAll(async () => {
    await host.close();
  });

  it('reads the signature: names, element types, dimensions, a dynamic first dimension', async () => {
    const signature = await host.load('linear@1', LINEAR);
    expect(signature).toEqual<ModelSignature>({
      inputs: [{ name: 'features', type: 'float32', shape: [-1, 4], dimNames: ['batch', null], dynamicBatch: true }],
      outputs: [
        { name: 'scores', type: 'float32', shape: [-1, 3], dimNames: ['batch', null], dynamicBatch: true },
        { name: 'scaled', type: 'float32', shape: [-1, 4], dimNames: ['batch', null], dynamicBatch: true },
      ],
      batchable: true,
    });
    expect(host.signature('linear@1')).toEqual(signature);
    expect(host.loadedModels()).toContain('linear@1');
    // Replicated on both workers by default.
    expect(host.stats().workers.map((w) => w.models.includes('linear@1'))).toEqual([true, true]);
  });

  it('reads a fixed first dimension as not batchable', async () => {
    const signature = await host.load('linear-fixed@1', LINEAR_FIXED);
    expect(signature.inputs).toEqual([
      { name: 'features', type: 'float32', shape: [1, 4], dimNames: [null, null], dynamicBatch: false },
    ]);
    expect(signature.outputs.map((o) => o.shape)).toEqual([
      [1, 3],
      [1, 4],
    ]);
    expect(signature.batchable).toBe(false);

    const out = await host.run('linear-fixed@1', features([[1, 2, 3, 4]]));
    expect(values(out, 'scores')).toEqual(expectedScores([1, 2, 3, 4]));
    await expect(host.run('linear-fixed@1', features([rowFor(1), rowFor(2)]))).rejects.toThrow(InvalidInputError);
    await host.unload('linear-fixed@1');
  });

  it('runs a model and returns exact outputs with their dims and types', async () => {
    const rows = [[1, 2, 3, 4], [0, 0, 0, 0], rowFor(40)];
    const out = await host.run('linear@1', features(rows));
    expect(out.scores.dims).toEqual([3, 3]);
    expect(out.scores.type).toBe('float32');
    expect(Object.prototype.toString.call(out.scores.data)).toBe('[object Float32Array]');
    expect(values(out, 'scores')).toEqual(rows.flatMap(expectedScores));
    expect(out.scaled.dims).toEqual([3, 4]);
    expect(values(out, 'scaled')).toEqual(rows.flat().map((x) => 2 * x));
    // [1, 2, 3, 4] · W + B, worked by hand.
    expect(values(out, 'scores').slice(0, 3)).toEqual([25.25, 14, 7]);
  });

  it('keeps the caller inputs intact unless asked to transfer them', async () => {
    const data = Float32Array.from([1, 2, 3, 4]);
    await host.run('linear@1', { features: { data, dims: [1, 4] } });
    expect(Array.from(data)).toEqual([1, 2, 3, 4]);
    const out = await host.run('linear@1', { features: { data, dims: [1, 4] } }, { transfer: true });
    expect(values(out, 'scores')).toEqual([25.25, 14, 7]);
    expect(data.length).toBe(0); // detached: moved to the worker
  });

  it('rejects inputs that do not match the signature before running them', async () => {
    const cases: TensorInputs[] = [
      { features: { data: new Float32Array(3), dims: [1, 3] } },
      { features: { data: new Float64Array(4), dims: [1, 4] } },
      { features: { data: new Float32Array(5), dims: [1, 4] } },
      { features: { data: new Float32Array(4), dims: [4] } },
      { features: { data: new Float32Array(4), dims: [1, 4] }, extra: { data: new Float32Array(1), dims: [1] } },
      {},
    ];
    for (const inputs of cases) {
      await expect(host.run('linear@1', inputs)).rejects.toThrow(InvalidInputError);
    }
    await expect(host.run('linear@1', features([[1, 2, 3, 4]]))).resolves.toBeDefined();
  });

  it('rejects a file that is not an ONNX model with ModelLoadError and leaves nothing loaded', async () => {
    const failure = host.load('corrupt@1', CORRUPT);
    await expect(failure).rejects.toThrow(ModelLoadError);
    await expect(failure).rejects.toMatchObject({ code: 'model_load_failed', key: 'corrupt@1', modelPath: CORRUPT });
    await expect(failure).rejects.toThrow(/Protobuf parsing failed/);
    expect(host.loadedModels()).not.toContain('corrupt@1');
    expect(host.stats().workers.flatMap((w) => w.models)).not.toContain('corrupt@1');
    await expect(host.run('corrupt@1', features([[1, 2, 3, 4]]))).rejects.toThrow(ModelNotLoadedError);

    await expect(host.load('missing@1', join(FIXTURES, 'does-not-exist.onnx'))).rejects.toThrow(ModelLoadError);

    // The key is free again: a valid file loads under it.
    await host.load('corrupt@1', LINEAR);
    expect(values(await host.run('corrupt@1', features([[1, 2, 3, 4]])), 'scores')).toEqual([25.25, 14, 7]);
    await host.unload('corrupt@1');
  });

  it('refuses a key that is already loaded', async () => {
    await expect(host.load('linear@1', LINEAR)).rejects.toThrow(ModelAlreadyLoadedError);
    expect(values(await host.run('linear@1', features([[1, 2, 3, 4]])), 'scores')).toEqual([25.25, 14, 7]);
  });

  it('answers a clear error for a run after unload', async () => {
    await host.load('linear@tmp', LINEAR);
    await host.run('linear@tmp', features([[1, 2, 3, 4]]));
    await expect(host.unload('linear@tmp')).resolves.toBe(true);
    await expect(host.unload('linear@tmp')).resolves.toBe(false);
    const failure = host.run('linear@tmp', features([[1, 2, 3, 4]]));
    await expect(failure).rejects.toThrow(ModelNotLoadedError);
    await expect(failure).rejects.toThrow('Model "linear@tmp" is not available: it is not loaded');
    expect(host.stats().workers.flatMap((w) => w.models)).not.toContain('linear@tmp');
  });

  it('finishes runs already dispatched when their model is unloaded', async () => {
    await host.load('linear@drain', LINEAR);
    const runs = Array.from({ length: 50 }, (_, i) => host.run('linear@drain', features([rowFor(i)])));
    const unloaded = host.unload('linear@drain');
    const outputs = await Promise.all(runs);
    outputs.forEach((out, i) => expect(values(out, 'scores')).toEqual(expectedScores(rowFor(i))));
    await expect(unloaded).resolves.toBe(true);
  });

  it('loads a new version while the old one keeps serving', async () => {
    let served = 0;
    let loading = true;
    const traffic = (async () => {
      while (loading) {
        const i = served++;
        const out = await host.run('linear@1', features([rowFor(i)]));
        expect(values(out, 'scores')).toEqual(expectedScores(rowFor(i)));
      }
    })();
    const v2 = await host.load('linear@2', LINEAR);
    loading = false;
    await traffic;
    expect(v2.batchable).toBe(true);
    expect(served).toBeGreaterThan(0);
    expect(values(await host.run('linear@2', features([[1, 2, 3, 4]])), 'scores')).toEqual([25.25, 14, 7]);
    await host.unload('linear@2');
    expect(values(await host.run('linear@1', features([[1, 2, 3, 4]])), 'scores')).toEqual([25.25, 14, 7]);
  });

  it('places a model on fewer workers when asked', async () => {
    await host.load('linear@single', LINEAR, { replicas: 1, graphOptimizationLevel: 'basic', intraOpThreads: 1 });
    expect(host.stats().workers.filter((w) => w.models.includes('linear@single'))).toHaveLength(1);
    const outputs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => host.run('linear@single', features([rowFor(i)]))),
    );
    outputs.forEach((out, i) => expect(values(out, 'scores')).toEqual(expectedScores(rowFor(i))));
    await host.unload('linear@single');
    await expect(host.load('bad@opts', LINEAR, { intraOpThreads: 0 })).rejects.toThrow(RangeError);
  });

  it('spreads concurrent runs over both workers', async () => {
    const outputs = await Promise.all(
      Array.from({ length: 300 }, (_, i) => host.run('linear@1', features([rowFor(i)]))),
    );
    outputs.forEach((out, i) => expect(values(out, 'scores')).toEqual(expectedScores(rowFor(i))));
    expect(events).toEqual([]);
  });
});

describe('InferenceHost keeps the event loop free', () => {
  let host: InferenceHost;

  beforeAll(async () => {
    host = newHost({ threads: 1 });
    await host.load('heavy', HEAVY);
  });

  afterAll(async () => {
    await host.close();
  });

  /** Counts 1 ms timer ticks that fire while `work` is pending. */
  async function ticksDuring(work: () => Promise<unknown>): Promise<number> {
    let ticks = 0;
    let done = false;
    const tick = () => {
      if (done) return;
      ticks++;
      setTimeout(tick, 1);
    };
    setTimeout(tick, 1);
    await work();
    done = true;
    return ticks;
  }

  it('fires timers while a long run is in flight on a worker', async () => {
    // Eight 1024³ products on one thread: long enough for many 1 ms timers, unless the loop is blocked.
    const ticks = await ticksDuring(() => host.run('heavy', heavyInput(1024)));
    expect(ticks).toBeGreaterThanOrEqual(5);
  });

  it('keeps the event-loop delay far below the run time while runs follow each other', async () => {
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const started = performance.now();
    for (let i = 0; i < 3; i++) await host.run('heavy', heavyInput(1024));
    const busyMs = performance.now() - started;
    delay.disable();
    // A run on the main thread would stall the loop for a whole run (about busyMs / 3).
    expect(delay.max / 1e6).toBeLessThan(busyMs / 3);
  });

  it('computes the heavy product correctly', async () => {
    const n = 64;
    const out = await host.run('heavy', heavyInput(n));
    expect(out.y.dims).toEqual([n, n]);
    const worst = Math.max(...Array.from(out.y.data as Float32Array, (v) => Math.abs(v - 1 / n)));
    expect(worst).toBeLessThan(1e-6);
    expect(HEAVY_MATMULS).toBeGreaterThan(1);
  });
});

describe('InferenceHost after a worker dies', () => {
  it('rejects the calls in flight, respawns the worker and reloads its models', async () => {
    const events: InferenceHostEvent[] = [];
    const host = newHost({ threads: 1, onEvent: (e) => events.push(e) });
    try {
      await host.load('linear', LINEAR);
      await host.load('heavy', HEAVY);
      // Far longer than the timeout: eight 1536³ products on one thread (seconds; the abandoned worker
      // finishes it in the background and exits).
      const slow = host.run('heavy', heavyInput(1536), { timeoutMs: 200 });
      const queuedBehind = host.run('linear', features([[1, 2, 3, 4]]));
      await expect(slow).rejects.toThrow(InferenceTimeoutError);
      await expect(queuedBehind).rejects.toThrow(WorkerCrashedError);
      expect(events).toEqual([expect.objectContaining({ type: 'worker-exit', worker: 0, restarting: true })]);

      // The replacement worker reloads both models; runs wait for it instead of failing.
      const out = await host.run('linear', features([[1, 2, 3, 4]]));
      expect(values(out, 'scores')).toEqual([25.25, 14, 7]);
      const small = await host.run('heavy', heavyInput(8));
      expect(small.y.dims).toEqual([8, 8]);
      const [worker] = host.stats().workers;
      expect(worker.restarts).toBe(1);
      expect(worker.models.sort()).toEqual(['heavy', 'linear']);
    } finally {
      await host.close();
    }
  });

  it('rejects calls in flight when the host closes, and every call after', async () => {
    const host = newHost({ threads: 1 });
    await host.load('heavy', HEAVY);
    const inFlight = host.run('heavy', heavyInput(512)).catch((error: unknown) => error);
    await host.close();
    expect(await inFlight).toBeInstanceOf(InferenceHostClosedError);
    await expect(host.run('heavy', heavyInput(8))).rejects.toThrow(InferenceHostClosedError);
    await expect(host.load('again', LINEAR)).rejects.toThrow(InferenceHostClosedError);
  });
});

describe('MicroBatcher', () => {
  let host: InferenceHost;
  let signature: ModelSignature;
  let twoInputs: ModelSignature;

  const runner =
    (key: string): BatchRunner =>
    (inputs, { transferable }) =>
      host.run(key, inputs, { transfer: transferable });

  beforeAll(async () => {
    host = newHost({ threads: 2 });
    signature = await host.load('linear', LINEAR);
    twoInputs = await host.load('two-inputs', TWO_INPUTS);
  });

  afterAll(async () => {
    await host.close();
  });

  it('gives every caller its own rows back from shared batches', async () => {
    const batches: BatchInfo[] = [];
    const batcher = new MicroBatcher(signature, runner('linear'), { onBatch: (b) => batches.push(b) });
    // Mostly single rows, some requests with two or three rows.
    const requests = Array.from({ length: 200 }, (_, i) =>
      Array.from({ length: i % 10 === 0 ? 3 : i % 7 === 0 ? 2 : 1 }, (_, r) => rowFor(i * 3 + r)),
    );
    const results = await Promise.all(requests.map((rows) => batcher.submit(features(rows))));

    results.forEach((result, i) => {
      const rows = requests[i];
      expect(result.outputs.scores.dims).toEqual([rows.length, 3]);
      expect(values(result.outputs, 'scores')).toEqual(rows.flatMap(expectedScores));
      expect(result.outputs.scaled.dims).toEqual([rows.length, 4]);
      expect(values(result.outputs, 'scaled')).toEqual(rows.flat().map((x) => 2 * x));
      expect(result.queueWaitMs).toBeGreaterThanOrEqual(0);
      expect(result.batchSize).toBeGreaterThanOrEqual(rows.length);
    });
    const totalRows = requests.reduce((sum, rows) => sum + rows.length, 0);
    expect(batches.reduce((sum, b) => sum + b.rows, 0)).toBe(totalRows);
    expect(batches.reduce((sum, b) => sum + b.requests, 0)).toBe(200);
    expect(Math.max(...batches.map((b) => b.rows))).toBeGreaterThan(1);
    expect(batches.every((b) => b.ok && b.rows <= 64)).toBe(true);
    expect(batches.length).toBeLessThan(200);
  });

  it('stacks and splits models with several inputs', async () => {
    const batches: BatchInfo[] = [];
    const batcher = new MicroBatcher(twoInputs, runner('two-inputs'), { onBatch: (b) => batches.push(b) });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        batcher.submit({
          features: { data: Float32Array.from(rowFor(i)), dims: [1, 4] },
          offset: { data: Float32Array.from([i]), dims: [1, 1] },
        }),
      ),
    );
    results.forEach((result, i) => {
      const expected = expectedScores(rowFor(i)).map((v, j) => v - LINEAR_B[j] + i);
      expect(values(result.outputs, 'scores')).toEqual(expected);
    });
    expect(Math.max(...batches.map((b) => b.requests))).toBeGreaterThan(1);
  });

  it('runs every request alone when batching is off', async () => {
    const batches: BatchInfo[] = [];
    const batcher = new MicroBatcher(signature, runner('linear'), { enabled: false, onBatch: (b) => batches.push(b) });
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => batcher.submit(features([rowFor(i)]))));
    results.forEach((result, i) => {
      expect(values(result.outputs, 'scores')).toEqual(expectedScores(rowFor(i)));
      expect(result.batchSize).toBe(1);
      expect(result.batchRequests).toBe(1);
    });
    expect(batches).toHaveLength(60);
    expect(batches.every((b) => b.requests === 1 && b.rows === 1)).toBe(true);
  });

  it('serves a fixed-first-dimension model only with batching off', async () => {
    const fixed = await host.load('linear-fixed', LINEAR_FIXED);
    try {
      expect(() => new MicroBatcher(fixed, runner('linear-fixed'))).toThrow(RangeError);
      const batcher = new MicroBatcher(fixed, runner('linear-fixed'), { enabled: false });
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => batcher.submit(features([rowFor(i)]))));
      results.forEach((result, i) => expect(values(result.outputs, 'scores')).toEqual(expectedScores(rowFor(i))));
    } finally {
      await host.unload('linear-fixed');
    }
  });

  it('rejects requests beyond the queue limit with QueueFullError', async () => {
    const batcher = new MicroBatcher(signature, runner('linear'), {
      maxQueueSize: 10,
      maxDelayMs: 50,
      eagerWhenIdle: false,
    });
    const submitted = Array.from({ length: 15 }, (_, i) => batcher.submit(features([rowFor(i)])));
    const settled = await Promise.allSettled(submitted);
    const rejected = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    expect(rejected).toHaveLength(5);
    for (const r of rejected) expect(r.reason).toBeInstanceOf(QueueFullError);
    settled.slice(0, 10).forEach((s, i) => {
      expect(s.status).toBe('fulfilled');
      if (s.status === 'fulfilled') {
        expect(values(s.value.outputs, 'scores')).toEqual(expectedScores(rowFor(i)));
        expect(s.value.batchRequests).toBe(10);
      }
    });
  });

  it('reports how long a request waited for its batch', async () => {
    const batcher = new MicroBatcher(signature, runner('linear'), { maxDelayMs: 25, eagerWhenIdle: false });
    const result = await batcher.submit(features([rowFor(1)]));
    expect(result.queueWaitMs).toBeGreaterThanOrEqual(20);
    expect(result.batchSize).toBe(1);
    expect(result.runMs).toBeGreaterThan(0);
  });

  it('dispatches a lone request at once when no batch is running, and batches those that arrive meanwhile', async () => {
    const batcher = new MicroBatcher(signature, runner('linear'), { maxDelayMs: 25 });
    const lone = await batcher.submit(features([rowFor(1)]));
    expect(lone.queueWaitMs).toBeLessThan(20);
    expect(lone.batchSize).toBe(1);
    // The first of a burst runs alone at once; the rest queue behind it and share one batch.
    const burst = await Promise.all(Array.from({ length: 6 }, (_, i) => batcher.submit(features([rowFor(i)]))));
    expect(burst[0].batchSize).toBe(1);
    expect(burst.slice(1).every((r) => r.batchSize > 1)).toBe(true);
    burst.forEach((r, i) => expect(values(r.outputs, 'scores')).toEqual(expectedScores(rowFor(i))));
  });

  it('dispatches a full batch without waiting for the delay', async () => {
    const batcher = new MicroBatcher(signature, runner('linear'), {
      maxBatchSize: 8,
      maxDelayMs: 60_000,
      eagerWhenIdle: false,
    });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => batcher.submit(features([rowFor(i)]))));
    results.forEach((result, i) => {
      expect(values(result.outputs, 'scores')).toEqual(expectedScores(rowFor(i)));
      expect(result.batchSize).toBe(8);
    });
  });

  it('fails a malformed request alone instead of the batch it would have joined', async () => {
    const batcher = new MicroBatcher(signature, runner('linear'));
    const good = Array.from({ length: 5 }, (_, i) => batcher.submit(features([rowFor(i)])));
    const bad = batcher.submit({ features: { data: new Float32Array(3), dims: [1, 3] } });
    await expect(bad).rejects.toThrow(InvalidInputError);
    const results = await Promise.all(good);
    results.forEach((result, i) => expect(values(result.outputs, 'scores')).toEqual(expectedScores(rowFor(i))));
  });

  it('passes a run failure to every request of the batch', async () => {
    await host.load('linear-gone', LINEAR);
    const batcher = new MicroBatcher(signature, runner('linear-gone'));
    await host.unload('linear-gone');
    const settled = await Promise.allSettled(
      Array.from({ length: 4 }, (_, i) => batcher.submit(features([rowFor(i)]))),
    );
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      if (s.status === 'rejected') expect(s.reason).toBeInstanceOf(ModelNotLoadedError);
    }
  });

  it('drains queued requests on close and refuses new ones', async () => {
    const batcher = new MicroBatcher(signature, runner('linear'), { maxDelayMs: 60_000 });
    const queued = Array.from({ length: 3 }, (_, i) => batcher.submit(features([rowFor(i)])));
    await batcher.close();
    const results = await Promise.all(queued);
    results.forEach((result, i) => expect(values(result.outputs, 'scores')).toEqual(expectedScores(rowFor(i))));
    await expect(batcher.submit(features([rowFor(1)]))).rejects.toThrow(BatcherClosedError);
  });
});
