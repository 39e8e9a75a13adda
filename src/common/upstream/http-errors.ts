import type { IncomingHttpHeaders } from 'node:http';
import { UpstreamError, type UpstreamErrorClass } from './upstream-error';

const MAX_MESSAGE_CHARS = 500;

export function classOfStatus(status: number): UpstreamErrorClass {
  if (status === 429) return 'http_429';
  if (status === 401 || status === 403) return 'auth_failed';
  if (status >= 500) return 'http_5xx';
  if (status >= 400) return 'http_4xx';
  return 'malformed'; // 1xx/3xx: nothing we can use
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * How long the upstream asks us to wait: `retry-after-ms` (OpenAI and others), else `Retry-After`
 * as delay-seconds or an HTTP date. Undefined when absent or unreadable.
 */
export function parseRetryAfter(headers: IncomingHttpHeaders, now: number = Date.now()): number | undefined {
  const ms = header(headers, 'retry-after-ms')?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Math.ceil(Number(ms));
  const value = header(headers, 'retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const TOKEN_PATTERNS = [/\bsk-[A-Za-z0-9_*.-]{6,}/g, /\bBearer\s+[A-Za-z0-9._~+/=*-]+/gi];

/**
 * An upstream's message made safe to log and to show: our secrets (and anything shaped like an
 * API key) removed, control characters dropped, length bounded.
 */
export function sanitizeMessage(message: string, secrets: readonly string[]): string {
  let text = message;
  for (const secret of secrets) if (secret) text = text.split(secret).join('[redacted]');
  for (const pattern of TOKEN_PATTERNS) text = text.replace(pattern, '[redacted]');
  // eslint-disable-next-line no-control-regex
  text = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS)}…` : text;
}

/** The UpstreamError for a non-2xx answer; `subject` names the far side when it gave no message. */
export function httpError(
  status: number,
  headers: IncomingHttpHeaders,
  upstreamMessage: string | undefined,
  secrets: readonly string[],
  subject: string,
): UpstreamError {
  const errorClass = classOfStatus(status);
  const message = sanitizeMessage(upstreamMessage || `${subject} answered HTTP ${status}`, secrets);
  const retryAfterMs = errorClass === 'http_429' || status === 503 ? parseRetryAfter(headers) : undefined;
  return new UpstreamError(errorClass, message, { status, retryAfterMs });
}
