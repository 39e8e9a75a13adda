import type { ProviderStats } from '../llm/llm.api';
import type {
  ApplicationMetricsDto,
  GpuMetricsDto,
  ProductionMetricsDto,
  ServiceInfoDto,
} from './dto/service-health.dto';
import type { GpuSnapshot } from '../metrics/gpu-metrics.service';
import { BYTES_PER_GB, round2, type SystemMetrics } from '../metrics/system-metrics.service';

/** The GPU facts of the Production API's readiness: none known → false and null. */
export function gpuReadiness(gpu: GpuSnapshot): { cuda_available: boolean; gpu_memory_gb: string | null } {
  const known = gpu.gpus > 0;
  return {
    cuda_available: known,
    gpu_memory_gb: known ? (gpu.memoryTotalBytes / BYTES_PER_GB).toFixed(2) : null,
  };
}

/** `gpu` of the Production API's /api/metrics; `gpu_utilization` is a string like "37%". */
export function gpuMetrics(gpu: GpuSnapshot): GpuMetricsDto {
  const known = gpu.gpus > 0;
  return {
    available: known,
    count: gpu.gpus,
    memory_total_gb: known ? round2(gpu.memoryTotalBytes / BYTES_PER_GB) : null,
    memory_used_gb: known ? round2(gpu.memoryUsedBytes / BYTES_PER_GB) : null,
    memory_percent:
      known && gpu.memoryTotalBytes > 0 ? round2((gpu.memoryUsedBytes / gpu.memoryTotalBytes) * 100) : null,
    gpu_utilization: known && gpu.utilizationPercent !== null ? `${Math.round(gpu.utilizationPercent)}%` : null,
    workers: gpu.workers,
    workers_reporting: gpu.reporting,
  };
}

/** `application` of /api/metrics: the generation requests since this instance started. */
export function applicationMetrics(stats: ProviderStats, uptimeSeconds: number): ApplicationMetricsDto {
  return {
    total_requests: stats.requests,
    successful_requests: stats.successes,
    failed_requests: stats.failures,
    success_rate: stats.requests === 0 ? 0 : round2(stats.successes / stats.requests),
    avg_response_time: stats.requests === 0 ? 0 : Math.round(stats.latencyTotalMs / stats.requests) / 1000,
    tokens_generated: stats.outputTokens,
    uptime_seconds: uptimeSeconds,
  };
}

export function productionMetrics(
  system: SystemMetrics,
  gpu: GpuSnapshot,
  stats: ProviderStats,
  uptimeSeconds: number,
): ProductionMetricsDto {
  return {
    system,
    gpu: gpuMetrics(gpu),
    application: applicationMetrics(stats, uptimeSeconds),
    timestamp: new Date().toISOString(),
  };
}

/** GET /: what a program needs to find its way around. */
export function serviceInformation(version: string): ServiceInfoDto {
  return {
    name: 'Conflux',
    version,
    description:
      'AI gateway: one authenticated, metered, observable front door before LLM providers, ML models and forecasting.',
    links: {
      docs: '/docs',
      redoc: '/redoc',
      openapi: '/docs-json',
      health: '/health',
      ready: '/health/ready',
      live: '/health/live',
      metrics: '/metrics',
      metrics_json: '/api/metrics',
    },
    endpoints: {
      openai: ['/v1/chat/completions', '/v1/responses', '/v1/embeddings', '/v1/models'],
      anthropic: ['/v1/messages'],
      ml: ['/predict', '/api/ml/predict', '/api/ml/predict/batch', '/api/ml/feedback', '/api/ml/models', '/v2/models'],
      forecasting: ['/forecast', '/forecast/batch', '/forecast/engines', '/v1/timeseries/forecast'],
      legacy: [
        '/api/v1/estimate',
        '/api/v1/request',
        '/api/v1/text/generate',
        '/api/v1/image/analyze',
        '/avibe',
        '/avision',
        '/chat',
        '/models',
        '/stats',
      ],
      health: ['/health', '/health/live', '/health/ready', '/ready', '/v1/health', '/api/health', '/api/ml/health'],
      account: ['/auth/login', '/auth/refresh', '/auth/session', '/auth/me', '/projects', '/admin/users'],
    },
  };
}
