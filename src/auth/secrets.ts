import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const API_KEY_TAG = 'cfx_';
const PREFIX_ID_LENGTH = 12;
/** `cfx_` + 12 base62 characters: what is shown and looked up. */
export const API_KEY_PREFIX_LENGTH = API_KEY_TAG.length + PREFIX_ID_LENGTH;
const API_KEY_PATTERN = /^cfx_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$/;

export function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function hashesEqual(aHex: string, bHex: string): boolean {
  const a = Buffer.from(aHex, 'hex');
  const b = Buffer.from(bHex, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

function base62(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += BASE62[randomInt(BASE62.length)];
  return out;
}

export interface GeneratedApiKey {
  /** The whole key, shown to its owner once. */
  key: string;
  /** The part that is stored in clear and shown in listings. */
  prefix: string;
  /** SHA-256 of the whole key: what is stored. */
  hash: string;
}

/** A new API key: a visible prefix and 256 bits of secret. */
export function generateApiKey(): GeneratedApiKey {
  const prefix = `${API_KEY_TAG}${base62(PREFIX_ID_LENGTH)}`;
  const key = `${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: sha256Hex(key) };
}

export function looksLikeApiKey(value: string): boolean {
  return value.startsWith(API_KEY_TAG);
}

/** Splits a presented key into its lookup prefix, or null when it is not well formed. */
export function parseApiKey(value: string): { prefix: string; hash: string } | null {
  if (!API_KEY_PATTERN.test(value)) return null;
  return { prefix: value.slice(0, API_KEY_PREFIX_LENGTH), hash: sha256Hex(value) };
}

/** A new opaque refresh token (256 bits) and the hash that is stored. */
export function generateRefreshToken(): { token: string; hash: string } {
  const token = `cfr_${randomBytes(32).toString('base64url')}`;
  return { token, hash: sha256Hex(token) };
}
