import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, ValidateBy, ValidationOptions } from 'class-validator';
import {
  MAX_RANGE_DAYS,
  parseDay,
  USAGE_FORMATS,
  USAGE_GROUPINGS,
  type UsageFormat,
  type UsageGrouping,
} from '../usage-range';

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

  @ApiPropertyOptional({
    enum: USAGE_GROUPINGS,
    default: 'day',
    description:
      '`day`, `model`, `provider`; `api_key`: by the API key that made the requests (key = its id, with its ' +
      'name and prefix; null for signed-in users); `day_model`: one group per day and model (key = the day, ' +
      'with `model`), for a chart of each day stacked by model.',
  })
  @IsOptional()
  @IsIn(USAGE_GROUPINGS)
  group_by?: UsageGrouping;

  @ApiPropertyOptional({
    enum: USAGE_FORMATS,
    description:
      '`csv`: the groups as a CSV download (`text/csv; charset=utf-8`, a header row then one row per group, the ' +
      'same numbers as the JSON). Without it, `Accept: text/csv` asks for the CSV too; JSON otherwise.',
  })
  @IsOptional()
  @IsIn(USAGE_FORMATS)
  format?: UsageFormat;
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
    description:
      'The day (YYYY-MM-DD, UTC; also for day_model), model, provider instance or API key id; null when no ' +
      'model or provider was involved, or (api_key) for the requests of signed-in users',
  })
  key!: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'day_model only: the model of the group' })
  model?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'api_key only: the key id (as `key`)' })
  api_key_id?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, description: 'api_key only: the key name (revoked keys too)' })
  api_key_name?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: 'api_key only: the visible prefix of the key’s current secret',
  })
  api_key_prefix?: string | null;
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
      'Days in ascending order (day_model: each day’s models by credits), or models/providers/API keys by ' +
      'credits (highest first). A request whose attempts span several models or providers counts once in ' +
      'each of their groups, and once in the totals.',
  })
  groups!: UsageGroupDto[];
}
