// class-transformer's @Type reads the declared types of nested settings through it, and the configuration is
// also loaded without the Nest application (the migration CLI, tests).
import 'reflect-metadata';
import { type ClassConstructor, plainToInstance } from 'class-transformer';
import {
  getMetadataStorage,
  ValidateBy,
  ValidateIf,
  type ValidationArguments,
  ValidationError,
  validateSync,
} from 'class-validator';
import { parse as parseYaml } from 'yaml';

/*
 * The shared vocabulary of the structured settings (PROVIDERS_FILE, ML_REMOTE_WORKERS): each part is a
 * class-validator class, read from a YAML or JSON mapping with `readMapping`, which reports every problem
 * with its path (e.g. `breaker.volume_threshold`).
 */

export type Mapping = Record<string, unknown>;

export function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A YAML document (YAML is a superset of JSON), or the parser's first line of complaint. */
export function parseDocument(text: string): { doc: unknown } | { error: string } {
  try {
    return { doc: parseYaml(text) as unknown };
  } catch (err) {
    return { error: (err as Error).message.split('\n')[0] };
  }
}

/** One problem of a structured setting: where (relative to the mapping read) and what. */
export interface Problem {
  path: string;
  message: string;
}

/**
 * Reads one mapping into an instance of `cls`: absent keys keep the class defaults, keys the class does not
 * declare are dropped (`unknownKeys` names them), and every failed constraint is listed with its path.
 */
export function readMapping<T extends object>(
  cls: ClassConstructor<T>,
  raw: Mapping,
): { value: T; problems: Problem[] } {
  const value = plainToInstance(cls, raw, { exposeDefaultValues: true });
  // One message per key: a nested mapping is checked only once it is a mapping at all.
  const errors = validateSync(value, { whitelist: true, forbidUnknownValues: false, stopAtFirstError: true });
  return { value, problems: errors.flatMap((error) => flatten(error, '')) };
}

function flatten(error: ValidationError, parent: string): Problem[] {
  const path = parent === '' ? error.property : `${parent}.${error.property}`;
  const own = Object.values(error.constraints ?? {}).map((message) => ({ path, message }));
  return [...own, ...(error.children ?? []).flatMap((child) => flatten(child, path))];
}

/** Keys of `raw` that `cls` does not declare (a declared key carries at least one constraint). */
export function unknownKeys(cls: ClassConstructor<object>, raw: Mapping): string[] {
  const declared = getMetadataStorage().getTargetValidationMetadatas(cls, '', true, false);
  const known = new Set(declared.map((metadata) => metadata.propertyName));
  return Object.keys(raw).filter((key) => !known.has(key));
}

/** Absent is fine; anything else is checked, null included (YAML's empty value is a mistake, not a default). */
export const IfPresent = (): PropertyDecorator => ValidateIf((_object, value) => value !== undefined);

function range(min: number, max: number | undefined): string {
  return `${min}..${max ?? '∞'}`;
}

/** An integer in min..max (no upper bound when max is omitted). */
export function IsIntIn(min: number, max?: number): PropertyDecorator {
  return ValidateBy({
    name: 'isIntIn',
    validator: {
      validate: (value) => Number.isInteger(value) && inRange(value as number, min, max),
      defaultMessage: () => `must be an integer in ${range(min, max)}`,
    },
  });
}

/** A finite number in min..max (no upper bound when max is omitted). */
export function IsNumberIn(min: number, max?: number): PropertyDecorator {
  return ValidateBy({
    name: 'isNumberIn',
    validator: {
      validate: (value) => typeof value === 'number' && Number.isFinite(value) && inRange(value, min, max),
      defaultMessage: () => `must be a number in ${range(min, max)}`,
    },
  });
}

function inRange(value: number, min: number, max: number | undefined): boolean {
  return value >= min && (max === undefined || value <= max);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.trim() !== '';
}

/**
 * A non-empty string; with `rule`, one that also passes it (else `rule.message`). Says only what is wrong
 * first: a missing value is not also told it does not match.
 */
export function IsNonEmptyString(rule?: { test: (value: string) => boolean; message: string }): PropertyDecorator {
  return ValidateBy({
    name: 'isNonEmptyString',
    validator: {
      validate: (value) => isNonEmptyString(value) && (rule === undefined || rule.test(value)),
      defaultMessage: (args?: ValidationArguments) =>
        rule !== undefined && isNonEmptyString(args?.value) ? rule.message : 'must be a non-empty string',
    },
  });
}

export function IsNonEmptyStringList(): PropertyDecorator {
  return ValidateBy({
    name: 'isNonEmptyStringList',
    validator: {
      validate: (value) => Array.isArray(value) && value.every(isNonEmptyString),
      defaultMessage: () => 'must be a list of non-empty strings',
    },
  });
}

/** A nested mapping (pair with ValidateNested and Type to check its contents). */
export function IsMapping(): PropertyDecorator {
  return ValidateBy({
    name: 'isMapping',
    validator: { validate: isMapping, defaultMessage: () => 'must be a mapping' },
  });
}

/** Trims strings (class-transformer `Transform` argument); other values pass unchanged for validation. */
export const trim = ({ value }: { value: unknown }): unknown => (typeof value === 'string' ? value.trim() : value);

/** Trims each string of a list; anything else passes unchanged for validation. */
export const trimEach = ({ value }: { value: unknown }): unknown =>
  Array.isArray(value) ? value.map((item: unknown) => (typeof item === 'string' ? item.trim() : item)) : value;
