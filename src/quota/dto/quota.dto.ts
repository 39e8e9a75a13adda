import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { buildMessage, IsInt, IsNumber, IsOptional, Max, Min, ValidateBy } from 'class-validator';
import { MAX_CREDITS } from '../quota-units';
import type { ProjectQuotaLimits, ProjectQuotaStatus, QuotaWindowBalance } from './quota';

const MAX_RPM = 1_000_000_000;
const MAX_TPM = 1_000_000_000_000;

const finite = { allowNaN: false, allowInfinity: false };

/** At most six decimals (one micro-credit). Not IsNumber's maxDecimalPlaces: it throws on 1e-7. */
const MicroCreditPrecision = (): PropertyDecorator =>
  ValidateBy({
    name: 'microCreditPrecision',
    validator: {
      validate: (value: unknown) => typeof value !== 'number' || Number(value.toFixed(6)) === value,
      defaultMessage: buildMessage((each) => `${each}$property must have at most 6 decimal places`),
    },
  });

/** Absent fields keep their value; null removes the limit. */
export class UpdateProjectQuotaDto implements ProjectQuotaLimits {
  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 0, example: 50, description: 'Credits per UTC day' })
  @IsOptional()
  @IsNumber(finite)
  @MicroCreditPrecision()
  @Min(0)
  @Max(MAX_CREDITS)
  daily_credits?: number | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 0,
    example: 1000,
    description: 'Credits per UTC month',
  })
  @IsOptional()
  @IsNumber(finite)
  @MicroCreditPrecision()
  @Min(0)
  @Max(MAX_CREDITS)
  monthly_credits?: number | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 0,
    example: 60,
    description: 'Requests per minute, per API key',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_RPM)
  rpm?: number | null;

  @ApiPropertyOptional({
    type: Number,
    nullable: true,
    minimum: 0,
    example: 100000,
    description: 'Tokens per minute, per API key',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_TPM)
  tpm?: number | null;
}

export class QuotaLimitsDto implements Required<ProjectQuotaLimits> {
  @ApiProperty({ type: Number, nullable: true, description: 'Credits per UTC day (null = unlimited)' })
  daily_credits!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Credits per UTC month (null = unlimited)' })
  monthly_credits!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Requests per minute, per API key (null = unlimited)' })
  rpm!: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Tokens per minute, per API key (null = unlimited)' })
  tpm!: number | null;
}

export class QuotaWindowBalanceDto implements QuotaWindowBalance {
  @ApiProperty({ type: Number, nullable: true, description: 'Credits (null = unlimited)' })
  limit!: number | null;

  @ApiProperty({ description: 'Credits spent in this window' })
  spent!: number;

  @ApiProperty({ description: 'Credits held by requests in flight' })
  reserved!: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'limit − spent − reserved, never below 0 (null = unlimited)',
  })
  remaining!: number | null;

  @ApiProperty({ description: 'When the window starts over (UTC)' })
  resets_at!: string;
}

export class ProjectQuotaStatusDto implements ProjectQuotaStatus {
  @ApiProperty() project_id!: string;
  @ApiProperty({ type: QuotaLimitsDto }) limits!: QuotaLimitsDto;
  @ApiProperty({ type: QuotaWindowBalanceDto }) daily!: QuotaWindowBalanceDto;
  @ApiProperty({ type: QuotaWindowBalanceDto }) monthly!: QuotaWindowBalanceDto;
}
