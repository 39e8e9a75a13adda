/**
 * Stable error codes, each mapped to one HTTP status. Clients branch on `error`,
 * never on the message.
 */
export const ERROR_STATUS = {
  bad_request: 400,
  validation_failed: 400,
  /** The Production API's spelling of a refused input (its prompt and image limits). */
  validation_error: 400,
  malformed_json: 400,
  unauthorized: 401,
  invalid_credentials: 401,
  invalid_token: 401,
  token_expired: 401,
  budget_exceeded: 402,
  forbidden: 403,
  not_found: 404,
  model_not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable_entity: 422,
  rate_limited: 429,
  headers_too_large: 431,
  internal_error: 500,
  upstream_error: 502,
  upstream_auth_failed: 502,
  service_unavailable: 503,
  no_providers: 503,
  upstream_timeout: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorBody {
  error: ErrorCode;
  message: string;
  request_id: string;
  details?: unknown;
}

/** The answer to an error: status, envelope body (without request_id) and headers. */
export interface ErrorAnswer {
  status: number;
  body: Omit<ErrorBody, 'request_id'>;
  headers: Record<string, string>;
}

/**
 * The one exception type of Conflux. `details` is shown to the client, so it must
 * never carry secrets; internals belong in `cause`, which is only logged.
 */
export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly options: { details?: unknown; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.status = ERROR_STATUS[code];
  }

  get details(): unknown {
    return this.options.details;
  }

  get headers(): Record<string, string> {
    return this.options.headers ?? {};
  }

  static notFound(what: string): AppError {
    return new AppError('not_found', `${what} not found`);
  }

  static forbidden(message = 'You do not have access to this resource'): AppError {
    return new AppError('forbidden', message);
  }

  static unauthorized(message = 'Authentication required'): AppError {
    return new AppError('unauthorized', message);
  }
}

/** Maps a bare HTTP status (from Nest or Express internals) to our code. */
export function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
      return 'unauthorized';
    case 402:
      return 'budget_exceeded';
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 408:
      return 'request_timeout';
    case 409:
      return 'conflict';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 422:
      return 'unprocessable_entity';
    case 429:
      return 'rate_limited';
    case 431:
      return 'headers_too_large';
    case 502:
      return 'upstream_error';
    case 503:
      return 'service_unavailable';
    case 504:
      return 'upstream_timeout';
    default:
      return status >= 500 ? 'internal_error' : 'bad_request';
  }
}
