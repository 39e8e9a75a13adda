import { AppError } from '../common/errors/app-error';

/** The image types vision models accept, told apart by their first bytes (never by name or declared type). */
export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];

/** An image whose type was read from its content. */
export interface SniffedImage {
  bytes: Buffer;
  type: ImageType;
}

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const JPEG = Buffer.from([0xff, 0xd8, 0xff]);
const GIF87 = Buffer.from('GIF87a', 'latin1');
const GIF89 = Buffer.from('GIF89a', 'latin1');
const RIFF = Buffer.from('RIFF', 'latin1');
const WEBP = Buffer.from('WEBP', 'latin1');

function startsWith(bytes: Buffer, magic: Buffer, at = 0): boolean {
  return bytes.length >= at + magic.length && bytes.subarray(at, at + magic.length).equals(magic);
}

/** The type of an image from its magic bytes: PNG, JPEG, GIF or WebP; null for anything else. */
export function sniffImageType(bytes: Buffer): ImageType | null {
  if (startsWith(bytes, PNG)) return 'image/png';
  if (startsWith(bytes, JPEG)) return 'image/jpeg';
  if (startsWith(bytes, GIF87) || startsWith(bytes, GIF89)) return 'image/gif';
  if (startsWith(bytes, RIFF) && startsWith(bytes, WEBP, 8)) return 'image/webp';
  return null;
}

/** The image with its sniffed type; 400 when empty, 413 over `maxBytes`, 415 when not an accepted image. */
export function acceptImage(bytes: Buffer, maxBytes: number): SniffedImage {
  if (bytes.length === 0) throw new AppError('validation_error', 'The image is empty');
  if (bytes.length > maxBytes) throw imageTooLarge(maxBytes);
  const type = sniffImageType(bytes);
  if (type === null) {
    throw new AppError(
      'unsupported_media_type',
      'Unsupported image type: the file content is not PNG, JPEG, GIF or WebP (the type is read from the content, not the name)',
    );
  }
  return { bytes, type };
}

/** The Production API's answer to an image over the limit, e.g. `File too large. Maximum size: 16 MB`. */
export function imageTooLarge(maxBytes: number): AppError {
  return new AppError('payload_too_large', `File too large. Maximum size: ${megabytes(maxBytes)} MB`);
}

function megabytes(bytes: number): string {
  return String(Number((bytes / (1024 * 1024)).toFixed(2)));
}

const DATA_URL = /^data:([^,]*),/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The bytes of an image sent as text (JSON): a `data:…;base64,` URL or bare base64 (line breaks
 * allowed). Its declared media type is ignored: the content decides. Checked before decoding: 400 when
 * not base64, 413 when it would decode to more than `maxBytes`.
 */
export function decodeImageText(text: string, maxBytes: number): Buffer {
  let payload = text;
  const header = DATA_URL.exec(text);
  if (header) {
    if (!header[1].split(';').includes('base64')) {
      throw new AppError('validation_error', 'image: a data URL must be base64 (`data:image/png;base64,…`)');
    }
    payload = text.slice(header[0].length);
  }
  payload = payload.replace(/\s+/g, '');
  if (payload.length % 4 !== 0 || !BASE64.test(payload)) {
    throw new AppError('validation_error', 'image must be a base64 data URL or base64 text');
  }
  const padding = payload.endsWith('==') ? 2 : payload.endsWith('=') ? 1 : 0;
  if ((payload.length / 4) * 3 - padding > maxBytes) throw imageTooLarge(maxBytes);
  return Buffer.from(payload, 'base64');
}

/** A data URL of the image, with the type read from its content. */
export function imageDataUrl(image: SniffedImage): string {
  return `data:${image.type};base64,${image.bytes.toString('base64')}`;
}
