import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult } from '@nestjs/terminus';
import { NoRateLimit } from '../rate-limit/rate-limit.guard';
import type { Response } from 'express';
import { Public } from '../common/auth/decorators';
import { HealthSummaryDto, ServiceHealthDto } from './dto/health-summary.dto';
import { HealthService } from './health.service';

@ApiTags('health')
@ApiExtraModels(ServiceHealthDto)
@Public()
@NoRateLimit()
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** Liveness: the process answers. Never touches a dependency. */
  @Get('live')
  @HttpCode(200)
  @ApiOkResponse({ description: 'The process is alive' })
  live(): { status: 'ok' } {
    return this.health.live();
  }

  /** Readiness: Postgres and Redis answer, and the process is not shutting down. */
  @Get('ready')
  @HealthCheck()
  @ApiOkResponse({ description: 'Ready for traffic' })
  @ApiServiceUnavailableResponse({ description: 'A dependency is down, or the process is draining' })
  ready(): Promise<HealthCheckResult> {
    return this.health.ready();
  }

  /** Summary for people, dashboards and the replaced services' probes: always 200 unless the process is broken. */
  @Get()
  @ApiOkResponse({
    type: HealthSummaryDto,
    description: 'Status, version, uptime, ML models, upstream services (from background probes) and dependencies',
  })
  summary(@Res({ passthrough: true }) res: Response): Promise<HealthSummaryDto> {
    res.setHeader('Cache-Control', 'no-store');
    return this.health.summary();
  }
}
