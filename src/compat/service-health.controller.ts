import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiFoundResponse, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { HealthCheckResult } from '@nestjs/terminus';
import type { Request, Response } from 'express';
import { Public } from '../common/auth/decorators';
import { answerFor, sendAnswer } from '../common/errors/all-exceptions.filter';
import { AppError } from '../common/errors/app-error';
import { ErrorBodyDto } from '../common/http/error-body.dto';
import { HealthSummaryDto } from '../health/dto/health-summary.dto';
import { HealthService } from '../health/health.service';
import { LlmStats } from '../llm/llm.api';
import { GpuMetricsService } from '../metrics/gpu-metrics.service';
import { SystemMetricsService } from '../metrics/system-metrics.service';
import { NoRateLimit } from '../rate-limit/rate-limit.guard';
import { VERSION } from '../version';
import {
  ProductionHealthLiveDto,
  ProductionHealthReadyDto,
  ProductionMetricsDto,
  ServiceInfoDto,
} from './dto/service-health.dto';
import { gpuReadiness, productionMetrics, serviceInformation } from './service-health.format';

/** Where a browser asking for `/` is sent: the web console. */
const CONSOLE_PATH = '/console/';

/**
 * The health, status and service-information routes of the replaced services, answered from the
 * health module's HealthService (one implementation of health) and the metrics module's host and GPU
 * figures. Public, like Conflux's own probes.
 */
@ApiTags('compat')
@Public()
@NoRateLimit()
@Controller()
export class ServiceHealthController {
  constructor(
    private readonly health: HealthService,
    private readonly gpu: GpuMetricsService,
    private readonly system: SystemMetricsService,
    private readonly stats: LlmStats,
  ) {}

  /**
   * vLLM + Ollama service: `GET /`, the service's information, for programs. A browser (an Accept header
   * that prefers HTML to JSON) is sent to the web console instead.
   */
  @Get()
  @ApiOperation({
    summary: 'Service information: name, version, documentation and main endpoints',
    description:
      `JSON for programs (Accept JSON, \`*/*\` or none). When the Accept header prefers text/html to JSON (a ` +
      `browser), 302 to the web console, \`${CONSOLE_PATH}\`.`,
  })
  @ApiOkResponse({ type: ServiceInfoDto })
  @ApiFoundResponse({ description: `A browser: to the web console (Location: ${CONSOLE_PATH})` })
  info(@Req() req: Request, @Res() res: Response): void {
    res.setHeader('Vary', 'Accept');
    if (req.headers.accept !== undefined && req.accepts(['application/json', 'text/html']) === 'text/html') {
      res.redirect(302, CONSOLE_PATH);
      return;
    }
    res.status(200).json(serviceInformation(VERSION));
  }

  /**
   * vLLM + Ollama service: `GET /v1/health`, its versioned health; Production API: `GET /api/health`, the
   * load balancers' check (`status`, `uptime_seconds`). Both are the same document as GET /health.
   */
  @Get(['v1/health', 'api/health'])
  @ApiOperation({ summary: 'The same as GET /health: `status` (healthy, degraded, draining), `uptime_seconds`…' })
  @ApiOkResponse({ type: HealthSummaryDto })
  summary(@Res({ passthrough: true }) res: Response): Promise<HealthSummaryDto> {
    res.setHeader('Cache-Control', 'no-store');
    return this.health.summary();
  }

  /** OneFlow.AI: `GET /ready`, its readiness probe; the same as GET /health/ready. */
  @Get('ready')
  @ApiOperation({ summary: 'The same as GET /health/ready' })
  @ApiOkResponse({ description: 'Ready for traffic' })
  @ApiServiceUnavailableResponse({
    description: 'A dependency is down, or the process is draining',
    type: ErrorBodyDto,
  })
  ready(): Promise<HealthCheckResult> {
    return this.health.ready();
  }

  /** Production API: `GET /api/health/live`, its liveness probe (never touches a dependency). */
  @Get('api/health/live')
  @ApiOperation({ summary: 'Liveness: `{status: "alive"}`' })
  @ApiOkResponse({ type: ProductionHealthLiveDto })
  productionLive(): ProductionHealthLiveDto {
    return { status: 'alive' };
  }

  /**
   * Production API: `GET /api/health/ready`, its readiness probe with the GPU facts the GPU workers
   * report (GPU_METRICS_URLS). Readiness itself is GET /health/ready's: a gateway needs no GPU of its own.
   */
  @Get('api/health/ready')
  @ApiOperation({
    summary: 'Readiness (as GET /health/ready) with the GPU workers’ GPUs',
    description:
      'Without GPU workers configured, or none reporting: `cuda_available: false`, `gpu_memory_gb: null`. ' +
      'Not ready: 503, the error envelope plus `status: "not_ready"`.',
  })
  @ApiOkResponse({ type: ProductionHealthReadyDto })
  @ApiServiceUnavailableResponse({ description: 'The error envelope plus `status: "not_ready"`', type: ErrorBodyDto })
  async productionReady(@Req() req: Request, @Res() res: Response): Promise<void> {
    let checks: HealthCheckResult;
    try {
      checks = await this.health.ready();
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      sendAnswer(answerFor(err, req), req, res, (answer) => ({ ...answer.body, status: 'not_ready' }));
      return;
    }
    const body: ProductionHealthReadyDto = { status: 'ready', ...gpuReadiness(this.gpu.snapshot()), checks };
    res.status(200).json(body);
  }

  /** Production API: `GET /api/metrics`, its JSON metrics (the Prometheus exposition is GET /metrics). */
  @Get('api/metrics')
  @ApiOperation({
    summary: 'Host CPU, memory and disk; the GPU workers’ GPUs; the generation requests since start',
    description: '`gpu.gpu_utilization` is a string like "37%"; without a reporting GPU worker `available` is false.',
  })
  @ApiOkResponse({ type: ProductionMetricsDto })
  async productionMetrics(@Res({ passthrough: true }) res: Response): Promise<ProductionMetricsDto> {
    res.setHeader('Cache-Control', 'no-store');
    return productionMetrics(
      await this.system.read(),
      this.gpu.snapshot(),
      this.stats.totals(),
      this.health.uptimeSeconds(),
    );
  }
}
