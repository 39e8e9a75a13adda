import { applyDecorators } from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsObject, ValidateNested } from 'class-validator';

/**
 * A nested DTO (with `each`: a list of them), built as its class and validated by its rules. IsObject comes
 * with it: ValidateNested alone validates an array's items, so an array (an empty one, or one of arrays)
 * would pass in an object's place.
 */
export function NestedDto(type: () => new () => object, options: { each?: boolean } = {}): PropertyDecorator {
  const each = options.each === true;
  return applyDecorators(IsObject({ each }), ValidateNested({ each }), Type(type));
}
