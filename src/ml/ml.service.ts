import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Principal } from '../common/auth/principal';
import { AppError } from '../common/errors/app-error';
import type { RemoteWorkerInfo } from '../common/upstream/remote-worker-client';
import { validateBatchItem } from '../common/http/validation';
import { AppConfig } from '../config/app-config';
import {
  type FeedbackRequestDto,
  type FeedbackResponseDto,
  type MlHealthDto,
  type PredictBatchItemErrorDto,
  PredictRequestDto,
  type PredictResponseDto,
} from './dto/predict.dto';
import type { TensorOutputs } from './inference';
import { PredictionLog } from './predictions/prediction-log';
import { PredictionRecords } from './predictions/prediction-records';
import { featureCount, type OutputMapping } from './registry/registry.types';
import { principalKey } from './serving/ab-router';
import { inferenceFailure } from './serving/inference-errors';
import { InferenceRunner } from './serving/inference-runner';
import { ModelCatalog, type Route, type ServedModel } from './serving/model-catalog';
import { type LoadedVersion, ModelRuntime } from './serving/model-runtime';

const FLOAT32_MAX = 3.4028234663852886e38;

/** One answered row, before it becomes a response. */
interface Served {
  direction: string;
  confidence: number;
  expected_return: number | null;
  version: string;
  served_by: 'local' | 'remote';
  fallback_from?: string;
}

export type BatchItemResult = PredictResponseDto | PredictBatchItemErrorDto;

/**
 * Model serving: /predict (one row, or a batch of rows that the micro-batchers stack), outcome
 * feedback, and health (the Open Inference Protocol for the same models is V2Service's). Routing and
 * loading are the catalog's; the runner runs the rows; the prediction log records them off the
 * request path.
 */
@Injectable()
export class MlService {
  private readonly logger = new Logger('MlService');
  private readonly startedAt = Date.now();

  constructor(
    private readonly config: AppConfig,
    private readonly catalog: ModelCatalog,
    private readonly runtime: ModelRuntime,
    private readonly runner: InferenceRunner,
    private readonly log: PredictionLog,
    private readonly records: PredictionRecords,
  ) {}

  /** `gone` gives the signal of the client going away; asked for only when a remote worker is called. */
  async predict(
    request: PredictRequestDto,
    principal: Principal,
    gone?: () => AbortSignal,
  ): Promise<PredictResponseDto> {
    const started = performance.now();
    const name = request.model ?? this.config.ML_DEFAULT_MODEL;
    this.checkFeatures(this.catalog.servedModel(name), request.features);
    const route = this.catalog.route(name, request.model_version, request.symbol || principalKey(principal));
    const served = await this.serveRow(route, request.symbol, request.features, gone);
    const latency = Math.round((performance.now() - started) * 1000) / 1000;
    const id = randomUUID();
    if (this.config.ML_RECORD_PREDICTIONS) {
      this.log.record({
        id,
        model_name: name,
        arm: route.arm.version,
        model_version: served.version,
        served_by: served.served_by,
        fallback: served.fallback_from !== undefined,
        symbol: request.symbol,
        direction: served.direction,
        confidence: served.confidence,
        expected_return: served.expected_return,
        latency_ms: latency,
        user_id: principal.userId,
        project_id: principal.kind === 'api_key' ? principal.projectId : null,
        api_key_id: principal.kind === 'api_key' ? principal.keyId : null,
        created_at: new Date(),
      });
    }
    const response: PredictResponseDto = {
      symbol: request.symbol,
      prediction: {
        direction: served.direction,
        confidence: served.confidence,
        expected_return: served.expected_return,
      },
      model_name: name,
      model_version: served.version,
      latency_ms: latency,
      prediction_id: id,
      served_by: served.served_by,
    };
    if (served.fallback_from !== undefined) {
      response.fallback = true;
      response.fallback_from = served.fallback_from;
    }
    return response;
  }

  /** Every item is validated and answered on its own, concurrently (so the micro-batchers stack them). */
  async predictBatch(
    items: unknown[],
    principal: Principal,
    gone?: () => AbortSignal,
  ): Promise<{ results: BatchItemResult[] }> {
    const limit = this.config.ML_PREDICT_BATCH_MAX_ITEMS;
    if (items.length > limit) {
      throw new AppError(
        'validation_failed',
        `Request is invalid: items must contain at most ${limit} entries (got ${items.length})`,
        {
          details: [{ field: 'items', messages: [`at most ${limit} entries`] }],
        },
      );
    }
    const results = await Promise.all(
      items.map(async (item, index): Promise<BatchItemResult> => {
        try {
          return await this.predict(validateBatchItem(PredictRequestDto, item, index), principal, gone);
        } catch (error) {
          const mapped = inferenceFailure(error);
          if (mapped instanceof AppError) return { error: mapped.code, message: mapped.message };
          this.logger.error({ err: error }, 'A batch item failed unexpectedly');
          return { error: 'internal_error', message: 'Internal server error' };
        }
      }),
    );
    return { results };
  }

  /** `healthy` once the models are served, `starting` before, `degraded` when one cannot be. */
  health(): MlHealthDto {
    const status = !this.catalog.isBootstrapped ? 'starting' : this.catalog.ready() ? 'healthy' : 'degraded';
    return {
      status,
      models_loaded: this.runtime.all().length,
      uptime_seconds: Math.round((Date.now() - this.startedAt) / 1000),
    };
  }

  /** The remote model workers (ML_REMOTE_WORKERS), for status pages. */
  remoteWorkers(): RemoteWorkerInfo[] {
    return this.catalog.remoteWorkers();
  }

  /** Records (or replaces) the outcome of a prediction made by the caller (or any, for an administrator). */
  async feedback(request: FeedbackRequestDto, principal: Principal): Promise<FeedbackResponseDto> {
    if (this.log.isPending(request.prediction_id)) await this.log.flush();
    const prediction = await this.records.find(request.prediction_id);
    const allowed =
      prediction &&
      ((principal.kind === 'user' && (principal.role === 'admin' || principal.userId === prediction.user_id)) ||
        (principal.kind === 'api_key' && principal.projectId === prediction.project_id));
    if (!allowed) throw new AppError('not_found', `Prediction ${request.prediction_id} not found`);
    const mapping = this.catalog.model(prediction.model_name)?.mapping;
    const realised = typeof request.outcome === 'number' ? request.outcome : null;
    const outcome = realised === null ? String(request.outcome) : directionOf(realised, mapping);
    const hit = outcome === prediction.direction;
    const absError =
      realised !== null && prediction.expected_return !== null ? Math.abs(prediction.expected_return - realised) : null;
    await this.records.saveFeedback({
      predictionId: request.prediction_id,
      outcomeDirection: outcome,
      outcomeReturn: realised,
      hit,
      absError,
    });
    return {
      prediction_id: request.prediction_id,
      model_name: prediction.model_name,
      model_version: prediction.model_version,
      arm: prediction.arm,
      predicted: prediction.direction,
      outcome,
      outcome_return: realised,
      hit,
      abs_error: absError,
    };
  }

  // ------------------------------------------------------------------ internals

  private checkFeatures(model: ServedModel, features: number[]): void {
    const expected = featureCount(model.input);
    if (expected !== undefined && features.length !== expected) {
      throw new AppError(
        'validation_failed',
        `Request is invalid: features must hold ${expected} values for model "${model.name}" (got ${features.length})`,
        { details: [{ field: 'features', messages: [`must hold ${expected} values`] }] },
      );
    }
    if (model.input.dtype === 'float32' && features.some((x) => Math.abs(x) > FLOAT32_MAX)) {
      throw new AppError('validation_failed', 'Request is invalid: features must fit in 32-bit floats', {
        details: [{ field: 'features', messages: ['must fit in 32-bit floats'] }],
      });
    }
  }

  private async serveRow(route: Route, symbol: string, features: number[], gone?: () => AbortSignal): Promise<Served> {
    if (route.local)
      return {
        ...(await this.runRow(route.local, route.model, features)),
        version: route.local.version,
        served_by: 'local',
      };
    const remote = route.remote!;
    const answered = await this.runner.tryRemote(route, () =>
      remote.predictRow({ symbol, features, input: route.model.input, mapping: route.model.mapping }, gone?.()),
    );
    if (answered) return { ...answered, version: route.arm.version, served_by: 'remote' };
    const fallback = route.fallback!;
    const row = await this.runRow(fallback, route.model, features);
    return { ...row, version: fallback.version, served_by: 'local', fallback_from: route.arm.version };
  }

  /** One row through a loaded copy: stacked with concurrent rows by its micro-batcher. */
  private async runRow(
    copy: LoadedVersion,
    model: ServedModel,
    features: number[],
  ): Promise<{ direction: string; confidence: number; expected_return: number | null }> {
    const data = model.input.dtype === 'float64' ? Float64Array.from(features) : Float32Array.from(features);
    const result = await this.runner.run(copy, { [model.input.name]: { data, dims: [1, features.length] } });
    return decodeRow(result.outputs, model.mapping);
  }
}

/** The /predict answer of one row of outputs. */
function decodeRow(
  outputs: TensorOutputs,
  mapping: OutputMapping,
): { direction: string; confidence: number; expected_return: number | null } {
  const probabilities = outputs[mapping.probabilities]?.data as ArrayLike<number> | undefined;
  const k = mapping.labels.length;
  if (!probabilities || probabilities.length < k)
    throw new AppError('internal_error', 'The model answered no class probabilities');
  let best = 0;
  for (let i = 1; i < k; i++) if (probabilities[i] > probabilities[best]) best = i;
  let expected: number | null = null;
  if (mapping.expected_return) {
    const er = outputs[mapping.expected_return]?.data as ArrayLike<number> | undefined;
    expected = er && er.length > 0 && Number.isFinite(er[0]) ? Number(er[0]) : null;
  }
  return { direction: mapping.labels[best], confidence: Number(probabilities[best]), expected_return: expected };
}

/** A realised return as a direction, with the model's label threshold. */
function directionOf(realised: number, mapping: OutputMapping | undefined): string {
  const threshold = mapping?.threshold ?? 0;
  if (realised > threshold) return 'BUY';
  if (realised < -threshold) return 'SELL';
  return 'HOLD';
}
