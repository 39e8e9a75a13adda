import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { AppConfig } from '../../config/app-config';
import {
  InferenceHost,
  MicroBatcher,
  type BatchedResult,
  type InferenceHostEvent,
  type LoadOptions,
  type ModelSignature,
  type TensorInputs,
} from '../inference';
import { MlMetrics } from '../ml.metrics';
import { fileDigest, ModelStore } from '../registry/model-store';

/** What to load: one registry version and its artifact. */
export interface LoadTarget {
  versionId: string;
  model: string;
  version: string;
  artifactPath: string;
  sha256: string;
}

/** A version loaded in the inference workers, with its micro-batcher. Replaced as a whole on reload. */
export interface LoadedVersion {
  readonly versionId: string;
  readonly model: string;
  readonly version: string;
  readonly sha256: string;
  /** InferenceHost key; unique per load, so a reload can load the new copy while the old one serves. */
  readonly key: string;
  readonly signature: ModelSignature;
  readonly batcher: MicroBatcher;
  readonly loadedAt: Date;
  readonly loadMs: number;
}

export class ArtifactMismatchError extends Error {}

/**
 * The model versions loaded for serving. Loading (and running) happens on InferenceHost's worker
 * threads; each loaded version gets its own MicroBatcher. Swapping a version for a newly loaded copy is
 * one map update: requests already submitted to the old copy's batcher finish on it (close() drains),
 * new ones go to the new copy.
 */
@Injectable()
export class ModelRuntime implements OnModuleDestroy {
  private readonly logger = new Logger('ModelRuntime');
  private readonly host: InferenceHost;
  private readonly loaded = new Map<string, LoadedVersion>();
  private readonly loadOptions: LoadOptions;
  private generation = 0;

  constructor(
    private readonly config: AppConfig,
    private readonly store: ModelStore,
    private readonly metrics: MlMetrics,
  ) {
    this.host = new InferenceHost({
      threads: config.ML_WORKER_THREADS > 0 ? config.ML_WORKER_THREADS : undefined,
      workerScript: config.ML_WORKER_SCRIPT,
      runTimeoutMs: config.ML_RUN_TIMEOUT_MS,
      onEvent: (event) => this.onHostEvent(event),
    });
    this.loadOptions = {
      intraOpThreads: config.ML_SESSION_INTRA_OP_THREADS,
      interOpThreads: config.ML_SESSION_INTER_OP_THREADS,
      graphOptimizationLevel: config.ML_GRAPH_OPTIMIZATION_LEVEL,
    };
  }

  get(versionId: string): LoadedVersion | undefined {
    return this.loaded.get(versionId);
  }

  all(): LoadedVersion[] {
    return [...this.loaded.values()];
  }

  /**
   * Loads a copy of a version (checking that the stored file is the registered one) without installing
   * it. Rejects with ArtifactMismatchError, or the inference layer's ModelLoadError.
   */
  async load(target: LoadTarget): Promise<LoadedVersion> {
    const path = this.store.absolute(target.artifactPath);
    let digest: { sha256: string };
    try {
      digest = await fileDigest(path);
    } catch {
      throw new ArtifactMismatchError(`the artifact ${target.artifactPath} is missing from the model store`);
    }
    if (digest.sha256 !== target.sha256) {
      throw new ArtifactMismatchError(`the artifact ${target.artifactPath} does not match its registered sha256`);
    }
    const key = `${target.model}@${target.version}#${++this.generation}`;
    const started = performance.now();
    const signature = await this.host.load(key, path, this.loadOptions);
    const loadMs = performance.now() - started;
    const batcher = new MicroBatcher(
      signature,
      (inputs, context) => this.host.run(key, inputs, { transfer: context.transferable }),
      {
        enabled: this.config.ML_BATCHING && signature.batchable,
        maxBatchSize: this.config.ML_BATCH_MAX_SIZE,
        maxDelayMs: this.config.ML_BATCH_MAX_DELAY_MS,
        eagerWhenIdle: this.config.ML_BATCH_EAGER_WHEN_IDLE,
        maxQueueSize: this.config.ML_BATCH_MAX_QUEUE,
        maxConcurrentBatches: this.host.threads,
        onBatch: (batch) => this.metrics.batch(target.model, target.version, batch.rows),
      },
    );
    return {
      versionId: target.versionId,
      model: target.model,
      version: target.version,
      sha256: target.sha256,
      key,
      signature,
      batcher,
      loadedAt: new Date(),
      loadMs,
    };
  }

  /** Makes `copy` the served copy of its version; the previous copy (if any) is retired in the background. */
  install(copy: LoadedVersion): void {
    const previous = this.loaded.get(copy.versionId);
    this.loaded.set(copy.versionId, copy);
    this.metrics.modelsLoaded(this.loaded.size);
    if (previous && previous !== copy) void this.retire(previous);
  }

  /** Stops serving a version; requests already submitted finish first. */
  async unload(versionId: string): Promise<void> {
    const copy = this.loaded.get(versionId);
    if (!copy) return;
    this.loaded.delete(versionId);
    this.metrics.modelsLoaded(this.loaded.size);
    await this.retire(copy);
  }

  /** Drains a copy that is no longer (or never was) installed and releases its sessions. */
  async retire(copy: LoadedVersion): Promise<void> {
    try {
      await copy.batcher.close();
      await this.host.unload(copy.key);
    } catch (error) {
      this.logger.warn(`Unloading ${copy.model}@${copy.version} failed: ${(error as Error).message}`);
    }
  }

  /**
   * Loads a file once (on one worker) to read its signature, then unloads it. Rejects with the
   * inference layer's ModelLoadError when the runtime does not accept the file.
   */
  async inspect(path: string): Promise<ModelSignature> {
    const key = `inspect#${randomUUID()}`;
    const signature = await this.host.load(key, path, { ...this.loadOptions, replicas: 1 });
    await this.host.unload(key);
    return signature;
  }

  /** Submits one request to a loaded copy's batcher (synchronously: callers resolve and submit in one step). */
  submit(copy: LoadedVersion, inputs: TensorInputs): Promise<BatchedResult> {
    const pending = copy.batcher.submit(inputs);
    return pending.then((result) => {
      this.metrics.waited(copy.model, copy.version, result.queueWaitMs / 1000);
      return result;
    });
  }

  async onModuleDestroy(): Promise<void> {
    const copies = [...this.loaded.values()];
    this.loaded.clear();
    await Promise.allSettled(copies.map((c) => c.batcher.close()));
    await this.host.close();
  }

  private onHostEvent(event: InferenceHostEvent): void {
    if (event.type === 'worker-exit') {
      this.logger.warn(`Inference worker ${event.worker} ${event.reason}${event.restarting ? '; restarting it' : ''}`);
    } else {
      this.logger.warn(
        `Inference worker ${event.worker} dropped ${event.key} (${event.remainingReplicas} replicas left): ${event.reason}`,
      );
    }
  }
}
