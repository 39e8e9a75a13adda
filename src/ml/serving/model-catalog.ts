import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { AppError } from '../../common/errors/app-error';
import type { RemoteWorkerInfo } from '../../common/upstream/remote-worker-client';
import { AppConfig } from '../../config/app-config';
import { ModelLoadError } from '../inference';
import { MlMetrics } from '../ml.metrics';
import type { MlModelVersionEntity } from '../registry/entities';
import { ModelRegistry, type RegistryModel, unknownModel, unknownVersion } from '../registry/model-registry';
import { ModelStore } from '../registry/model-store';
import type { InputSignature, OutputMapping } from '../registry/registry.types';
import { ShippedModel } from '../registry/shipped-model.bootstrap';
import { RemoteWorker } from '../remote/remote-worker';
import { abBucket, pickArm } from './ab-router';
import { ArtifactMismatchError, type LoadedVersion, ModelRuntime } from './model-runtime';

/** A model as served: its registry entry, indexed. Replaced as a whole when the registry is re-read. */
export interface ServedModel {
  readonly entry: RegistryModel;
  readonly name: string;
  readonly input: InputSignature;
  readonly mapping: OutputMapping;
  readonly byVersion: ReadonlyMap<string, MlModelVersionEntity>;
  readonly production?: MlModelVersionEntity;
  readonly arms: readonly { version: MlModelVersionEntity; weight: number }[];
}

/** Where one request goes. */
export interface Route {
  readonly model: ServedModel;
  /** The version the router chose (or the caller named). */
  readonly arm: MlModelVersionEntity;
  /** Set when the version runs here. */
  readonly local?: LoadedVersion;
  /** Set when a remote worker serves the version; `fallback` then serves when the worker cannot. */
  readonly remote?: RemoteWorker;
  readonly fallback?: LoadedVersion;
}

const INCOMING_MAX_AGE_MS = 3_600_000;

/**
 * What is served: the registry snapshot (re-read after every change made here, and every
 * ML_REGISTRY_REFRESH_MS for changes made through other instances), the loaded versions kept in line
 * with it (production, staging, A/B arms, and the local fallbacks of remotely served versions), the
 * remote workers, and request routing (A/B splits sticky by routing key).
 *
 * Registry changes and loads run one at a time (`exclusive`); routing reads the snapshot only.
 */
@Injectable()
export class ModelCatalog implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ModelCatalog');
  private models = new Map<string, ServedModel>();
  private readonly remotes = new Map<string, RemoteWorker>();
  /** Why a wanted version is not loaded (versionId → message). */
  private readonly loadErrors = new Map<string, string>();
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private bootstrapped = false;
  private closed = false;

  constructor(
    private readonly config: AppConfig,
    private readonly registry: ModelRegistry,
    private readonly store: ModelStore,
    private readonly runtime: ModelRuntime,
    private readonly shipped: ShippedModel,
    private readonly metrics: MlMetrics,
  ) {
    for (const setting of config.mlRemoteWorkers) {
      const worker = new RemoteWorker(setting, config.ML_REMOTE_TOKEN, (state) =>
        this.metrics.remoteBreaker(setting.model, setting.version, state),
      );
      this.remotes.set(worker.id, worker);
    }
  }

  /**
   * Registers the shipped model if needed and loads what the registry serves, during module
   * initialisation: the service listens only once its models are loaded (a failure is logged, and the
   * service starts without them).
   */
  async onModuleInit(): Promise<void> {
    try {
      await this.store.ensure();
      await this.store.sweepIncoming(INCOMING_MAX_AGE_MS);
    } catch (error) {
      this.logger.error(
        `The model store ${this.store.root} is not writable (${(error as Error).message}); ` +
          'set MODEL_STORE_DIR to a writable folder (a volume shared by the instances)',
      );
    }
    try {
      await this.shipped.ensureRegistered();
    } catch (error) {
      this.logger.error(`The shipped model could not be registered: ${(error as Error).message}`);
    }
    try {
      await this.exclusive(() => this.refreshNow());
    } catch (error) {
      this.logger.error(`The model registry could not be read: ${(error as Error).message}`);
    }
    this.bootstrapped = true;
    const loaded = this.runtime.all().map((c) => `${c.model}@${c.version}`);
    this.logger.log(`Model serving ready: ${loaded.length > 0 ? loaded.join(', ') : 'no model loaded'}`);
    this.scheduleRefresh();
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await Promise.allSettled([...this.remotes.values()].map((w) => w.close()));
  }

  /** Runs registry changes and loads one at a time. */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  model(name: string): ServedModel | undefined {
    return this.models.get(name);
  }

  /** The served model of that name; throws the 404 answer when the registry does not hold it. */
  servedModel(name: string): ServedModel {
    const model = this.models.get(name);
    if (!model) throw unknownModel(name);
    return model;
  }

  /** One version of a served model; throws the 404 answer when the model has no such version. */
  versionOf(model: ServedModel, version: string): MlModelVersionEntity {
    const found = model.byVersion.get(version);
    if (!found) throw unknownVersion(model.name, version);
    return found;
  }

  remote(model: string, version: string): RemoteWorker | undefined {
    return this.remotes.get(`${model}@${version}`);
  }

  loadError(versionId: string): string | undefined {
    return this.loadErrors.get(versionId);
  }

  /** The remote workers, as declared in ML_REMOTE_WORKERS. */
  remoteWorkers(): RemoteWorkerInfo[] {
    return [...this.remotes.values()].map((w) => w.info());
  }

  get isBootstrapped(): boolean {
    return this.bootstrapped;
  }

  /** True when every version that should be served here is loaded. */
  ready(): boolean {
    if (!this.bootstrapped) return false;
    for (const id of this.wanted().keys()) if (!this.runtime.get(id)) return false;
    return true;
  }

  /**
   * Routes one request: a named version (`model_version`), else the A/B split, else production.
   * Throws the AppError to answer when the model or version is unknown or not served.
   */
  route(name: string, versionSpec: string | undefined, routingKey: string): Route {
    const model = this.servedModel(name);
    let arm: MlModelVersionEntity;
    const explicit = versionSpec !== undefined && versionSpec !== 'latest';
    if (explicit) {
      arm = this.versionOf(model, versionSpec);
    } else if (model.arms.length > 0) {
      arm = pickArm(model.arms, abBucket(name, routingKey)).version;
    } else if (model.production) {
      arm = model.production;
    } else {
      throw new AppError('service_unavailable', `Model "${name}" has no production version and no A/B split`);
    }
    this.metrics.assigned(name, arm.version);
    const remote = this.remote(name, arm.version);
    if (remote) {
      const fallbackVersion = this.fallbackOf(model, arm, remote);
      return { model, arm, remote, fallback: fallbackVersion ? this.runtime.get(fallbackVersion.id) : undefined };
    }
    const local = this.runtime.get(arm.id);
    if (!local) {
      if (explicit && (arm.stage === 'none' || arm.stage === 'archived') && !this.isArm(model, arm)) {
        throw new AppError(
          'conflict',
          `Version "${arm.version}" of model "${name}" is not served (stage ${arm.stage}); move it to staging to call it by id`,
        );
      }
      const reason = this.loadErrors.get(arm.id);
      throw new AppError(
        'service_unavailable',
        `Version "${arm.version}" of model "${name}" is not loaded${reason ? `: ${reason}` : ' yet'}`,
        { headers: { 'Retry-After': '1' } },
      );
    }
    return { model, arm, local };
  }

  /** Re-reads the registry and loads or unloads versions to match it. Call inside exclusive(). */
  async refreshNow(): Promise<void> {
    const entries = await this.registry.list();
    this.models = new Map(entries.map((entry) => [entry.model.name, served(entry)]));
    await this.reconcile();
  }

  /**
   * Loads a version now if it is not loaded (e.g. before promoting it), so that a version that cannot
   * be loaded is refused before the registry changes. Call inside exclusive().
   */
  async ensureLoaded(model: string, version: MlModelVersionEntity): Promise<void> {
    if (this.runtime.get(version.id) || this.remote(model, version.version)) return;
    const copy = await this.loadCopy(model, version);
    this.runtime.install(copy);
  }

  /**
   * Loads a fresh copy of every version of `model` that should be served, and swaps them in only when
   * all loaded: requests in flight finish on the old copies, and a failed reload changes nothing.
   * Call inside exclusive().
   */
  async reload(name: string): Promise<{ version: string; load_ms: number }[]> {
    const entries = await this.registry.list();
    this.models = new Map(entries.map((entry) => [entry.model.name, served(entry)]));
    if (!this.models.has(name)) throw unknownModel(name);
    const targets = [...this.wanted().values()].filter((w) => w.model === name).map((w) => w.version);
    const copies: LoadedVersion[] = [];
    const failures: { version: string; error: string }[] = [];
    for (const version of targets) {
      try {
        copies.push(await this.loadCopy(name, version));
      } catch (error) {
        failures.push({ version: version.version, error: describeLoadError(error) });
      }
    }
    if (failures.length > 0) {
      await Promise.all(copies.map((c) => this.runtime.retire(c)));
      throw new AppError(
        'unprocessable_entity',
        `Reload of "${name}" failed (${failures.map((f) => `${f.version}: ${f.error}`).join('; ')}); the loaded versions keep serving`,
        { details: failures },
      );
    }
    for (const copy of copies) {
      this.runtime.install(copy);
      this.loadErrors.delete(copy.versionId);
    }
    await this.reconcile();
    return copies.map((c) => ({ version: c.version, load_ms: Math.round(c.loadMs * 10) / 10 }));
  }

  /** Versions that should be loaded here: versionId → model and version. */
  private wanted(): Map<string, { model: string; version: MlModelVersionEntity }> {
    const wanted = new Map<string, { model: string; version: MlModelVersionEntity }>();
    for (const model of this.models.values()) {
      const candidates = model.entry.versions.filter(
        (v) => v.stage === 'production' || v.stage === 'staging' || this.isArm(model, v),
      );
      for (const version of candidates) {
        const remote = this.remote(model.name, version.version);
        const local = remote ? this.fallbackOf(model, version, remote) : version;
        if (local) wanted.set(local.id, { model: model.name, version: local });
      }
    }
    return wanted;
  }

  private async reconcile(): Promise<void> {
    const wanted = this.wanted();
    for (const [id, { model, version }] of wanted) {
      if (this.runtime.get(id)) continue;
      try {
        this.runtime.install(await this.loadCopy(model, version));
        this.loadErrors.delete(id);
      } catch (error) {
        const message = describeLoadError(error);
        this.loadErrors.set(id, message);
        this.logger.error(`Version ${model}@${version.version} could not be loaded: ${message}`);
      }
    }
    for (const copy of this.runtime.all()) {
      if (!wanted.has(copy.versionId)) await this.runtime.unload(copy.versionId);
    }
    for (const id of this.loadErrors.keys()) if (!wanted.has(id)) this.loadErrors.delete(id);
  }

  private async loadCopy(model: string, version: MlModelVersionEntity): Promise<LoadedVersion> {
    const target = {
      versionId: version.id,
      model,
      version: version.version,
      artifactPath: version.artifactPath,
      sha256: version.sha256,
    };
    try {
      return await this.runtime.load(target);
    } catch (error) {
      // The shipped artifact can be put back when the store lost it (e.g. an emptied volume).
      if (error instanceof ArtifactMismatchError && (await this.shipped.restore(model, version))) {
        return this.runtime.load(target);
      }
      throw error;
    }
  }

  private isArm(model: ServedModel, version: MlModelVersionEntity): boolean {
    return model.arms.some((a) => a.version.id === version.id);
  }

  /**
   * The local version serving for a remote one: its configured fallback, else production; never the
   * version itself nor another remotely served one (a fallback is always local).
   */
  fallbackOf(
    model: ServedModel,
    version: MlModelVersionEntity,
    remote: RemoteWorker,
  ): MlModelVersionEntity | undefined {
    const name = remote.setting.fallback_version;
    const fallback = name !== undefined ? model.byVersion.get(name) : model.production;
    if (!fallback || fallback.id === version.id || this.remote(model.name, fallback.version)) return undefined;
    return fallback;
  }

  private scheduleRefresh(): void {
    const every = this.config.ML_REGISTRY_REFRESH_MS;
    if (every === 0 || this.closed) return;
    this.timer = setTimeout(() => {
      this.exclusive(() => this.refreshNow())
        .catch((error: unknown) => this.logger.warn(`Registry refresh failed: ${(error as Error).message}`))
        .finally(() => this.scheduleRefresh());
    }, every);
    this.timer.unref();
  }
}

function served(entry: RegistryModel): ServedModel {
  const byVersion = new Map(entry.versions.map((v) => [v.version, v]));
  const byId = new Map(entry.versions.map((v) => [v.id, v]));
  return {
    entry,
    name: entry.model.name,
    input: entry.model.inputSignature,
    mapping: entry.model.outputMapping,
    byVersion,
    production: entry.versions.find((v) => v.stage === 'production'),
    arms: entry.arms.flatMap((a) => {
      const version = byId.get(a.versionId);
      return version ? [{ version, weight: a.weight }] : [];
    }),
  };
}

/** A load failure in words fit for an administrator (no file system paths). */
export function describeLoadError(error: unknown): string {
  if (error instanceof ArtifactMismatchError) return error.message;
  if (error instanceof ModelLoadError) {
    const reason = error.message.replace(/^Failed to load model "[^"]*" from \S+: /, '');
    return reason.replace(/\/[^\s'"]*\//g, '').slice(0, 500);
  }
  return error instanceof Error ? error.message.slice(0, 500) : String(error);
}
