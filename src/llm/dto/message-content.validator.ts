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

/** Token ids of a token list (no BPE vocabulary comes near 2^24 entries). */
const MAX_TOKEN_ID = 16_777_216;
const MAX_TOKENS_PER_LIST = 1_000_000;

function isTokenList(value: unknown): boolean {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.length <= MAX_TOKENS_PER_LIST &&
    value.every((id) => Number.isInteger(id) && (id as number) >= 0 && (id as number) < MAX_TOKEN_ID)
  );
}

/** What embeddings take: a string, a non-empty list of strings, a token list, or a list of token lists. */
function isEmbeddingInput(value: unknown[]): boolean {
  if (typeof value[0] === 'number') return isTokenList(value);
  if (Array.isArray(value[0])) return value.every(isTokenList);
  return value.every((v) => typeof v === 'string' && v.length <= MAX_TEXT);
}

/**
 * Message content: a string, or a non-empty list of text / image_url parts (`embeddings`: a string, a
 * non-empty list of strings, a token list or a list of token lists, as OpenAI's embeddings take).
 */
export function IsMessageContent(options: { embeddings?: boolean } = {}, validation?: ValidationOptions) {
  return (target: object, property: string): void => {
    registerDecorator({
      name: 'isMessageContent',
      target: target.constructor,
      propertyName: property,
      options: {
        message: options.embeddings
          ? `${property} must be a string, a non-empty list of strings, a token list or a list of token lists`
          : `${property} must be a string or a non-empty list of text/image_url parts`,
        ...validation,
      },
      validator: {
        validate(value: unknown): boolean {
          if (typeof value === 'string') return value.length <= MAX_TEXT;
          if (!Array.isArray(value) || value.length === 0 || value.length > 2048) return false;
          if (options.embeddings) return isEmbeddingInput(value);
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
