import { Injectable } from '@nestjs/common';
import type { Principal } from '../../common/auth/principal';
import { AppError } from '../../common/errors/app-error';
import { ShutdownService } from '../../lifecycle/shutdown.service';
import { VERSION } from '../../version';
import type { V2InferResponseDto, V2ModelMetadataDto, V2ServerMetadataDto, V2TensorMetadataDto } from '../dto/v2.dto';
import { parseV2Request, toTensorInputs, toV2Outputs, v2Datatype, type V2InferRequest } from '../inference/v2-tensors';
import { MlMetrics } from '../ml.metrics';
import type { MlModelVersionEntity } from '../registry/entities';
import { principalKey } from '../serving/ab-router';
import { InferenceRunner } from '../serving/inference-runner';
import { ModelCatalog, type ServedModel } from '../serving/model-catalog';
import { type LoadedVersion, ModelRuntime } from '../serving/model-runtime';

/**
 * The Open Inference Protocol (V2) for the models /predict serves: server and model health, metadata,
 * and inference with JSON tensors, routed like /predict (A/B split, remote workers and their fallbacks).
 */
@Injectable()
export class V2Service {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly runtime: ModelRuntime,
    private readonly runner: InferenceRunner,
    private readonly metrics: MlMetrics,
    private readonly shutdown: ShutdownService,
  ) {}

  serverMetadata(): V2ServerMetadataDto {
    return { name: 'conflux', version: VERSION, extensions: [] };
  }

  live(): boolean {
    return true;
  }

  ready(): boolean {
    return !this.shutdown.isDraining && this.catalog.ready();
  }

  modelMetadata(name: string, version?: string): V2ModelMetadataDto {
    const model = this.catalog.servedModel(name);
    const target = version === undefined ? this.defaultVersion(model) : this.catalog.versionOf(model, version);
    const copy = target ? this.localCopyFor(model, target) : undefined;
    let inputs: V2TensorMetadataDto[];
    let outputs: V2TensorMetadataDto[];
    if (copy) {
      inputs = copy.signature.inputs.map((s) => ({ name: s.name, datatype: v2Datatype(s.type), shape: s.shape }));
      outputs = copy.signature.outputs.map((s) => ({ name: s.name, datatype: v2Datatype(s.type), shape: s.shape }));
    } else {
      inputs = [{ name: model.input.name, datatype: v2Datatype(model.input.dtype), shape: model.input.shape }];
      outputs = [{ name: model.mapping.probabilities, datatype: 'FP32', shape: [-1, model.mapping.labels.length] }];
      if (model.mapping.expected_return)
        outputs.push({ name: model.mapping.expected_return, datatype: 'FP32', shape: [-1, 1] });
    }
    const versions = model.entry.versions
      .filter((v) => this.runtime.get(v.id) || this.catalog.remote(name, v.version))
      .map((v) => v.version);
    return { name, versions, platform: 'onnxruntime_onnx', inputs, outputs };
  }

  modelReady(name: string, version?: string): boolean {
    const model = this.catalog.servedModel(name);
    const targets =
      version !== undefined
        ? [this.catalog.versionOf(model, version)]
        : model.arms.length > 0
          ? model.arms.map((a) => a.version)
          : model.production
            ? [model.production]
            : [];
    return (
      targets.length > 0 &&
      targets.every((v) => this.localCopyFor(model, v) !== undefined || this.remoteUsable(model, v))
    );
  }

  async infer(
    name: string,
    version: string | undefined,
    body: unknown,
    principal: Principal,
    signal?: AbortSignal,
  ): Promise<V2InferResponseDto> {
    const request = parseV2Request(body);
    const routingKey = request.parameters?.routing_key;
    const key = typeof routingKey === 'string' && routingKey !== '' ? routingKey : principalKey(principal);
    const route = this.catalog.route(name, version, key);
    if (route.local) return this.local(route.local, request, name);
    const remote = route.remote!;
    if (remote.setting.protocol === 'v2') {
      const answer = await this.runner.tryRemote(route, () =>
        remote.inferV2(
          {
            ...(request.id !== undefined ? { id: request.id } : {}),
            inputs: request.inputs,
            ...(request.outputs ? { outputs: request.outputs } : {}),
          },
          signal,
        ),
      );
      if (answer) {
        return {
          model_name: name,
          model_version: route.arm.version,
          ...(request.id !== undefined ? { id: request.id } : {}),
          parameters: { served_by: 'remote' },
          outputs: answer.outputs,
        };
      }
    } else {
      this.metrics.remoteFallback(name, route.arm.version, 'protocol');
      if (!route.fallback) {
        throw new AppError(
          'service_unavailable',
          `Version "${route.arm.version}" is served by a /predict worker and has no local fallback`,
        );
      }
    }
    const answer = await this.local(route.fallback!, request, name);
    answer.parameters = { served_by: 'local', fallback: true, fallback_from: route.arm.version };
    return answer;
  }

  private async local(copy: LoadedVersion, request: V2InferRequest, name: string): Promise<V2InferResponseDto> {
    const order = copy.signature.outputs.map((o) => o.name);
    for (const wanted of request.outputs ?? []) {
      if (!order.includes(wanted.name)) {
        throw new AppError(
          'validation_failed',
          `Unknown output "${wanted.name}"; the model has ${order.map((n) => `"${n}"`).join(', ')}`,
        );
      }
    }
    const inputs = toTensorInputs(request, copy.signature);
    const result = await this.runner.run(copy, inputs);
    return {
      model_name: name,
      model_version: copy.version,
      ...(request.id !== undefined ? { id: request.id } : {}),
      outputs: toV2Outputs(result.outputs, order, request.outputs),
    };
  }

  private defaultVersion(model: ServedModel): MlModelVersionEntity | undefined {
    return model.production ?? model.arms[0]?.version;
  }

  /** The loaded copy answering for a version: its own, or the fallback of its remote worker. */
  private localCopyFor(model: ServedModel, version: MlModelVersionEntity): LoadedVersion | undefined {
    const own = this.runtime.get(version.id);
    if (own) return own;
    const remote = this.catalog.remote(model.name, version.version);
    const fallback = remote ? this.catalog.fallbackOf(model, version, remote) : undefined;
    return fallback ? this.runtime.get(fallback.id) : undefined;
  }

  private remoteUsable(model: ServedModel, version: MlModelVersionEntity): boolean {
    const remote = this.catalog.remote(model.name, version.version);
    return remote !== undefined && remote.state !== 'open';
  }
}
