import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, ValidateBy, ValidationOptions } from 'class-validator';
import { MAX_RANGE_DAYS, parseDay, USAGE_GROUPINGS, type UsageGrouping } from '../usage-range';

/** A real calendar day written `YYYY-MM-DD` (2026-02-30 is refused). */
function IsCalendarDay(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isCalendarDay',
      validator: {
        validate: (value: unknown) => parseDay(value) !== null,
        defaultMessage: () => '$property must be a calendar day written YYYY-MM-DD',
      },
    },
    options,
  );
}

export class UsageQueryDto {
  @ApiPropertyOptional({
    format: 'date',
    example: '2026-01-01',
    description: 'First day (UTC), included. Default: 29 days before `to`.',
  })
  @IsOptional()
  @IsCalendarDay()
  from?: string;

  @ApiPropertyOptional({
    format: 'date',
    example: '2026-01-31',
    description: `Last day (UTC), included. Default: today. The range covers at most ${MAX_RANGE_DAYS} days.`,
  })
  @IsOptional()
  @IsCalendarDay()
  to?: string;

  @ApiPropertyOptional({ enum: USAGE_GROUPINGS, default: 'day' })
  @IsOptional()
  @IsIn(USAGE_GROUPINGS)
  group_by?: UsageGrouping;
}

export class UsageTotalsDto {
  @ApiProperty({ description: 'Distinct requests' }) requests!: number;
  @ApiProperty({ description: 'Attempts (a request with fallbacks has several)' }) attempts!: number;
  @ApiProperty({ description: 'Every input token, cached ones included' }) input_tokens!: number;
  @ApiProperty() output_tokens!: number;
  @ApiProperty({ description: 'Of input_tokens: read from the prompt cache' }) cached_input_tokens!: number;
  @ApiProperty({ description: 'Of input_tokens: written to the prompt cache' }) cache_write_input_tokens!: number;
  @ApiProperty({ description: 'Of output_tokens: spent on reasoning' }) reasoning_tokens!: number;
  @ApiProperty({ description: 'Credits (micro-credits / 1 000 000)', example: 1.25 }) credits!: number;
  @ApiProperty({ description: 'US dollars', example: 0.0125 }) usd!: number;
}

export class UsageGroupDto extends UsageTotalsDto {
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The day (YYYY-MM-DD, UTC), model or provider instance; null when no model or provider was involved',
  })
  key!: string | null;
}

export class UsageReportDto {
  @ApiProperty() project_id!: string;
  @ApiProperty({ format: 'date' }) from!: string;
  @ApiProperty({ format: 'date' }) to!: string;
  @ApiProperty({ enum: USAGE_GROUPINGS }) group_by!: UsageGrouping;
  @ApiProperty({ type: UsageTotalsDto }) totals!: UsageTotalsDto;

  @ApiProperty({
    type: [UsageGroupDto],
    description:
      'Days in ascending order, or models/providers by credits (highest first). A request whose attempts ' +
      'span several models or providers counts once in each of their groups, and once in the totals.',
  })
  groups!: UsageGroupDto[];
}
