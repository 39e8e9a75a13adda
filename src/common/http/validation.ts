import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync, ValidatorOptions } from 'class-validator';
import { AppError } from '../errors/app-error';
import { cacheValidationMetadata } from './validation-metadata-cache';

export interface FieldProblem {
  field: string;
  messages: string[];
}

/** Where a lenient DTO keeps the top-level fields of the body it does not model. */
const UNKNOWN_FIELDS = Symbol('unknownFields');

/**
 * Marks a request DTO whose unknown top-level fields are set aside instead of refused: a
 * compatible API must take the extras its clients send to upstreams that understand them.
 * Read them with `unknownFields(dto)`; they are bounded by the body size limit.
 */
export function KeepUnknownFields(): ClassDecorator {
  return (target) => {
    Reflect.defineProperty(target, UNKNOWN_FIELDS, { value: true });
  };
}

/** The top-level fields of the body that the lenient DTO does not model (empty for any other DTO). */
export function unknownFields(dto: object): Record<string, unknown> {
  return (dto as { [UNKNOWN_FIELDS]?: Record<string, unknown> })[UNKNOWN_FIELDS] ?? {};
}

function isLenient(metatype: unknown): boolean {
  return typeof metatype === 'function' && (metatype as { [UNKNOWN_FIELDS]?: boolean })[UNKNOWN_FIELDS] === true;
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

/** Refuses unknown fields, except on DTOs marked with `KeepUnknownFields`, which strip and keep them. */
class GatewayValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const result: unknown = await super.transform(value, metadata);
    if (!isLenient(metadata.metatype) || typeof value !== 'object' || value === null) return result;
    const dto = result as Record<string | symbol, unknown>;
    // Whitelisting removed exactly the unmodelled fields: what the raw body has and the DTO lacks.
    const extra = Object.fromEntries(Object.entries(value).filter(([key]) => !(key in dto)));
    Reflect.defineProperty(dto, UNKNOWN_FIELDS, { value: extra });
    return dto;
  }

  protected override validate(
    object: object,
    validatorOptions?: ValidatorOptions,
  ): Promise<ValidationError[]> | ValidationError[] {
    const options = isLenient(object.constructor)
      ? { ...validatorOptions, forbidNonWhitelisted: false }
      : validatorOptions;
    return super.validate(object, options);
  }
}

/** DTO validation: unknown fields are refused (or kept aside, see KeepUnknownFields), types converted, failures listed per field. */
export function createValidationPipe(): ValidationPipe {
  cacheValidationMetadata();
  return new GatewayValidationPipe({
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
  cacheValidationMetadata();
  const dto = plainToInstance(dtoClass, item);
  const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  if (errors.length > 0) {
    throw new AppError('validation_failed', `items[${index}] is invalid: ${summarise(flatten(errors))}`);
  }
  return dto;
}
