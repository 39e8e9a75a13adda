import type { IncomingMessage } from 'node:http';

export const REDACTED = '[redacted]';

/**
 * Which header and query parameter names carry secrets. A name is cut into words (at anything but a
 * letter or digit, and where lower case turns to upper: `x-goog-api-key`, `apiKey`, `X-Amz-Signature`),
 * and it is secret when one of its words
 *   - contains `secret`, `passw`, `passphrase`, `cookie`, `session`, `signature` or `credential`;
 *   - contains `auth` (authorization, oauth, x-auth-token), except the words author, authored,
 *     authority… (`auth` followed by `or` that is not `oriz`/`oris`);
 *   - ends with `token` (access_token, x-csrf-token; `max_tokens` is a count, kept) or with `key`/`keys`
 *     (api_key, apikey, x-goog-api-key, subscription-key; `keyword` is kept);
 *   - is exactly `sig`, `pass` or `pwd` (Azure's `sig=`; `signal`, `design`, `bypass` are kept).
 * It errs on the side of masking: an `idempotency-key` or a `monkey` parameter is masked too.
 */
const SECRET_WORD =
  /secret|passw|passphrase|cookie|session|signature|credential|auth(?!or(?!i[sz]))|token$|keys?$|^(sig|pass|pwd)$/;

/** The lower-case words of a name. */
function wordsOf(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

export function isSecretName(name: string): boolean {
  return wordsOf(name).some((word) => SECRET_WORD.test(word));
}

/** Paths for pino's redact: a second line of defence for objects logged by hand. */
export const REDACT_PATHS: string[] = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.new_password',
  '*.refresh_token',
  '*.access_token',
  '*.token',
  '*.key',
  '*.secret',
  '*.api_key',
  '*.authorization',
  'err.parameters',
  'err.driverError',
];

export function redactHeaders(headers: IncomingMessage['headers']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = isSecretName(name) ? REDACTED : value;
  }
  return out;
}

/** Masks the values of query parameters whose names are secret (`?api_key=…`, `?sig=…`). */
export function redactUrl(url: string | undefined): string | undefined {
  if (url === undefined) return url;
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = decodeSafe(eq < 0 ? pair : pair.slice(0, eq));
      return eq >= 0 && isSecretName(name) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The parts of a request that its log line shows. */
interface SerializedMessage {
  id?: unknown;
  method?: string;
  url?: string;
  headers?: IncomingMessage['headers'];
  remoteAddress?: string;
}

export function serializeRequest(req: SerializedMessage): Record<string, unknown> {
  return {
    id: req.id,
    method: req.method,
    url: redactUrl(req.url),
    headers: redactHeaders(req.headers ?? {}),
    remoteAddress: req.remoteAddress,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * Errors are logged with their type, message, code and stack only — never attached
 * payloads (query parameters, driver errors, request configs). Works on Error
 * instances and on plain objects alike.
 */
export function serializeError(err: unknown, depth = 0): Record<string, unknown> {
  if (!isObject(err)) return { message: String(err) };
  const out: Record<string, unknown> = {};
  const type = err.type ?? err.name ?? (err instanceof Error ? err.constructor.name : undefined);
  if (typeof type === 'string') out.type = type;
  if (typeof err.message === 'string') out.message = err.message;
  if (typeof err.code === 'string' || typeof err.code === 'number') out.code = err.code;
  if (typeof err.stack === 'string') out.stack = err.stack;
  if (err.cause !== undefined && depth < 3) out.cause = serializeError(err.cause, depth + 1);
  return out;
}
