import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { InjectMetric, makeGaugeProvider } from '@willsoto/nestjs-prometheus';
import type { Gauge } from 'prom-client';
import { DatabaseHealthIndicator } from '../database/database.health';
import { ShutdownService } from '../lifecycle/shutdown.service';
import { RedisHealthIndicator } from '../redis/redis.health';

export const READY = 'conflux_ready';
export const DEPENDENCY_UP = 'conflux_dependency_up';

/** How often readiness is evaluated in the background, so that conflux_ready stays fresh without probes. */
export const READINESS_REFRESH_MS = 5_000;

/** The dependencies readiness checks, by the key of their health indicator. */
const DEPENDENCIES = { database: 'postgres', redis: 'redis' } as const;

export const READINESS_METRIC_PROVIDERS = [
  makeGaugeProvider({
    name: READY,
    help: `1 when the last readiness evaluation passed (every ${READINESS_REFRESH_MS / 1000} s and at each /health/ready), else 0`,
  }),
  makeGaugeProvider({
    name: DEPENDENCY_UP,
    help: 'Whether the last readiness evaluation reached the dependency (1) or not (0): postgres, redis',
    labelNames: ['dependency'],
  }),
];

/**
 * Readiness: the process is not draining, and Postgres and Redis answer (each check bounded by
 * HEALTH_CHECK_TIMEOUT_MS). Evaluated by every /health/ready and in the background every
 * READINESS_REFRESH_MS; each evaluation sets conflux_ready and conflux_dependency_up.
 */
@Injectable()
export class ReadinessService implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly database: DatabaseHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly shutdown: ShutdownService,
    @InjectMetric(READY) private readonly ready: Gauge<string>,
    @InjectMetric(DEPENDENCY_UP) private readonly dependencyUp: Gauge<string>,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.refresh(), READINESS_REFRESH_MS).unref();
    void this.refresh();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Evaluates readiness; throws terminus's ServiceUnavailableException when not ready. */
  async check(): Promise<HealthCheckResult> {
    try {
      const result = await this.health.check([
        () => {
          const indicator = this.indicators.check('lifecycle');
          return this.shutdown.isDraining ? indicator.down({ state: 'draining' }) : indicator.up({ state: 'serving' });
        },
        () => this.database.check(),
        () => this.redis.check(),
      ]);
      this.record(result);
      return result;
    } catch (err) {
      const result = (err as { getResponse?: () => unknown }).getResponse?.() as HealthCheckResult | undefined;
      this.record(result);
      throw err;
    }
  }

  private async refresh(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.check();
    } catch {
      // Recorded as not ready; the probes report the details.
    } finally {
      this.running = false;
    }
  }

  private record(result: HealthCheckResult | undefined): void {
    this.ready.set(result?.status === 'ok' ? 1 : 0);
    for (const [key, dependency] of Object.entries(DEPENDENCIES)) {
      this.dependencyUp.set({ dependency }, result?.details?.[key]?.status === 'up' ? 1 : 0);
    }
  }
}
