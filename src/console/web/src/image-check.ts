/**
 * The image playground's checks, made in the browser before anything is uploaded, with the server's
 * rules and words (src/compat/image-content.ts): an image is PNG, JPEG, GIF or WebP as told by its
 * first bytes (never its name or declared type), of at most IMAGE_MAX_BYTES.
 */

/** The server's default IMAGE_MAX_BYTES (16 MiB); a larger file is refused before it is sent. */
export const IMAGE_MAX_BYTES = 16 * 1024 * 1024;

export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG = [0xff, 0xd8, 0xff];
const ascii = (text: string): number[] => [...text].map((c) => c.charCodeAt(0));
const GIF87 = ascii('GIF87a');
const GIF89 = ascii('GIF89a');
const RIFF = ascii('RIFF');
const WEBP = ascii('WEBP');

/** Bytes enough to tell the types apart (WebP's mark ends at byte 12). */
export const SNIFF_BYTES = 12;

function startsWith(bytes: Uint8Array, magic: number[], at = 0): boolean {
  return bytes.length >= at + magic.length && magic.every((b, i) => bytes[at + i] === b);
}

/** The type of an image from its first bytes; null for anything else. */
export function sniffImageType(bytes: Uint8Array): ImageType | null {
  if (startsWith(bytes, PNG)) return 'image/png';
  if (startsWith(bytes, JPEG)) return 'image/jpeg';
  if (startsWith(bytes, GIF87) || startsWith(bytes, GIF89)) return 'image/gif';
  if (startsWith(bytes, RIFF) && startsWith(bytes, WEBP, 8)) return 'image/webp';
  return null;
}

/** `File too large. Maximum size: 16 MB`, as the server (and the replaced service) says it. */
export function imageTooLargeMessage(maxBytes: number): string {
  return `File too large. Maximum size: ${Number((maxBytes / (1024 * 1024)).toFixed(2))} MB`;
}

export const UNSUPPORTED_IMAGE_MESSAGE =
  'Unsupported image type: the file content is not PNG, JPEG, GIF or WebP (the type is read from the content, not the name)';

/**
 * Why an image of `size` bytes starting with `head` would be refused, in the order the server checks
 * (empty, too large, not an image); null when it would be taken.
 */
export function imageProblem(size: number, head: Uint8Array, maxBytes = IMAGE_MAX_BYTES): string | null {
  if (size === 0) return 'The image is empty';
  if (size > maxBytes) return imageTooLargeMessage(maxBytes);
  return sniffImageType(head) === null ? UNSUPPORTED_IMAGE_MESSAGE : null;
}
