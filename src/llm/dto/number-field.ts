import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsNumber, IsOptional, Max, Min } from 'class-validator';

/** An optional number in [min, max] (temperature, top_p…), documented and validated alike in every dialect. */
export function OptionalNumberIn(min: number, max: number): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ minimum: min, maximum: max }),
    IsOptional(),
    IsNumber(),
    Min(min),
    Max(max),
  );
}

/** An optional integer in [min, max] (an output token limit…), documented and validated alike everywhere. */
export function OptionalIntIn(min: number, max: number): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ minimum: min, maximum: max }),
    IsOptional(),
    IsInt(),
    Min(min),
    Max(max),
  );
}
