import type { ContentPart } from '../dto/chat';
import { classOfStatus } from '../../common/upstream/http-errors';
import { UpstreamError, type UpstreamErrorClass } from '../../common/upstream/upstream-error';

/** Small, pure helpers the mappers share to read untrusted JSON without `any`. */

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function malformed(what: string): UpstreamError {
  return new UpstreamError('malformed', `unexpected upstream payload: ${what}`);
}

export function objectAt(value: unknown, what: string): JsonObject {
  if (!isObject(value)) throw malformed(`${what} is not an object`);
  return value;
}

export function arrayAt(value: unknown, what: string): unknown[] {
  if (!Array.isArray(value)) throw malformed(`${what} is not a list`);
  return value;
}

export function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A token count: a finite, non-negative integer, or undefined. */
export function optionalCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined;
}

/** A count the upstream reported; zero is left out like an absent one (a usage detail that did not occur). */
export function positiveCount(value: unknown): number | undefined {
  const count = optionalCount(value);
  return count ? count : undefined;
}

export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw malformed(`${what} is not valid JSON`);
  }
}

/** A list of finite numbers (one embedding vector). */
export function vectorAt(value: unknown, what: string): number[] {
  const list = arrayAt(value, what);
  if (!list.every((n) => typeof n === 'number' && Number.isFinite(n))) throw malformed(`${what} holds non-numbers`);
  return list as number[];
}

/** `data:image/png;base64,AAAA` → its media type and base64 payload. */
export function parseDataUrl(url: string): { mediaType: string; data: string } | undefined {
  const match = /^data:([a-z0-9.+-]+\/[a-z0-9.+-]+)(?:;[a-z0-9-]+=[^;,]*)*;base64,([A-Za-z0-9+/=\s]*)$/i.exec(url);
  if (!match) return undefined;
  return { mediaType: match[1].toLowerCase(), data: match[2].replace(/\s+/g, '') };
}

/** The text of a message: a string as is, or its text parts joined. */
export function textOf(content: string | ContentPart[] | null, separator = '\n'): string {
  if (content === null) return '';
  if (typeof content === 'string') return content;
  return content
    .filter((part): part is Extract<ContentPart, { type: 'text' }> => part.type === 'text')
    .map((part) => part.text)
    .join(separator);
}

/**
 * A request we refuse before sending it (the caller's mistake, like an upstream 4xx):
 * never retried, never counted against the instance.
 */
export function invalidRequest(message: string): UpstreamError {
  return new UpstreamError('http_4xx', message);
}

/** OpenAI's `reasoning_effort` values, which kinds without the parameter translate. */
export const REASONING_EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh'] as const;
export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];

/** A request's reasoning effort for a kind that translates it; an unknown one is refused. */
export function reasoningEffortOf(effort: string | undefined): ReasoningEffort | undefined {
  if (effort === undefined || (REASONING_EFFORTS as readonly string[]).includes(effort)) {
    return effort as ReasoningEffort | undefined;
  }
  throw invalidRequest(`reasoning_effort ${effort} is not one of ${REASONING_EFFORTS.join(', ')}`);
}

/** The error class of an error reported inside a 200 stream, from the status it stands for. */
export function classForStatus(status: number | undefined): UpstreamErrorClass {
  // Without an error status, the upstream failed on its side.
  return status === undefined || status < 400 ? 'http_5xx' : classOfStatus(status);
}
