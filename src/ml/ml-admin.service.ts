import { Injectable } from '@nestjs/common';
import { AppError } from '../common/errors/app-error';
import type {
  AbStatsDto,
  CreateModelDto,
  ModelDto,
  ModelListDto,
  ModelVersionDto,
  ReloadResultDto,
  SetSplitDto,
  SetStageDto,
  SplitStateDto,
  UploadVersionDto,
} from './dto/admin.dto';
import { InferenceHostClosedError, ModelLoadError } from './inference';
import { PredictionLog } from './predictions/prediction-log';
import { PredictionRecords } from './predictions/prediction-records';
import type { MlModelVersionEntity } from './registry/entities';
import { ModelRegistry, type RegistryModel, unknownVersion } from './registry/model-registry';
import { fileDigest, ModelStore } from './registry/model-store';
import {
  featureCount,
  signatureProblems,
  type InputSignature,
  type OutputMapping,
  type Stage,
} from './registry/registry.types';
import { describeLoadError, ModelCatalog } from './serving/model-catalog';
import { ModelRuntime } from './serving/model-runtime';

/** The parts of a multer disk-storage file the upload uses. */
export interface UploadedModelFile {
  originalname: string;
  path: string;
  size: number;
}

/**
 * Registry administration: models, version uploads (validated by loading them), stages, A/B splits,
 * deletion, reloads and the A/B comparison. Every change is applied to the catalog before it answers,
 * so this instance serves the new state at once (other instances within ML_REGISTRY_REFRESH_MS).
 */
@Injectable()
export class MlAdminService {
  constructor(
    private readonly registry: ModelRegistry,
    private readonly store: ModelStore,
    private readonly catalog: ModelCatalog,
    private readonly runtime: ModelRuntime,
    private readonly log: PredictionLog,
    private readonly records: PredictionRecords,
  ) {}

  async list(): Promise<ModelListDto> {
    return { models: (await this.registry.list()).map((entry) => this.modelDto(entry)) };
  }

  async get(name: string): Promise<ModelDto> {
    return this.modelDto(await this.registry.get(name));
  }

  async createModel(body: CreateModelDto): Promise<ModelDto> {
    const inputSignature: InputSignature = {
      name: body.input_signature.name,
      dtype: body.input_signature.dtype,
      shape: body.input_signature.shape,
      ...(body.input_signature.feature_names ? { feature_names: body.input_signature.feature_names } : {}),
    };
    const count = featureCount(inputSignature);
    if (inputSignature.feature_names && count !== undefined && inputSignature.feature_names.length !== count) {
      throw new AppError(
        'validation_failed',
        `Request is invalid: input_signature.feature_names must name ${count} features`,
      );
    }
    if (inputSignature.shape[0] !== -1) {
      throw new AppError(
        'validation_failed',
        'Request is invalid: input_signature.shape must start with -1 (the batch dimension)',
      );
    }
    const outputMapping: OutputMapping = {
      probabilities: body.output_mapping.probabilities,
      labels: body.output_mapping.labels,
      ...(body.output_mapping.expected_return ? { expected_return: body.output_mapping.expected_return } : {}),
      ...(body.output_mapping.threshold !== undefined ? { threshold: body.output_mapping.threshold } : {}),
    };
    await this.catalog.exclusive(async () => {
      await this.registry.createModel({ name: body.name, task: body.task, inputSignature, outputMapping });
      await this.catalog.refreshNow();
    });
    return this.get(body.name);
  }

  /**
   * Registers an uploaded ONNX file as a new version: it is loaded once to read its signature, which
   * must fit the model's; only then is it moved into the store and registered (in one transaction).
   * On any failure the uploaded file is removed and the registry is unchanged.
   */
  async uploadVersion(
    name: string,
    file: UploadedModelFile | undefined,
    fields: UploadVersionDto,
  ): Promise<ModelVersionDto> {
    if (!file) {
      throw new AppError(
        'validation_failed',
        'Request is invalid: file is required (multipart/form-data part "file")',
        {
          details: [{ field: 'file', messages: ['an .onnx file is required'] }],
        },
      );
    }
    try {
      if (!/\.onnx$/i.test(file.originalname)) {
        throw new AppError('validation_failed', 'Request is invalid: file must be an .onnx model', {
          details: [{ field: 'file', messages: ['must be an .onnx file'] }],
        });
      }
      const metrics = parseMetrics(fields.metrics);
      const entry = await this.registry.get(name);
      await this.checkLoadable(file, entry);
      const digest = await fileDigest(file.path);
      const version = fields.version ?? defaultVersionId(digest.sha256);
      if (version === 'latest')
        throw new AppError('validation_failed', 'Request is invalid: "latest" is not a version id');
      const twin = entry.versions.find((v) => v.sha256 === digest.sha256);
      if (twin) throw new AppError('conflict', `This file is already registered as version "${twin.version}"`);
      const stage: Stage = fields.stage ?? 'none';
      const artifactPath = this.store.artifactPath(name, version);
      return await this.catalog.exclusive(async () => {
        let moved = false;
        let row: MlModelVersionEntity;
        try {
          row = await this.registry.insertVersion(
            entry.model.id,
            {
              version,
              artifactPath,
              sha256: digest.sha256,
              sizeBytes: digest.size,
              metrics,
              description: fields.description ?? null,
              stage: 'none',
            },
            async () => {
              await this.store.commit(file.path, artifactPath);
              moved = true;
            },
          );
        } catch (error) {
          if (moved) await this.store.remove(artifactPath);
          throw error;
        }
        if (stage !== 'none') await this.applyStage(name, entry.model.id, row, { stage, archive_previous: false });
        await this.catalog.refreshNow();
        return this.versionDto(name, (await this.registry.get(name)).versions.find((v) => v.id === row.id) ?? row);
      });
    } finally {
      await this.store.removeIncoming(file.path);
    }
  }

  async setStage(name: string, version: string, body: SetStageDto): Promise<ModelVersionDto> {
    return this.catalog.exclusive(async () => {
      const entry = await this.registry.get(name);
      const row = findVersion(entry, version);
      await this.applyStage(name, entry.model.id, row, body);
      await this.catalog.refreshNow();
      const updated = (await this.registry.get(name)).versions.find((v) => v.id === row.id) ?? row;
      return this.versionDto(name, updated);
    });
  }

  async setSplit(name: string, body: SetSplitDto): Promise<ModelDto> {
    const seen = new Set<string>();
    for (const arm of body.arms) {
      if (seen.has(arm.version))
        throw new AppError('validation_failed', `Request is invalid: version "${arm.version}" is listed twice`);
      seen.add(arm.version);
    }
    await this.catalog.exclusive(async () => {
      const entry = await this.registry.get(name);
      const arms = body.arms.map((arm) => ({ row: findVersion(entry, arm.version), weight: arm.weight }));
      for (const { row } of arms) {
        if (row.stage === 'archived') {
          throw new AppError(
            'conflict',
            `Version "${row.version}" is archived; move it to another stage before splitting traffic to it`,
          );
        }
      }
      for (const { row } of arms) await this.load(name, row);
      await this.registry.setSplit(
        entry.model.id,
        arms.map((a) => ({ versionId: a.row.id, weight: a.weight })),
      );
      await this.catalog.refreshNow();
    });
    return this.get(name);
  }

  async clearSplit(name: string): Promise<ModelDto> {
    await this.catalog.exclusive(async () => {
      const entry = await this.registry.get(name);
      await this.registry.setSplit(entry.model.id, []);
      await this.catalog.refreshNow();
    });
    return this.get(name);
  }

  async deleteVersion(name: string, version: string): Promise<void> {
    await this.catalog.exclusive(async () => {
      const entry = await this.registry.get(name);
      const row = findVersion(entry, version);
      await this.registry.deleteVersion(row);
      await this.catalog.refreshNow();
      await this.store.remove(row.artifactPath);
    });
  }

  async deleteModel(name: string): Promise<void> {
    await this.catalog.exclusive(async () => {
      const entry = await this.registry.get(name);
      await this.registry.deleteModel(entry);
      await this.catalog.refreshNow();
      for (const version of entry.versions) await this.store.remove(version.artifactPath);
    });
  }

  async reload(name: string): Promise<ReloadResultDto> {
    const reloaded = await this.catalog.exclusive(() => this.catalog.reload(name));
    return { model: name, reloaded };
  }

  /** Per-arm counts, latency and outcome statistics from the recorded predictions. */
  async abStats(name: string, since?: Date): Promise<AbStatsDto> {
    const entry = await this.registry.get(name);
    await this.log.flush();
    const rows = await this.records.armStats(name, since);
    const total = rows.reduce((sum, r) => sum + r.predictions, 0);
    const split = splitState(entry);
    const weights = new Map((split ?? []).map((s) => [s.version, s.weight]));
    const round = (x: number, digits = 3): number => Number(x.toFixed(digits));
    const arms = rows.map((r) => ({
      version: r.arm,
      ...(weights.has(r.arm) ? { weight: weights.get(r.arm) } : {}),
      predictions: r.predictions,
      share: total > 0 ? round(r.predictions / total, 4) : 0,
      latency_ms: { mean: round(r.latencyMean), p50: round(r.latencyP50), p95: round(r.latencyP95) },
      fallbacks: r.fallbacks,
      feedback: {
        count: r.feedback,
        hits: r.hits,
        hit_rate: r.feedback > 0 ? round(r.hits / r.feedback, 4) : null,
        mean_abs_error: r.meanAbsError === null ? null : round(r.meanAbsError, 6),
      },
    }));
    return {
      model: name,
      production_version: entry.versions.find((v) => v.stage === 'production')?.version ?? null,
      split,
      since: since ? since.toISOString() : null,
      arms,
    };
  }

  // ------------------------------------------------------------------ internals

  /** Loads an upload once to read its signature; 400 when the runtime refuses it or it does not fit. */
  private async checkLoadable(file: UploadedModelFile, entry: RegistryModel): Promise<void> {
    let signature;
    try {
      signature = await this.runtime.inspect(file.path);
    } catch (error) {
      if (error instanceof ModelLoadError) {
        throw new AppError(
          'validation_failed',
          `The file is not a model the runtime can load: ${describeLoadError(error)}`,
          {
            details: [{ field: 'file', messages: ['not a loadable ONNX model'] }],
          },
        );
      }
      if (error instanceof InferenceHostClosedError)
        throw new AppError('service_unavailable', 'The service is shutting down');
      throw error;
    }
    const problems = signatureProblems(entry.model.inputSignature, entry.model.outputMapping, signature);
    if (problems.length > 0) {
      throw new AppError(
        'validation_failed',
        `The model does not match the signature of "${entry.model.name}": ${problems.join('; ')}`,
        {
          details: [{ field: 'file', messages: problems }],
        },
      );
    }
  }

  /** Stage change; a version about to serve is loaded first, so one that cannot load changes nothing. */
  private async applyStage(name: string, modelId: string, row: MlModelVersionEntity, body: SetStageDto): Promise<void> {
    if (body.stage === 'production' || body.stage === 'staging') await this.load(name, row);
    await this.registry.setStage(modelId, row.id, body.stage, body.archive_previous ?? false);
  }

  private async load(name: string, row: MlModelVersionEntity): Promise<void> {
    try {
      await this.catalog.ensureLoaded(name, row);
    } catch (error) {
      throw new AppError(
        'unprocessable_entity',
        `Version "${row.version}" cannot be loaded: ${describeLoadError(error)}`,
      );
    }
  }

  private modelDto(entry: RegistryModel): ModelDto {
    const { model } = entry;
    return {
      name: model.name,
      task: model.task,
      input_signature: model.inputSignature,
      output_mapping: model.outputMapping,
      production_version: entry.versions.find((v) => v.stage === 'production')?.version ?? null,
      split: splitState(entry),
      versions: entry.versions.map((v) => this.versionDto(model.name, v)),
      created_at: model.createdAt,
    };
  }

  private versionDto(model: string, v: MlModelVersionEntity): ModelVersionDto {
    const dto: ModelVersionDto = {
      version: v.version,
      stage: v.stage,
      sha256: v.sha256,
      size_bytes: v.sizeBytes,
      artifact: v.artifactPath,
      metrics: v.metrics,
      description: v.description,
      created_at: v.createdAt,
      stage_changed_at: v.stageChangedAt,
      loaded: this.runtime.get(v.id) !== undefined,
    };
    const error = this.catalog.loadError(v.id);
    if (error) dto.load_error = error;
    const remote = this.catalog.remote(model, v.version);
    if (remote) {
      dto.remote = {
        protocol: remote.setting.protocol,
        url: remote.setting.url,
        breaker: remote.state,
        ...(remote.setting.fallback_version ? { fallback_version: remote.setting.fallback_version } : {}),
      };
    }
    return dto;
  }
}

function findVersion(entry: RegistryModel, version: string): MlModelVersionEntity {
  const row = entry.versions.find((v) => v.version === version);
  if (!row) throw unknownVersion(entry.model.name, version);
  return row;
}

function splitState(entry: RegistryModel): SplitStateDto[] | null {
  if (entry.arms.length === 0) return null;
  const total = entry.arms.reduce((sum, a) => sum + a.weight, 0);
  return entry.arms.map((a) => ({
    version: a.version,
    weight: a.weight,
    share: Number((a.weight / total).toFixed(4)),
  }));
}

function parseMetrics(text: string | undefined): Record<string, unknown> {
  if (text === undefined || text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AppError('validation_failed', 'Request is invalid: metrics must be a JSON object');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AppError('validation_failed', 'Request is invalid: metrics must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

/** Date and the first 8 hex digits of the sha256, e.g. 20261123-3d831ebe. */
function defaultVersionId(sha256: string): string {
  const day = new Date().toISOString().slice(0, 10).replace(/-/g, '');
  return `${day}-${sha256.slice(0, 8)}`;
}
