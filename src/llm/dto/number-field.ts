import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsNumber, IsOptional, Max, Min } from 'class-validator';

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
