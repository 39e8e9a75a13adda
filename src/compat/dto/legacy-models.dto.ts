import { ApiProperty } from '@nestjs/swagger';

/** One (model, instance) pair of GET /models. */
export class LegacyModelDto {
  @ApiProperty({ example: 'bge-m3', description: 'The model as its instance names it' })
  name!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '1.2GB',
    description: 'Size on disk, as `ollama list` writes it',
  })
  size!: string | null;

  @ApiProperty({ type: String, nullable: true, example: '566.70M', description: 'Parameter count (Ollama)' })
  parameters!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'embedding',
    description: 'The prompt template; `embedding` for a model that only embeds',
  })
  template!: string | null;

  @ApiProperty({ type: Number, nullable: true, example: 1157672605 })
  size_bytes!: number | null;

  @ApiProperty({ type: String, nullable: true, example: 'bert' })
  family!: string | null;

  @ApiProperty({ type: String, nullable: true, example: 'F16' })
  quantization_level!: string | null;

  @ApiProperty({ type: [String], nullable: true, example: ['embedding'] })
  capabilities!: string[] | null;

  @ApiProperty({ type: Number, nullable: true, example: 8192 })
  context_length!: number | null;

  @ApiProperty({ type: String, nullable: true, description: 'When the instance last changed the model' })
  modified_at!: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'When these details were fetched from the instance' })
  described_at!: string | null;

  @ApiProperty({ example: 'local-ollama', description: 'The instance id (PROVIDERS_FILE)' })
  provider!: string;

  @ApiProperty({ enum: ['openai', 'anthropic', 'ollama'] })
  kind!: string;

  @ApiProperty({ description: 'Breaker not open and the instance not found unreachable by its last probe' })
  available!: boolean;
}

/** GET /models. */
export class LegacyModelListDto {
  @ApiProperty({ example: 'success' })
  status!: string;

  @ApiProperty({ type: [LegacyModelDto] })
  models!: LegacyModelDto[];

  @ApiProperty()
  total_count!: number;

  @ApiProperty({ example: '2025-08-31T10:00:00.000Z' })
  timestamp!: string;

  @ApiProperty({
    type: 'array',
    items: { type: 'object' },
    description: 'The instances: id, kind, status, breaker, reachable, latency_ms, last_checked, models',
  })
  providers!: object[];
}
