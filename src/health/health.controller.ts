import { Controller, Get, HttpCode, Res, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult } from '@nestjs/terminus';
import { NoRateLimit } from '../rate-limit/rate-limit.guard';
import type { Response } from 'express';
import { Public } from '../common/auth/decorators';
import { AppError } from '../common/errors/app-error';
import { DatabaseHealthIndicator } from '../database/database.health';
import { ShutdownService } from '../lifecycle/shutdown.service';
import { RedisHealthIndicator } from '../redis/redis.health';
import { VERSION } from '../version';
import { ReadinessService } from './readiness.service';

@ApiTags('health')
@Public()
@NoRateLimit()
@Controller('health')
export class HealthController {
  private readonly startedAt = Date.now();

  constructor(
    private readonly readiness: ReadinessService,
    private readonly database: DatabaseHealthIndicator,
    private readonly redis: RedisHealthIndicator,
    private readonly shutdown: ShutdownService,
  ) {}

  /** Liveness: the process answers. Never touches a dependency. */
  @Get('live')
  @HttpCode(200)
  @ApiOkResponse({ description: 'The process is alive' })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: Postgres and Redis answer, and the process is not shutting down. */
  @Get('ready')
  @HealthCheck()
  @ApiOkResponse({ description: 'Ready for traffic' })
  @ApiServiceUnavailableResponse({ description: 'A dependency is down, or the process is draining' })
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

  /** Summary for people and dashboards: always 200 unless the process is broken. */
  @Get()
  @ApiOkResponse({ description: 'Status, version, uptime and each dependency' })
  async summary(@Res({ passthrough: true }) res: Response): Promise<Record<string, unknown>> {
    const [database, redis] = await Promise.all([this.database.check(), this.redis.check()]);
    const dependencies = { ...database, ...redis };
    const allUp = Object.values(dependencies).every((d) => d.status === 'up');
    const status = this.shutdown.isDraining ? 'draining' : allUp ? 'ok' : 'degraded';
    res.setHeader('Cache-Control', 'no-store');
    return {
      status,
      version: VERSION,
      uptime_seconds: Math.round((Date.now() - this.startedAt) / 1000),
      dependencies,
    };
  }
}
