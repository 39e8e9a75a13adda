import type { ErrorAnswer } from './app-error';

/** The error bodies of the compatible APIs, which their official clients parse. */
export type ErrorDialect = 'openai' | 'anthropic' | 'kserve';

/** OpenAI's error `type` for an answer: what its SDKs and docs show next to our code. */
function openAiType({ status, body }: ErrorAnswer): string {
  if (body.error === 'budget_exceeded') return 'insufficient_quota';
  switch (status) {
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 429:
      return 'rate_limit_error';
    default:
      return status >= 500 ? 'server_error' : 'invalid_request_error';
  }
}

/** Anthropic's error types by status; any other 4xx is `invalid_request_error`, any other 5xx `api_error`. */
const ANTHROPIC_TYPES: Record<number, string> = {
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  503: 'overloaded_error',
};

/** The field an error's details name when they name exactly one, else null. */
function fieldOf(body: ErrorAnswer['body']): string | null {
  if (!Array.isArray(body.details) || body.details.length !== 1) return null;
  const field = (body.details[0] as { field?: unknown }).field;
  return typeof field === 'string' ? field : null;
}

/** OpenAI's `param`: the field a validation failure names when it names exactly one, else null. */
function paramOf(body: ErrorAnswer['body']): string | null {
  return body.error === 'validation_failed' ? fieldOf(body) : null;
}

/** `details` stays a top-level member, as `request_id` does: the SDKs ignore it, our clients may read it. */
function withDetails(shaped: Record<string, unknown>, body: ErrorAnswer['body']): Record<string, unknown> {
  return body.details === undefined ? shaped : { ...shaped, details: body.details };
}

/**
 * The body of an error in a dialect: OpenAI's `{error: {message, type, param, code}}` with our code in
 * `code`; Anthropic's `{type: "error", error: {type, message}}`; or KServe's time-series
 * `{error: {code, message, param, type}}`, whose reference server puts the HTTP status in `code` (as a
 * string) and the kind of error in `type`: there, our code. Status and headers stay ours.
 */
export const DIALECT_SHAPES: Record<ErrorDialect, (answer: ErrorAnswer) => Record<string, unknown>> = {
  openai: (answer) =>
    withDetails(
      {
        error: {
          message: answer.body.message,
          type: openAiType(answer),
          param: paramOf(answer.body),
          code: answer.body.error,
        },
      },
      answer.body,
    ),
  anthropic: (answer) =>
    withDetails(
      {
        type: 'error',
        error: {
          type: ANTHROPIC_TYPES[answer.status] ?? (answer.status >= 500 ? 'api_error' : 'invalid_request_error'),
          message: answer.body.message,
        },
      },
      answer.body,
    ),
  kserve: (answer) =>
    withDetails(
      {
        error: {
          code: String(answer.status),
          message: answer.body.message,
          param: fieldOf(answer.body),
          type: answer.body.error,
        },
      },
      answer.body,
    ),
};

/**
 * The routes declared with @NativeErrors, by path. A request can fail before Nest has matched its route
 * (body parsing runs first, in Express), and then only its path tells its dialect: keep this list in
 * step with the decorators.
 */
const DIALECT_OF_PATH = new Map<string, ErrorDialect>([
  ['/v1/chat/completions', 'openai'],
  ['/v1/embeddings', 'openai'],
  ['/v1/models', 'openai'],
  ['/v1/responses', 'openai'],
  ['/v1/messages', 'anthropic'],
  ['/v1/messages/count_tokens', 'anthropic'],
  ['/v1/timeseries/forecast', 'kserve'],
]);

/** Routes of a dialect with a path parameter, by their fixed start. */
const DIALECT_OF_PREFIX: readonly [string, ErrorDialect][] = [['/v1/models/', 'openai']];

/** The dialect of a request path, matched as Express matches routes (any case, optional trailing slash). */
export function dialectOfPath(path: string): ErrorDialect | undefined {
  const key = path.toLowerCase().replace(/(.)\/$/, '$1');
  return DIALECT_OF_PATH.get(key) ?? DIALECT_OF_PREFIX.find(([prefix]) => key.startsWith(prefix))?.[1];
}
