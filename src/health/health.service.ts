import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import type { HealthCheckResult, HealthIndicatorResult } from '@nestjs/terminus';
import { AppError } from '../common/errors/app-error';
import { DatabaseHealthIndicator } from '../database/database.health';
import { ShutdownService } from '../lifecycle/shutdown.service';
import { ForecastingService } from '../forecasting/forecasting.service';
import { MlService } from '../ml/ml.service';
import { ProvidersService } from '../providers/providers.service';
import { RedisHealthIndicator } from '../redis/redis.health';
import { VERSION } from '../version';
import type { HealthSummaryDto } from './dto/health-summary.dto';
import { ReadinessService } from './readiness.service';
import { servicesOf, workerStatus } from './service-status';

/**
 * The one implementation of health: liveness, readiness (the terminus check) and the summary. The
 * health routes and the replaced services' health routes (compat module) all answer from it.
 */
@Injectable()
export class HealthService {
  private readonly startedAt = Date.now();

  constructor(
    private readonly readiness: ReadinessService,
    private readonly database: DatabaseHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly shutdown: ShutdownService,
    private readonly providers: ProvidersService,
    private readonly ml: MlService,
    private readonly forecasting: ForecastingService,
  ) {}

  /** Whole seconds since the process started serving. */
  uptimeSeconds(): number {
    return Math.round((Date.now() - this.startedAt) / 1000);
  }

  /** Liveness: the process answers. Never touches a dependency. */
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * Readiness (ReadinessService: Postgres and Redis answer, the process is not draining). Not ready: an AppError
   * `service_unavailable` (503) whose details are terminus' result.
   */
  async ready(): Promise<HealthCheckResult> {
    try {
      return await this.readiness.check();
    } catch (err) {
      if (!(err instanceof ServiceUnavailableException)) throw err;
      const result = err.getResponse() as HealthCheckResult;
      const down = Object.keys(result.error ?? {}).join(', ');
      throw new AppError('service_unavailable', `Not ready: ${down}`, { details: result });
    }
  }

  /**
   * Status, version, uptime, ML models, upstream services and dependencies. The upstream services'
   * status is the background probes' and breakers' (no upstream is called here); the overall status
   * is the dependencies' (Postgres, Redis) and the lifecycle's.
   */
  async summary(): Promise<HealthSummaryDto> {
    const [database, redis] = await Promise.all([
      this.database.check().then(checkedNow),
      this.redis.check().then(checkedNow),
    ]);
    const dependencies = { ...database, ...redis };
    const allUp = Object.values(dependencies).every((d) => d.status === 'up');
    const draining = this.shutdown.isDraining;
    return {
      status: draining ? 'draining' : allUp ? 'healthy' : 'degraded',
      ok: !draining,
      version: VERSION,
      uptime_seconds: this.uptimeSeconds(),
      models_loaded: this.ml.health().models_loaded,
      services: servicesOf(this.providers.instances()),
      workers: {
        ml: this.ml.remoteWorkers().map(workerStatus),
        forecasting: this.forecasting.remoteWorkers().map(workerStatus),
      },
      timestamp: new Date().toISOString(),
      dependencies,
    };
  }
}

/** A check's result with the time it ended (`checked_at`, ISO 8601) added to each indicator. */
function checkedNow(result: HealthIndicatorResult): HealthIndicatorResult {
  const checkedAt = new Date().toISOString();
  return Object.fromEntries(Object.entries(result).map(([key, state]) => [key, { ...state, checked_at: checkedAt }]));
}
