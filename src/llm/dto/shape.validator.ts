import { registerDecorator } from 'class-validator';

/** A plain JSON object (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isOptionalString(value: unknown): boolean {
  return value === undefined || typeof value === 'string';
}

export function isOptionalBoolean(value: unknown): boolean {
  return value === undefined || typeof value === 'boolean';
}

/**
 * A field whose JSON shape is checked by a predicate: for the unions of the chat APIs
 * (`tool_choice`, `response_format`, content blocks) that class-validator cannot express.
 * `expected` completes the message "<field> must be …".
 */
export function IsShape(predicate: (value: unknown) => boolean, expected: string) {
  return (target: object, property: string): void => {
    registerDecorator({
      name: 'isShape',
      target: target.constructor,
      propertyName: property,
      options: { message: `${property} must be ${expected}` },
      validator: { validate: predicate },
    });
  };
}

/** A thinking block: `{type:"thinking", thinking, signature?}` or `{type:"redacted_thinking", data}`. */
export function isThinkingBlock(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  if (value.type === 'thinking') return typeof value.thinking === 'string' && isOptionalString(value.signature);
  return value.type === 'redacted_thinking' && typeof value.data === 'string';
}
