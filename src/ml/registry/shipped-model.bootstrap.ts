import { Injectable, Logger } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import { SIGNAL_MODEL_NAME, shippedSignalModelFiles } from '../shipped/shipped-model';
import type { MlModelVersionEntity } from './entities';
import { ModelRegistry } from './model-registry';
import { fileDigest, ModelStore } from './model-store';
import { NAME_PATTERN, type InputSignature, type OutputMapping } from './registry.types';

/** The parts of the shipped model's sidecar (signal-model.json) the registry uses. */
interface Sidecar {
  name?: string;
  version?: string;
  task?: string;
  sha256?: string;
  inputs?: { name: string; dtype: string; shape: number[]; feature_names?: string[] }[];
  outputs?: { name: string; dtype: string; shape: number[]; labels?: string[] }[];
  label?: { threshold?: number };
  metrics?: Record<string, unknown>;
  training_data?: { dataset?: string };
}

/**
 * The trading-signal model that ships with the service (src/ml/shipped/signal-model.onnx and its
 * sidecar): registered in production on first start when the registry has no model of that name, and
 * put back into the store when its artifact went missing.
 */
@Injectable()
export class ShippedModel {
  private readonly logger = new Logger('ShippedModel');

  constructor(
    private readonly registry: ModelRegistry,
    private readonly store: ModelStore,
  ) {}

  /** Registers the shipped model unless a model of its name exists. */
  async ensureRegistered(): Promise<void> {
    if (await this.registry.find(SIGNAL_MODEL_NAME)) return;
    const files = shippedSignalModelFiles();
    const sidecar = JSON.parse(await readFile(files.sidecar, 'utf8')) as Sidecar;
    const fields = modelFields(sidecar);
    const version =
      sidecar.version && NAME_PATTERN.test(sidecar.version) && sidecar.version !== 'latest' ? sidecar.version : '1';
    const incoming = await this.store.stage(files.onnx);
    try {
      const digest = await fileDigest(incoming);
      if (sidecar.sha256 && sidecar.sha256 !== digest.sha256) {
        this.logger.warn(`The shipped model's sidecar names sha256 ${sidecar.sha256}, the file has ${digest.sha256}`);
      }
      const artifactPath = this.store.artifactPath(SIGNAL_MODEL_NAME, version);
      const created = await this.registry.createModelWithVersion(
        fields,
        {
          version,
          artifactPath,
          sha256: digest.sha256,
          sizeBytes: digest.size,
          metrics: sidecar.metrics ?? {},
          description: sidecar.training_data?.dataset
            ? `Shipped model, trained on ${sidecar.training_data.dataset}`.slice(0, 1000)
            : 'Shipped model',
          stage: 'production',
        },
        () => this.store.commit(incoming, artifactPath),
      );
      if (created) this.logger.log(`Registered the shipped model ${SIGNAL_MODEL_NAME}@${version} in production`);
    } finally {
      await this.store.removeIncoming(incoming);
    }
  }

  /**
   * Puts the shipped artifact back at a version's path when the version is the shipped file (same
   * sha256) and the store lost it. Resolves true when it did.
   */
  async restore(model: string, version: MlModelVersionEntity): Promise<boolean> {
    if (model !== SIGNAL_MODEL_NAME || (await this.store.exists(version.artifactPath))) return false;
    let files;
    try {
      files = shippedSignalModelFiles();
    } catch {
      return false;
    }
    if ((await fileDigest(files.onnx)).sha256 !== version.sha256) return false;
    const incoming = await this.store.stage(files.onnx);
    try {
      await this.store.commit(incoming, version.artifactPath);
    } finally {
      await this.store.removeIncoming(incoming);
    }
    this.logger.warn(`Restored the missing artifact of ${model}@${version.version} from the shipped model`);
    return true;
  }
}

function modelFields(sidecar: Sidecar): {
  name: string;
  task: string;
  inputSignature: InputSignature;
  outputMapping: OutputMapping;
} {
  const input = sidecar.inputs?.[0];
  const probabilities = sidecar.outputs?.find((o) => Array.isArray(o.labels));
  if (!input || !probabilities?.labels) throw new Error('the shipped model sidecar lacks its input or class labels');
  const expected = sidecar.outputs?.find((o) => o.name === 'expected_return');
  return {
    name: SIGNAL_MODEL_NAME,
    task: (sidecar.task ?? 'classification').slice(0, 500),
    inputSignature: {
      name: input.name,
      dtype: input.dtype === 'float64' ? 'float64' : 'float32',
      shape: input.shape,
      ...(input.feature_names ? { feature_names: input.feature_names } : {}),
    },
    outputMapping: {
      probabilities: probabilities.name,
      labels: probabilities.labels,
      ...(expected ? { expected_return: expected.name } : {}),
      ...(typeof sidecar.label?.threshold === 'number' ? { threshold: sidecar.label.threshold } : {}),
    },
  };
}
