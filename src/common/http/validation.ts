import { ValidationError, ValidationPipe } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { AppError } from '../errors/app-error';

export interface FieldProblem {
  field: string;
  messages: string[];
}

function flatten(errors: ValidationError[], parent = ''): FieldProblem[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, messages: Object.values(e.constraints) }] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

function summarise(details: FieldProblem[]): string {
  return details.map((d) => `${d.field}: ${d.messages.join(', ')}`).join('; ');
}

/** DTO validation: unknown fields are refused, types converted, failures listed per field. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    forbidUnknownValues: true,
    stopAtFirstError: false,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const details = flatten(errors);
      return new AppError('validation_failed', `Request is invalid: ${summarise(details)}`, { details });
    },
  });
}

/**
 * Validates one item of a batch body with the rules the pipe applies to a single request, so that a bad
 * item can be answered on its own. Throws a `validation_failed` AppError naming the item.
 */
export function validateBatchItem<T extends object>(dtoClass: new () => T, item: unknown, index: number): T {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    throw new AppError('validation_failed', `items[${index}] must be an object`);
  }
  const dto = plainToInstance(dtoClass, item);
  const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  if (errors.length > 0) {
    throw new AppError('validation_failed', `items[${index}] is invalid: ${summarise(flatten(errors))}`);
  }
  return dto;
}
