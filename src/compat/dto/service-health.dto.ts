import { ApiProperty } from '@nestjs/swagger';

/** GET /: what a program needs to find its way around. */
export class ServiceInfoDto {
  @ApiProperty({ example: 'Conflux' })
  name!: string;

  @ApiProperty({ example: '1.0.0' })
  version!: string;

  @ApiProperty()
  description!: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { docs: '/docs', redoc: '/redoc', health: '/health', metrics: '/metrics' },
  })
  links!: Record<string, string>;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'array', items: { type: 'string' } },
    description: 'The main routes of each API family',
  })
  endpoints!: Record<string, string[]>;
}

export class ProductionHealthLiveDto {
  @ApiProperty({ enum: ['alive'] })
  status!: 'alive';
}

export class ProductionHealthReadyDto {
  @ApiProperty({ enum: ['ready'] })
  status!: 'ready';

  @ApiProperty({ description: 'A GPU worker of GPU_METRICS_URLS answered its last poll with at least one GPU' })
  cuda_available!: boolean;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '141.00',
    description:
      "Total memory of the reporting workers' GPUs (GB of 1024³ bytes, two decimals); null when none reports",
  })
  gpu_memory_gb!: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true, description: "The readiness check's result" })
  checks!: object;
}

export class SystemMetricsDto {
  @ApiProperty({ description: 'Busy share of all CPUs over the last 5 s sample' })
  cpu_percent!: number;

  @ApiProperty()
  cpu_count!: number;

  @ApiProperty({ type: [Number], description: '1, 5 and 15 minutes' })
  load_average!: number[];

  @ApiProperty()
  memory_total_gb!: number;

  @ApiProperty()
  memory_used_gb!: number;

  @ApiProperty()
  memory_percent!: number;

  @ApiProperty({ type: Number, nullable: true, description: "DATA_DIR's file system (else /)" })
  disk_total_gb!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  disk_used_gb!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  disk_percent!: number | null;
}

export class GpuMetricsDto {
  @ApiProperty({ description: 'A GPU worker reports at least one GPU' })
  available!: boolean;

  @ApiProperty()
  count!: number;

  @ApiProperty({ type: Number, nullable: true })
  memory_total_gb!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  memory_used_gb!: number | null;

  @ApiProperty({ type: Number, nullable: true })
  memory_percent!: number | null;

  @ApiProperty({ type: String, nullable: true, example: '37%', description: 'Mean utilisation of the GPUs' })
  gpu_utilization!: string | null;

  @ApiProperty({ description: 'GPU workers configured (GPU_METRICS_URLS)' })
  workers!: number;

  @ApiProperty({ description: 'Those whose last poll answered' })
  workers_reporting!: number;
}

export class ApplicationMetricsDto {
  @ApiProperty({ description: 'Generation requests (chat, messages, responses, legacy) since this instance started' })
  total_requests!: number;

  @ApiProperty()
  successful_requests!: number;

  @ApiProperty()
  failed_requests!: number;

  @ApiProperty({ description: '0 to 1' })
  success_rate!: number;

  @ApiProperty({ description: 'Seconds' })
  avg_response_time!: number;

  @ApiProperty({ description: 'Output tokens' })
  tokens_generated!: number;

  @ApiProperty()
  uptime_seconds!: number;
}

/** GET /api/metrics: the Production API's JSON metrics. */
export class ProductionMetricsDto {
  @ApiProperty({ type: SystemMetricsDto })
  system!: SystemMetricsDto;

  @ApiProperty({ type: GpuMetricsDto })
  gpu!: GpuMetricsDto;

  @ApiProperty({ type: ApplicationMetricsDto })
  application!: ApplicationMetricsDto;

  @ApiProperty()
  timestamp!: string;
}
