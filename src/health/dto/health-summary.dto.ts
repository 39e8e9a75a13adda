import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';

export const SERVICE_STATUSES = ['healthy', 'degraded', 'unhealthy'] as const;
export type ServiceStatus = (typeof SERVICE_STATUSES)[number];

/** One upstream instance: from its last background probe and its breaker. */
export class InstanceHealthDto {
  @ApiProperty({ example: 'local-ollama' })
  id!: string;

  @ApiProperty({ description: 'Origin only (scheme://host:port)', example: 'http://localhost:11434' })
  url!: string;

  @ApiProperty({
    enum: SERVICE_STATUSES,
    description: 'unhealthy: breaker open or last probe failed; degraded: breaker half-open or not probed yet',
  })
  status!: ServiceStatus;

  @ApiProperty({ enum: ['closed', 'half_open', 'open'] })
  breaker!: 'closed' | 'half_open' | 'open';

  @ApiProperty({ type: Number, nullable: true, description: 'Latency of the last successful probe (ms)' })
  latency_ms!: number | null;

  @ApiProperty({ type: String, nullable: true, description: 'When it was last probed (ISO 8601)' })
  last_checked!: string | null;

  @ApiProperty({
    type: [String],
    description: 'Models this instance serves (as it listed them at its last probe, else as declared)',
  })
  models!: string[];
}

/** A remote worker (an ML model worker, the remote forecaster): from its breaker and its last call. */
export class WorkerHealthDto {
  @ApiProperty({ description: 'ML: `<model>@<version>`; forecasting: `forecast-remote`', example: 'trading-signal@3' })
  id!: string;

  @ApiProperty({ description: 'Origin only (scheme://host:port)', example: 'http://gpu-box:8080' })
  url!: string;

  @ApiProperty({
    enum: SERVICE_STATUSES,
    description:
      'unhealthy: breaker open; degraded: breaker half-open, or the last call failed; healthy otherwise (a worker ' +
      'not called yet included: workers are not probed)',
  })
  status!: ServiceStatus;

  @ApiProperty({ enum: ['closed', 'half_open', 'open'] })
  breaker!: 'closed' | 'half_open' | 'open';

  @ApiProperty({ type: Number, nullable: true, description: 'Duration of the last call (ms); null before any' })
  latency_ms!: number | null;

  @ApiProperty({ type: String, nullable: true, description: 'When the last call ended (ISO 8601); null before any' })
  last_checked!: string | null;
}

/** The remote workers of the ML and forecasting modules. */
export class WorkersHealthDto {
  @ApiProperty({ type: [WorkerHealthDto], description: 'ML_REMOTE_WORKERS' })
  ml!: WorkerHealthDto[];

  @ApiProperty({ type: [WorkerHealthDto], description: 'FORECAST_REMOTE_URL (none or one)' })
  forecasting!: WorkerHealthDto[];
}

/** The upstream instances of one service. */
export class ServiceHealthDto {
  @ApiProperty({ enum: SERVICE_STATUSES, description: 'healthy: every instance is; unhealthy: none is' })
  status!: ServiceStatus;

  @ApiProperty({ description: "Origin of the service's first instance: never credentials, path or query" })
  url!: string;

  @ApiProperty({ type: [String], description: 'Models the instances serve (as listed upstream, else declared)' })
  available_models!: string[];

  @ApiProperty()
  total_models!: number;

  @ApiProperty({ type: [InstanceHealthDto] })
  instances!: InstanceHealthDto[];

  @ApiPropertyOptional({ description: 'ollama only: the same origin as `url`' })
  ollama_url?: string;

  @ApiPropertyOptional({ description: 'ollama only: a `bge-m3` model is served' })
  bge_m3_available?: boolean;

  @ApiPropertyOptional({ description: 'ollama only: a `gpt-oss` model is served' })
  gpt_oss_available?: boolean;
}

/** GET /health: what every replaced service's health route answered, merged. */
export class HealthSummaryDto {
  @ApiProperty({
    enum: ['healthy', 'degraded', 'draining'],
    description: 'healthy: Postgres and Redis answer; draining: the process is shutting down',
  })
  status!: 'healthy' | 'degraded' | 'draining';

  @ApiProperty({ description: 'false only while draining' })
  ok!: boolean;

  @ApiProperty({ example: '1.0.0' })
  version!: string;

  @ApiProperty()
  uptime_seconds!: number;

  @ApiProperty({ description: 'ML model versions loaded' })
  models_loaded!: number;

  @ApiProperty({
    type: 'object',
    additionalProperties: { $ref: getSchemaPath(ServiceHealthDto) },
    description: 'Upstream services by name: `ollama`, `vllm` (self-hosted OpenAI-compatible), `openai`, `anthropic`',
  })
  services!: Record<string, ServiceHealthDto>;

  @ApiProperty({ type: WorkersHealthDto, description: 'Remote workers, from their breakers and last calls' })
  workers!: WorkersHealthDto;

  @ApiProperty({ example: '2025-08-31T10:00:00.000Z' })
  timestamp!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'Postgres and Redis: `{status: up|down, mode, latency_ms?, reason?, checked_at}`, checked for this answer ' +
      '(`checked_at`: ISO 8601)',
  })
  dependencies!: Record<string, Record<string, unknown>>;
}
