import { Injectable } from '@nestjs/common';
import { AppError } from '../../common/errors/app-error';
import { UpstreamError } from '../../common/upstream/upstream-error';
import { BatcherClosedError, type BatchedResult, type TensorInputs } from '../inference';
import { MlMetrics } from '../ml.metrics';
import type { MlModelVersionEntity } from '../registry/entities';
import { inferenceFailure } from './inference-errors';
import type { Route } from './model-catalog';
import { type LoadedVersion, ModelRuntime } from './model-runtime';

/**
 * One inference call on a routed version, local or remote, timed in the inference metrics: the step
 * /predict and the Open Inference Protocol (V2) share once they have parsed their requests.
 */
@Injectable()
export class InferenceRunner {
  constructor(
    private readonly runtime: ModelRuntime,
    private readonly metrics: MlMetrics,
  ) {}

  /** Submits to the copy's batcher; a copy swapped out by a reload in between is replaced by the new one. */
  async run(copy: LoadedVersion, inputs: TensorInputs): Promise<BatchedResult> {
    const started = performance.now();
    try {
      let result: BatchedResult;
      try {
        result = await this.runtime.submit(copy, inputs);
      } catch (error) {
        const current = this.runtime.get(copy.versionId);
        if (!(error instanceof BatcherClosedError) || !current || current === copy) throw error;
        result = await this.runtime.submit(current, inputs);
      }
      this.metrics.inference(copy.model, copy.version, 'local', (performance.now() - started) / 1000, true);
      return result;
    } catch (error) {
      this.metrics.inference(copy.model, copy.version, 'local', (performance.now() - started) / 1000, false);
      throw inferenceFailure(error);
    }
  }

  /**
   * One call to the route's remote worker, timed in the inference metrics. A worker failure counts
   * a fallback and resolves to undefined when the local fallback may serve, else throws 503.
   */
  async tryRemote<T>(route: Route, call: () => Promise<T>): Promise<T | undefined> {
    const name = route.model.name;
    const version = route.arm.version;
    const started = performance.now();
    try {
      const answer = await call();
      this.metrics.inference(name, version, 'remote', (performance.now() - started) / 1000, true);
      return answer;
    } catch (error) {
      if (!(error instanceof UpstreamError)) throw error;
      this.metrics.inference(name, version, 'remote', (performance.now() - started) / 1000, false);
      this.metrics.remoteFallback(name, version, error.errorClass);
      if (!route.fallback) throw this.noFallback(name, route.arm, error);
      return undefined;
    }
  }

  private noFallback(name: string, arm: MlModelVersionEntity, error: UpstreamError): AppError {
    return new AppError(
      'service_unavailable',
      `The remote worker of ${name}@${arm.version} cannot answer (${error.message}) and no local fallback is loaded`,
      { headers: { 'Retry-After': '1' } },
    );
  }
}
