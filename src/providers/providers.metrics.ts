import { Injectable } from '@nestjs/common';
import {
  InjectMetric,
  makeCounterProvider,
  makeGaugeProvider,
  makeHistogramProvider,
} from '@willsoto/nestjs-prometheus';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { BREAKER_GAUGE, type BreakerState } from '../common/upstream/breaker';
import type { AttemptOutcome } from '../common/upstream/upstream-endpoint';

export const UPSTREAM_REQUESTS = 'conflux_upstream_requests_total';
export const UPSTREAM_DURATION = 'conflux_upstream_request_duration_seconds';
export const UPSTREAM_RETRIES = 'conflux_upstream_retries_total';
/** The name and values the replaced services' dashboards query (`circuit_breaker_state{provider="openai"}`). */
export const BREAKER_STATE = 'circuit_breaker_state';
export const PROVIDER_ERRORS = 'conflux_provider_errors_total';
export const PROBE_UP = 'conflux_upstream_probe_up';
export const AUTH_FAILURES = 'conflux_upstream_auth_failures_total';

const DEFINITIONS = {
  requests: {
    name: UPSTREAM_REQUESTS,
    help: 'Upstream attempts by instance, model and outcome (success or the error class)',
    labelNames: ['provider', 'model', 'outcome'],
  },
  duration: {
    name: UPSTREAM_DURATION,
    help: 'Upstream attempt duration (streams: until the stream ended) by instance and model',
    labelNames: ['provider', 'model'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300],
  },
  retries: {
    name: UPSTREAM_RETRIES,
    help: 'Retries of upstream calls on the same instance',
    labelNames: ['provider'],
  },
  errors: {
    name: PROVIDER_ERRORS,
    help: 'Failed upstream attempts by instance, its kind and the error class',
    labelNames: ['provider', 'kind', 'class'],
  },
  breaker: {
    name: BREAKER_STATE,
    help: 'Circuit breaker state per instance (and its kind): 0 closed, 1 half-open, 2 open',
    labelNames: ['provider', 'kind'],
  },
  probe: {
    name: PROBE_UP,
    help: 'Whether the last background probe of the instance succeeded (1) or not (0)',
    labelNames: ['provider'],
  },
  authFailures: {
    name: AUTH_FAILURES,
    help: "Calls the instance refused with 401 or 403: the gateway's credentials for it are wrong",
    labelNames: ['provider'],
  },
} as const;

export const providerMetricProviders = [
  makeCounterProvider({ ...DEFINITIONS.requests, labelNames: [...DEFINITIONS.requests.labelNames] }),
  makeHistogramProvider({
    ...DEFINITIONS.duration,
    labelNames: [...DEFINITIONS.duration.labelNames],
    buckets: [...DEFINITIONS.duration.buckets],
  }),
  makeCounterProvider({ ...DEFINITIONS.retries, labelNames: [...DEFINITIONS.retries.labelNames] }),
  makeCounterProvider({ ...DEFINITIONS.errors, labelNames: [...DEFINITIONS.errors.labelNames] }),
  makeGaugeProvider({ ...DEFINITIONS.breaker, labelNames: [...DEFINITIONS.breaker.labelNames] }),
  makeGaugeProvider({ ...DEFINITIONS.probe, labelNames: [...DEFINITIONS.probe.labelNames] }),
  makeCounterProvider({ ...DEFINITIONS.authFailures, labelNames: [...DEFINITIONS.authFailures.labelNames] }),
];

/** Who an instance is, in every metric that names its kind: its id (`provider`) and its kind. */
export interface InstanceLabels {
  provider: string;
  kind: string;
}

/**
 * The providers module's metrics. Labels are instance ids and declared model names only,
 * never URLs or secrets.
 */
@Injectable()
export class ProviderMetrics {
  constructor(
    @InjectMetric(UPSTREAM_REQUESTS) private readonly requests: Counter<string>,
    @InjectMetric(UPSTREAM_DURATION) private readonly duration: Histogram<string>,
    @InjectMetric(UPSTREAM_RETRIES) private readonly retries: Counter<string>,
    @InjectMetric(PROVIDER_ERRORS) private readonly errors: Counter<string>,
    @InjectMetric(BREAKER_STATE) private readonly breaker: Gauge<string>,
    @InjectMetric(PROBE_UP) private readonly probe: Gauge<string>,
    @InjectMetric(AUTH_FAILURES) private readonly authFailures: Counter<string>,
  ) {}

  /** The same metrics in a registry of their own (tests, tools). */
  static inRegistry(registry: Registry): ProviderMetrics {
    const registers = [registry];
    return new ProviderMetrics(
      new Counter({ ...DEFINITIONS.requests, labelNames: [...DEFINITIONS.requests.labelNames], registers }),
      new Histogram({
        ...DEFINITIONS.duration,
        labelNames: [...DEFINITIONS.duration.labelNames],
        buckets: [...DEFINITIONS.duration.buckets],
        registers,
      }),
      new Counter({ ...DEFINITIONS.retries, labelNames: [...DEFINITIONS.retries.labelNames], registers }),
      new Counter({ ...DEFINITIONS.errors, labelNames: [...DEFINITIONS.errors.labelNames], registers }),
      new Gauge({ ...DEFINITIONS.breaker, labelNames: [...DEFINITIONS.breaker.labelNames], registers }),
      new Gauge({ ...DEFINITIONS.probe, labelNames: [...DEFINITIONS.probe.labelNames], registers }),
      new Counter({ ...DEFINITIONS.authFailures, labelNames: [...DEFINITIONS.authFailures.labelNames], registers }),
    );
  }

  /** One attempt; a failed one also counts in the provider errors, by its error class. */
  attempt({ provider, kind }: InstanceLabels, model: string, outcome: AttemptOutcome, seconds?: number): void {
    this.requests.inc({ provider, model, outcome });
    if (outcome !== 'success') this.errors.inc({ provider, kind, class: outcome });
    if (outcome === 'auth_failed') this.authFailures.inc({ provider });
    if (seconds !== undefined) this.duration.observe({ provider, model }, seconds);
  }

  retried(provider: string): void {
    this.retries.inc({ provider });
  }

  breakerState(instance: InstanceLabels, state: BreakerState): void {
    this.breaker.set({ provider: instance.provider, kind: instance.kind }, BREAKER_GAUGE[state]);
  }

  probed(provider: string, up: boolean): void {
    this.probe.set({ provider }, up ? 1 : 0);
  }
}
