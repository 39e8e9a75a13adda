import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { STRATEGIES } from '../../routing/routing.api';

/** The body's `conflux_strategy`, documented and validated alike in every dialect that takes one. */
export function OptionalStrategy(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      enum: [...STRATEGIES],
      description: 'Routing strategy for `auto` (also the X-Conflux-Strategy header)',
    }),
    IsOptional(),
    IsIn([...STRATEGIES]),
  );
}
