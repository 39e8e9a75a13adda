import { registerDecorator, ValidationOptions } from 'class-validator';

const MAX_TEXT = 4_000_000;

function isTextPart(part: Record<string, unknown>): boolean {
  return part.type === 'text' && typeof part.text === 'string' && part.text.length <= MAX_TEXT;
}

function isImagePart(part: Record<string, unknown>): boolean {
  if (part.type !== 'image_url') return false;
  const image = part.image_url;
  if (typeof image !== 'object' || image === null) return false;
  const url = (image as { url?: unknown }).url;
  return typeof url === 'string' && /^(data:image\/[a-z0-9.+-]+;base64,|https?:\/\/)/i.test(url);
}

/**
 * Message content: a string, or a non-empty list of text / image_url parts
 * (`textOnly`: a string or a non-empty list of strings, as embeddings take).
 */
export function IsMessageContent(options: { textOnly?: boolean } = {}, validation?: ValidationOptions) {
  return (target: object, property: string): void => {
    registerDecorator({
      name: 'isMessageContent',
      target: target.constructor,
      propertyName: property,
      options: {
        message: options.textOnly
          ? `${property} must be a string or a non-empty list of strings`
          : `${property} must be a string or a non-empty list of text/image_url parts`,
        ...validation,
      },
      validator: {
        validate(value: unknown): boolean {
          if (typeof value === 'string') return value.length <= MAX_TEXT;
          if (!Array.isArray(value) || value.length === 0 || value.length > 2048) return false;
          if (options.textOnly) return value.every((v) => typeof v === 'string' && v.length <= MAX_TEXT);
          return value.every(
            (p) =>
              typeof p === 'object' &&
              p !== null &&
              (isTextPart(p as Record<string, unknown>) || isImagePart(p as Record<string, unknown>)),
          );
        },
      },
    });
  };
}
