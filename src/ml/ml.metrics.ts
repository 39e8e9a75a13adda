import { Injectable } from '@nestjs/common';
import {
  InjectMetric,
  makeCounterProvider,
  makeGaugeProvider,
  makeHistogramProvider,
} from '@willsoto/nestjs-prometheus';
import { Counter, Gauge, Histogram } from 'prom-client';
import { BREAKER_GAUGE, type BreakerState } from '../common/upstream/breaker';

export const ML_INFERENCE_DURATION = 'conflux_ml_inference_duration_seconds';
export const ML_INFERENCES = 'conflux_ml_inferences_total';
export const ML_BATCH_SIZE = 'conflux_ml_batch_size';
export const ML_QUEUE_WAIT = 'conflux_ml_queue_wait_seconds';
export const ML_AB_ASSIGNMENTS = 'conflux_ml_ab_assignments_total';
export const ML_REMOTE_BREAKER = 'conflux_ml_remote_breaker_state';
export const ML_REMOTE_FALLBACKS = 'conflux_ml_remote_fallbacks_total';
export const ML_MODELS_LOADED = 'conflux_ml_models_loaded';
export const ML_PREDICTIONS_DROPPED = 'conflux_ml_prediction_records_dropped_total';

/**
 * Label values are registry model names and version ids (bounded by what administrators register),
 * the serving path and fixed outcome words; never a symbol, a key or anything a caller chooses freely.
 */
export const ML_METRIC_PROVIDERS = [
  makeHistogramProvider({
    name: ML_INFERENCE_DURATION,
    help: 'Time to answer one inference (queue wait and run included), by model, version and where it ran',
    labelNames: ['model', 'version', 'served_by'],
    buckets: [0.0002, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1, 2.5],
  }),
  makeCounterProvider({
    name: ML_INFERENCES,
    help: 'Inference requests by model, version, where they ran and outcome (ok or error)',
    labelNames: ['model', 'version', 'served_by', 'outcome'],
  }),
  makeHistogramProvider({
    name: ML_BATCH_SIZE,
    help: 'Rows per dispatched micro-batch',
    labelNames: ['model', 'version'],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
  }),
  makeHistogramProvider({
    name: ML_QUEUE_WAIT,
    help: 'Time a request waited in the micro-batcher before its batch was dispatched',
    labelNames: ['model', 'version'],
    buckets: [0.00005, 0.0001, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
  }),
  makeCounterProvider({
    name: ML_AB_ASSIGNMENTS,
    help: 'Requests routed to each arm (version) of a model, split or not',
    labelNames: ['model', 'arm'],
  }),
  makeGaugeProvider({
    name: ML_REMOTE_BREAKER,
    help: 'Circuit breaker of each remote model worker: 0 closed, 1 half-open, 2 open',
    labelNames: ['model', 'version'],
  }),
  makeCounterProvider({
    name: ML_REMOTE_FALLBACKS,
    help: 'Requests for a remotely served version answered by the local fallback, by reason',
    labelNames: ['model', 'version', 'reason'],
  }),
  makeGaugeProvider({
    name: ML_MODELS_LOADED,
    help: 'Model versions loaded in the inference workers',
    labelNames: [],
  }),
  makeCounterProvider({
    name: ML_PREDICTIONS_DROPPED,
    help: 'Prediction records dropped because the write buffer was full (Postgres unavailable for long)',
    labelNames: [],
  }),
];

@Injectable()
export class MlMetrics {
  constructor(
    @InjectMetric(ML_INFERENCE_DURATION) private readonly duration: Histogram<string>,
    @InjectMetric(ML_INFERENCES) private readonly inferences: Counter<string>,
    @InjectMetric(ML_BATCH_SIZE) private readonly batchSize: Histogram<string>,
    @InjectMetric(ML_QUEUE_WAIT) private readonly queueWait: Histogram<string>,
    @InjectMetric(ML_AB_ASSIGNMENTS) private readonly assignments: Counter<string>,
    @InjectMetric(ML_REMOTE_BREAKER) private readonly breaker: Gauge<string>,
    @InjectMetric(ML_REMOTE_FALLBACKS) private readonly fallbacks: Counter<string>,
    @InjectMetric(ML_MODELS_LOADED) private readonly loaded: Gauge<string>,
    @InjectMetric(ML_PREDICTIONS_DROPPED) private readonly dropped: Counter<string>,
  ) {}

  inference(model: string, version: string, servedBy: 'local' | 'remote', seconds: number, ok: boolean): void {
    if (ok) this.duration.observe({ model, version, served_by: servedBy }, seconds);
    this.inferences.inc({ model, version, served_by: servedBy, outcome: ok ? 'ok' : 'error' });
  }

  batch(model: string, version: string, rows: number): void {
    this.batchSize.observe({ model, version }, rows);
  }

  waited(model: string, version: string, seconds: number): void {
    this.queueWait.observe({ model, version }, seconds);
  }

  assigned(model: string, arm: string): void {
    this.assignments.inc({ model, arm });
  }

  remoteBreaker(model: string, version: string, state: BreakerState): void {
    this.breaker.set({ model, version }, BREAKER_GAUGE[state]);
  }

  remoteFallback(model: string, version: string, reason: string): void {
    this.fallbacks.inc({ model, version, reason });
  }

  modelsLoaded(count: number): void {
    this.loaded.set(count);
  }

  recordsDropped(count: number): void {
    this.dropped.inc(count);
  }
}
